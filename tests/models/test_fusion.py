"""Hybrid search's learned fusion: fitted by the build on earlier years' queries of real ECHR
cases, served by the index, RRF where none could be fitted."""

import json
from pathlib import Path

import numpy as np
import pytest

from casecast.data.datasets import shared_articles as echr_relevance
from casecast.data.schema import DecidedCase
from casecast.features.chunking import ParagraphChunker
from casecast.features.embedding import SentenceEmbedder
from casecast.models.precedents import (
    IndexUnavailableError,
    PrecedentIndex,
    SearchFilters,
    build_index,
    fusion,
    fusion_training,
)
from casecast.models.precedents.scoring import case_top_scores
from casecast.training.retrieval import ndcg
from tests.conftest import FUSION_HELD_OUT_FROM as HELD_OUT_FROM
from tests.conftest import FUSION_TRAINING as TRAINING


@pytest.fixture(scope="module")
def corpus(fusion_corpus):
    return fusion_corpus


@pytest.fixture(scope="module")
def parts(embedding_cache):
    return SentenceEmbedder(cache_dir=embedding_cache).fit(), ParagraphChunker(128, 16).fit()


@pytest.fixture(scope="module")
def fused_root(fused_index_root) -> Path:
    return fused_index_root


@pytest.fixture(scope="module")
def fused(fused_root, embedding_cache) -> PrecedentIndex:
    return PrecedentIndex.load(fused_root, "echr", embedding_cache)


def _training_queries(index: PrecedentIndex, corpus) -> list[DecidedCase]:
    first = HELD_OUT_FROM - TRAINING.years
    judged, candidates = fusion_training.judged_before(index, corpus, first)
    return fusion_training.temporal_queries(
        judged.values(), candidates, (first, HELD_OUT_FROM - 1), echr_relevance,
        TRAINING.max_queries,
    )  # fmt: skip


def test_the_build_fits_a_ranker_on_earlier_years_only(fused, corpus):
    assert fused.manifest.fusion == "lambdarank" and fused.stored.fusion is not None
    info = fused.fusion_info
    assert info["query_years"] == [2011, 2012] and info["candidates_before"] == 2011
    assert 20 <= info["n_queries"] <= 30
    assert info["features"] == list(fusion.FEATURES)
    # The queries it learned from are decisions of those years, none from the held-out ones.
    queries = _training_queries(fused, corpus)
    assert len(queries) == info["n_queries"]
    assert all(2011 <= q.record.decision_year <= 2012 for q in queries)


def test_the_ranker_orders_its_training_queries_better_than_rrf(fused, corpus):
    """It learned from the grades: on the queries it was fitted to, the learned order beats
    rank fusion of the same two rankings (out of sample is the evaluation's job)."""
    filters = SearchFilters(year_max=HELD_OUT_FROM - TRAINING.years - 1)
    learned, fused_by_rank, differs = [], [], 0
    judged = {r.case_id: (r, o) for r, o in zip(corpus.records, corpus.outcomes, strict=True)}
    for query in _training_queries(fused, corpus):
        vectors = fused.embed_query(query.record.paragraphs)
        rankings = [
            [h.case.case_id for h in fused.search(vectors, query.record.text, 10, filters,
                                                  learned_fusion=flag)]
            for flag in (True, False)
        ]  # fmt: skip
        differs += rankings[0] != rankings[1]
        candidates = [DecidedCase(*judged[c.case_id]) for c in fused.cases
                      if c.year is not None and c.year < 2011]  # fmt: skip
        grades = {c.record.case_id: echr_relevance(query, c) for c in candidates}
        for ranking, scores in zip(rankings, (learned, fused_by_rank), strict=True):
            scores.append(ndcg([grades[i] for i in ranking], list(grades.values()), 10))
    assert differs >= len(learned) // 2
    assert np.mean(learned) > np.mean(fused_by_rank) + 0.02


def test_learned_hits_rank_the_pool_first_and_keep_filters(fused, corpus):
    record = max(corpus.records, key=lambda r: r.decision_year or 0)
    hits = fused.search_text(record.paragraphs, k=20, filters=SearchFilters(year_max=2010))
    assert len(hits) == 20 and all(h.case.year <= 2010 for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] >= 1.0  # pool scores >= 1
    # A query without a word the index knows has no keyword ranking: RRF of meaning alone.
    assert fused.search_text("zzqx", k=3, mode="hybrid")[0].score < 1.0
    # A query of one passage (a claimant's account) is unlike the whole cases the ranker
    # learned from: RRF ranks it.
    assert fused.fusion_info["min_query_passages"] >= 2
    paragraph = max(record.paragraphs, key=len)[:400]
    assert len(fused.embed_query([paragraph])) == 1
    hits = fused.search_text(paragraph, k=5)
    assert hits and all(h.score < 1.0 for h in hits)


