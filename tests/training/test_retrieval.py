import json

import pytest
from typer.testing import CliRunner

from data.echr import relevance as echr_grade
from data.schema import CaseOutcome, CaseRecord, DecidedCase
from training.cli import app
from training.retrieval import ndcg


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
    assert set(report) == {"semantic", "keyword", "hybrid"}
    for figures in report.values():
        assert 0.0 <= figures["ndcg_at_10"] <= 1.0 and 0.0 <= figures["recall_at_100"] <= 1.0
        assert figures["n_queries"] == 8
    assert report["semantic"] != report["keyword"]
