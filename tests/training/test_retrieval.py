import json

import pytest
from typer.testing import CliRunner

from casecast.data.datasets import shared_articles as echr_grade
from casecast.data.schema import CaseOutcome, CaseRecord, DecidedCase
from casecast.training.cli import app
from casecast.training.retrieval import ndcg


def _case(violated=(), non_violated=()) -> DecidedCase:
    record = CaseRecord("x", "echr", "ECtHR", None, 2010, (), "t", ("facts",))
    return DecidedCase(record, CaseOutcome("x", "v", tuple(violated), tuple(non_violated)))


def test_echr_grades_follow_shared_rulings():
    query = _case(violated=["6"], non_violated=["8"])
    assert echr_grade(query, _case(violated=["6"])) == 2  # same article, same finding
    assert echr_grade(query, _case(non_violated=["6"])) == 1  # same article, other finding
    assert echr_grade(query, _case(non_violated=["8", "3"])) == 2
    assert echr_grade(query, _case(violated=["3"])) == 0
    assert echr_grade(query, _case()) == 0


def test_ndcg_is_one_for_the_ideal_order_and_lower_otherwise():
    grades = [2, 1, 0, 0]
    assert ndcg([2, 1, 0], grades, 10) == pytest.approx(1.0)
    assert ndcg([0, 1, 2], grades, 10) < ndcg([1, 2, 0], grades, 10) < 1.0
    assert ndcg([0, 0], [0, 0], 10) == 0.0


def test_evaluate_retrieval_prints_every_mode(trained_home, echr_dir, embedding_cache, monkeypatch):
    monkeypatch.setenv("CASECAST_HOME", str(trained_home))
    monkeypatch.setenv("CASECAST_DATA_DIR", str(echr_dir.parent))
    monkeypatch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
    result = CliRunner().invoke(
        app, ["evaluate-retrieval", "--limit", "150", "--n-queries", "8", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) == {"semantic", "keyword", "hybrid", "reference_bm25"}
    for figures in report.values():
        assert 0.0 <= figures["ndcg_at_10"] <= 1.0 and 0.0 <= figures["recall_at_100"] <= 1.0
        assert figures["n_queries"] == 8
    assert report["semantic"] != report["keyword"]
    # Every mode beside BM25 over the candidates' whole texts, the reference a judge knows.
    reference = report["reference_bm25"]["ndcg_at_10"]
    assert reference > 0 and "ndcg_vs_reference" not in report["reference_bm25"]
    for mode in ("semantic", "keyword", "hybrid"):
        ratio = report[mode]["ndcg_vs_reference"]
        assert ratio == pytest.approx(report[mode]["ndcg_at_10"] / reference)
    # The index's keyword mode reads two passages per case, the reference whole texts.
    assert report["keyword"]["ndcg_at_10"] != reference


def test_the_reference_ranks_whole_texts_by_bm25():
    from casecast.training.retrieval import WholeTextBM25

    texts = [
        "The applicant complained about the length of the civil proceedings in his case.",
        "The applicant was detained on remand; the detention was extended several times.",
        "The tax authorities froze the company's bank accounts.",
    ]
    reference = WholeTextBM25(texts, "en")
    assert list(reference.rank("length of civil proceedings", 3)) == [0]
    assert reference.rank("detention on remand extended", 3)[0] == 1
    assert len(reference.rank("unrelated words entirely", 3)) == 0


def test_a_ranker_is_graded_only_on_years_it_never_learned_from(
    fused_index_root, fusion_corpus, embedding_cache
):
    from casecast.data.datasets import get_dataset
    from casecast.models.precedents import PrecedentIndex
    from casecast.training.retrieval import HYBRID_RRF, retrieval_report

    index = PrecedentIndex.load(fused_index_root, "echr", embedding_cache)
    assert index.fusion_info["query_years"] == [2011, 2012]
    spec = get_dataset("echr")
    later = retrieval_report(index, fusion_corpus, spec, queries_from=2013, n_queries=10)
    assert later["hybrid"]["fusion"] == "lambdarank"
    # Rank fusion beside it, on the same queries, against the same reference.
    assert later[HYBRID_RRF]["n_queries"] == later["hybrid"]["n_queries"] > 0
    assert later[HYBRID_RRF]["ndcg_vs_reference"] == pytest.approx(
        later[HYBRID_RRF]["ndcg_at_10"] / later["reference_bm25"]["ndcg_at_10"]
    )
    # Queries from 2012 on include ones it learned from: hybrid is graded by RRF there.
    seen = retrieval_report(index, fusion_corpus, spec, queries_from=2012, n_queries=10)
    assert seen["hybrid"]["fusion"] == "rrf" and HYBRID_RRF not in seen