def test_a_ranker_not_clearly_better_than_rrf_on_its_validation_year_is_not_kept(
    tmp_path, corpus, parts
):
    """Fitted on 2011's queries and tried on 2012's, a ranker from so few queries cannot
    beat rank fusion by two standard errors of the paired gain: the index keeps RRF and
    says why."""
    import dataclasses

    strict = dataclasses.replace(TRAINING, validation_ses=fusion_training.VALIDATION_SES)
    manifest = build_index(corpus, *parts, max_chunks_per_case=2, root=tmp_path, fusion=strict)
    folder = manifest.directory(tmp_path)
    assert manifest.fusion == "rrf" and not (folder / fusion.RANKER_FILE).exists()
    checked = json.loads((folder / fusion.RANKER_INFO).read_text())["validation"]
    assert checked["year"] == 2012 and checked["n_fit"] + checked["n_validation"] <= 30
    assert min(checked["n_fit"], checked["n_validation"]) >= 2
    gain = checked["learned_ndcg"] - checked["rrf_ndcg"]
    assert not checked["clearly_better"] and gain <= 2 * checked["gain_standard_error"] + 1e-4
    assert PrecedentIndex.load(tmp_path, "echr").stored.fusion is None


def test_too_few_earlier_queries_leave_rrf(tmp_path, corpus, parts, fused):
    few = fusion_training.FusionTraining(echr_relevance, HELD_OUT_FROM, min_queries=10_000)
    manifest = build_index(corpus, *parts, max_chunks_per_case=2, root=tmp_path, fusion=few)
    plain = PrecedentIndex.load(tmp_path, "echr")
    assert manifest.fusion is None and plain.stored.fusion is None
    assert not (manifest.directory(tmp_path) / fusion.RANKER_FILE).exists()
    record = corpus.records[3]
    vectors = plain.embed_query(record.paragraphs)
    by_rank = fused.search(vectors, record.text, 10, learned_fusion=False)
    assert [h.case.case_id for h in plain.search(vectors, record.text, 10)] == [
        h.case.case_id for h in by_rank
    ]


def test_an_unreadable_ranker_makes_the_index_unusable_with_a_message(fused_root, tmp_path):
    import shutil

    version = (fused_root / "echr" / "CURRENT").read_text().strip()
    copy = tmp_path / "echr" / version
    shutil.copytree(fused_root / "echr" / version, copy)
    (copy / fusion.RANKER_FILE).write_text("not a model")
    with pytest.raises(IndexUnavailableError, match="fusion ranker"):
        PrecedentIndex(copy)
    info = json.loads((copy / fusion.RANKER_INFO).read_text())
    assert info["kind"] == "lambdarank"


def test_fusion_features_pool_by_rrf_and_scale_words_to_the_best():
    allowed = np.array([True, True, True, False, True])
    semantic = np.array([0.9, 0.5, 0.7, 0.99, -np.inf])
    keyword = np.array([2.0, 8.0, -np.inf, 9.0, 4.0])
    signals = {name: semantic if name != "keyword" and not name.startswith("keyword") else
               keyword for name in fusion.SIGNALS}  # fmt: skip
    years = np.array([2001, 2005, 2003, 2010, -1])
    features, pool, rrf = fusion.fusion_features(signals, allowed, years, np.ones(5), 3)
    assert not np.isfinite(rrf[3])  # filtered out
    assert list(pool) == [0, 1, 2]  # 0 and 1 are in both rankings, 2 is the best other
    column = dict(zip(fusion.FEATURES, features.T, strict=True))
    assert list(column["keyword"]) == [0.25, 1.0, 0.0]  # share of the allowed best (8)
    assert list(column["semantic_rank"]) == [1, 3, 2]
    assert list(column["years_before_newest"]) == [4, 0, 2]  # the newest allowed is 2005


def test_case_top_scores_agree_with_a_per_case_reading():
    rng = np.random.default_rng(0)
    chunk_case = np.sort(rng.integers(0, 30, 400))
    scores = rng.normal(size=400)
    scores[rng.random(400) < 0.5] = -np.inf
    best, weighted = case_top_scores(scores, chunk_case, 32, 3)
    for case in range(32):
        mine = np.sort(scores[(chunk_case == case) & np.isfinite(scores)])[::-1][:3]
        if not len(mine):
            assert best[case] == weighted[case] == -np.inf
            continue
        weights = 0.25 ** np.arange(len(mine))
        assert best[case] == mine[0]
        assert weighted[case] == pytest.approx((weights * mine).sum() / weights.sum())
