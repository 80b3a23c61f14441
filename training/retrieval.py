"""Retrieval quality: does search put the precedents that matter on top?

Queries are the facts of later cases, candidates the earlier cases in the same index (a year
filter hides the rest). Relevance is graded (0, 1, 2) from what the decisions ruled on, which
search never sees, by each data set's own rule (``DatasetSpec.relevance``: ECHR shared
article rulings, SCOTUS issue area and winner, Russian proceeding and sanction).

Reported per mode: nDCG@10 (graded) and recall@100 (share of the relevant candidates found),
beside the reference a judge would pick instead of casecast: BM25 over the candidates' whole
texts (not the index's passages), with every mode's nDCG@10 as a ratio to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import mlflow
import numpy as np

from data.datasets import get_dataset, load_corpus
from data.schema import Corpus, DecidedCase
from models.precedents import MODES, PrecedentIndex, SearchFilters
from models.precedents.files import keyword_engine, query_tokens
from models.registry import ensure_experiment
from models.settings import CasecastSettings
from training.progress import console, progress_bar

NDCG_AT, RECALL_AT = 10, 100
REFERENCE = "reference_bm25"  # BM25 over the candidates' whole texts


class WholeTextBM25:
    """The keyword engine a court would run: BM25 over each candidate's whole text, with the
    index's tokenisation and stop words."""

    def __init__(self, texts: Sequence[str], language: str) -> None:
        self.language = language
        self.engine = keyword_engine(texts, language)

    def rank(self, query: str, k: int) -> np.ndarray:
        """Positions of the ``k`` best-scoring texts that share a word with the query."""
        scores = np.asarray(self.engine.get_scores(query_tokens(query, self.language)))
        found = np.flatnonzero(scores > 0)
        return found[np.argsort(-scores[found], kind="stable")[:k]]


def ndcg(grades_in_rank_order: list[int], all_grades: list[int], at: int) -> float:
    def dcg(grades: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:at]))

    ideal = dcg(sorted(all_grades, reverse=True))
    return dcg(grades_in_rank_order) / ideal if ideal > 0 else 0.0


def evaluate_retrieval(
    dataset: str,
    settings: CasecastSettings,
    queries_from: int | None = None,
    n_queries: int = 200,
    limit_per_split: int | None = None,
    log_run: bool = True,
) -> dict[str, dict[str, Any]]:
    """nDCG@10 and recall@100 of each search mode on the current index of ``dataset``."""
    spec = get_dataset(dataset)
    corpus = load_corpus(spec.name, settings, limit_per_split)
    index = PrecedentIndex.load(settings.index_dir, spec.name, settings.embedding_cache_dir)
    grade = spec.relevance
    if grade is None:
        raise ValueError(f"{spec.name} has no relevance rule to evaluate retrieval with")
    queries_from = queries_from or _latest_year_with_enough_queries(corpus, n_queries)
    judged = {
        r.case_id: DecidedCase(r, o) for r, o in zip(corpus.records, corpus.outcomes, strict=True)
    }
    candidates = [
        judged[c.case_id]
        for c in index.cases
        if c.case_id in judged and c.year is not None and c.year < queries_from
    ]
    queries = [
        j
        for j in judged.values()
        if (j.record.decision_year or 0) >= queries_from
        and any(grade(j, c) for c in candidates[:: max(1, len(candidates) // 500)] or candidates)
    ]
    rng = np.random.default_rng(0)
    if len(queries) > n_queries:
        queries = [queries[i] for i in sorted(rng.choice(len(queries), n_queries, replace=False))]
    if not queries or not candidates:
        raise ValueError(f"no queries from {queries_from} on, or no earlier cases to find")

    filters = SearchFilters(year_max=queries_from - 1)
    console.print(f"reference: BM25 over the whole texts of {len(candidates):,} candidates")
    reference = WholeTextBM25([c.record.text for c in candidates], spec.language)
    candidate_ids = [c.record.case_id for c in candidates]
    totals: dict[str, dict[str, list[float]]] = {
        m: {"ndcg": [], "recall": []} for m in (*MODES, REFERENCE)
    }
    with progress_bar("retrieval queries", total=len(queries)) as (advance, _):
        for query in queries:
            grades = {c.record.case_id: grade(query, c) for c in candidates}
            relevant = {case_id for case_id, g in grades.items() if g > 0}
            vectors = index.embed_query(query.record.paragraphs)
            rankings = {
                mode: [h.case.case_id for h in index.search(
                    vectors, query.record.text, k=RECALL_AT, filters=filters, mode=mode
                )]
                for mode in MODES
            }  # fmt: skip
            rankings[REFERENCE] = [
                candidate_ids[i] for i in reference.rank(query.record.text, RECALL_AT)
            ]
            for mode, ranked_ids in rankings.items():
                ranked = [grades.get(case_id, 0) for case_id in ranked_ids]
                totals[mode]["ndcg"].append(ndcg(ranked, list(grades.values()), NDCG_AT))
                found = set(ranked_ids) & relevant
                totals[mode]["recall"].append(len(found) / len(relevant) if relevant else 0.0)
            advance(1)

    report = {
        mode: {
            "ndcg_at_10": float(np.mean(values["ndcg"])),
            "recall_at_100": float(np.mean(values["recall"])),
            "n_queries": len(queries),
            "n_candidates": len(candidates),
            "queries_from": queries_from,
        }
        for mode, values in totals.items()
    }
    baseline = report[REFERENCE]["ndcg_at_10"]
    for mode in MODES:
        report[mode]["ndcg_vs_reference"] = (
            report[mode]["ndcg_at_10"] / baseline if baseline else None
        )
    if log_run:
        _log(spec.name, settings, report, index.manifest.version)
    return report


def _latest_year_with_enough_queries(corpus: Corpus, wanted: int) -> int:
    """The latest year such that the cases from it on number at least ``wanted``."""
    years = sorted((r.decision_year for r in corpus.records if r.decision_year), reverse=True)
    return years[min(wanted, len(years)) - 1]


def _log(dataset: str, settings: CasecastSettings, report: dict[str, dict[str, Any]],
         index_version: str) -> None:  # fmt: skip
    experiment_id = ensure_experiment(f"casecast-{dataset}", settings)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"evaluate-retrieval-{dataset}"):
        mlflow.set_tags({"stage": "evaluate-retrieval", "index_version": index_version})
        first = next(iter(report.values()))
        mlflow.log_params({k: first[k] for k in ("n_queries", "n_candidates", "queries_from")})
        for mode, figures in report.items():
            mlflow.log_metrics({f"{mode}_ndcg_at_10": figures["ndcg_at_10"],
                                f"{mode}_recall_at_100": figures["recall_at_100"]})  # fmt: skip
        for mode, figures in report.items():
            if figures.get("ndcg_vs_reference") is not None:
                mlflow.log_metric(f"{mode}_ndcg_vs_reference", figures["ndcg_vs_reference"])
        mlflow.log_dict(report, "retrieval/metrics.json")
