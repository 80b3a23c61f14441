"""Retrieval quality: does search put the precedents that matter on top?

Queries are the facts of later cases, candidates the earlier cases in the same index (a year
filter hides the rest). Relevance is graded (0, 1, 2) from what the decisions ruled on, which
search never sees, by each data set's own rule (``DatasetSpec.relevance``: ECHR shared
article rulings, SCOTUS issue area and winner, Russian proceeding and sanction).

Reported per mode: nDCG@10 (graded) and recall@100 (share of the relevant candidates found),
beside the reference a judge would pick instead of casecast: BM25 over the candidates' whole
texts (not the index's passages), with every mode's nDCG@10 as a ratio to it. Each mean comes
with its standard error over the queries, and each ratio with the standard error of the
paired per-query difference it rests on (``*_se``): a few hundred queries, or forty written
ones, tell apart only differences of a few of them. Where the
index's hybrid search has a learned fusion ranker, ``hybrid_rrf`` reports rank fusion beside
it; a ranker that learned from any of the queries' years is not used (hybrid then ranks by
RRF), so the figures never grade it on what it was fitted to.

A data set with hand-written queries (``DatasetSpec.written_queries``: one situation told in
several languages, and the decisions it describes) is also scored on those, per query
language and mode, over the whole index: recall@10 and nDCG@10 of the decisions named.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import mlflow
import numpy as np

from casecast.data.datasets import (
    DatasetSpec,
    WrittenQuery,
    get_dataset,
    load_corpus,
    written_queries,
)
from casecast.data.schema import Corpus
from casecast.models.precedents import MODES, Mode, PrecedentIndex, SearchFilters
from casecast.models.precedents.files import keyword_engine, query_tokens
from casecast.models.precedents.fusion_training import (
    held_out_year,
    judged_before,
    ndcg,
    temporal_queries,
)
from casecast.models.registry import ensure_experiment
from casecast.models.run_contract import INDEX_VERSION_TAG, STAGE_TAG
from casecast.models.settings import CasecastSettings
from casecast.training.progress import console, progress_bar

NDCG_AT, RECALL_AT = 10, 100
REFERENCE = "reference_bm25"  # BM25 over the candidates' whole texts
HYBRID_RRF = "hybrid_rrf"  # hybrid by reciprocal rank fusion, beside the learned fusion
LAST_YEAR = 9999


class WholeTextBM25:
    """The keyword engine a court would run: BM25 over each candidate's whole text, with the
    index's tokenisation, stop words and stemmer."""

    def __init__(self, texts: Sequence[str], language: str, stemmer: str | None = None) -> None:
        self.language = language
        self.stemmer = stemmer
        self.engine = keyword_engine(texts, language, stemmer)

    def rank(self, query: str, k: int) -> np.ndarray:
        """Positions of the ``k`` best-scoring texts that share a word with the query."""
        tokens = query_tokens(query, self.language, self.stemmer)
        scores = np.asarray(self.engine.get_scores(tokens))
        found = np.flatnonzero(scores > 0)
        return found[np.argsort(-scores[found], kind="stable")[:k]]


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
    report = retrieval_report(index, corpus, spec, queries_from, n_queries)
    if log_run:
        _log(spec.name, settings, report, index.manifest.version)
    return report


def retrieval_report(
    index: PrecedentIndex,
    corpus: Corpus,
    spec: DatasetSpec,
    queries_from: int | None = None,
    n_queries: int = 200,
) -> dict[str, dict[str, Any]]:
    """The evaluation of ``index`` on ``corpus`` (the cases it indexes, with outcomes)."""
    grade = spec.relevance
    if grade is None:
        raise ValueError(f"{spec.name} has no relevance rule to evaluate retrieval with")
    queries_from = queries_from or held_out_year(
        (r.decision_year for r in corpus.records), n_queries
    )
    judged, candidates = judged_before(index, corpus, queries_from)
    queries = temporal_queries(judged.values(), candidates, (queries_from, LAST_YEAR), grade,
                               n_queries)  # fmt: skip
    if not queries or not candidates:
        raise ValueError(f"no queries from {queries_from} on, or no earlier cases to find")
    # A ranker that learned from any of these years would be graded on what it was fitted to.
    learned = index.fusion_info is not None and index.fusion_info["query_years"][1] < queries_from
    if index.fusion_info is not None and not learned:
        console.print(
            f"the index's fusion ranker learned from queries of {index.fusion_info['query_years']}"
            f": hybrid is evaluated with RRF for queries from {queries_from}"
        )
    modes: tuple[str, ...] = (*MODES, HYBRID_RRF) if learned else MODES

    filters = SearchFilters(year_max=queries_from - 1)
    console.print(f"reference: BM25 over the whole texts of {len(candidates):,} candidates")
    reference = WholeTextBM25([c.record.text for c in candidates], spec.language, spec.stemmer)
    candidate_ids = [c.record.case_id for c in candidates]
    totals: dict[str, dict[str, list[float]]] = {
        m: {"ndcg": [], "recall": []} for m in (*modes, REFERENCE)
    }
    with progress_bar("retrieval queries", total=len(queries)) as (advance, _):
        for query in queries:
            grades = {c.record.case_id: grade(query, c) for c in candidates}
            relevant = {case_id for case_id, g in grades.items() if g > 0}
            vectors = index.embed_query(query.record.paragraphs)
            rankings = {
                mode: [h.case.case_id for h in index.search(
                    vectors, query.record.text, k=RECALL_AT, filters=filters,
                    mode=cast(Mode, "hybrid" if mode == HYBRID_RRF else mode),
                    learned_fusion=learned and mode != HYBRID_RRF,
                )]
                for mode in modes
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

    report: dict[str, dict[str, Any]] = {
        mode: {
            "ndcg_at_10": float(np.mean(values["ndcg"])),
            "ndcg_at_10_se": standard_error(values["ndcg"]),
            "recall_at_100": float(np.mean(values["recall"])),
            "n_queries": len(queries),
            "n_candidates": len(candidates),
            "queries_from": queries_from,
        }
        for mode, values in totals.items()
    }
    report["hybrid"]["fusion"] = "lambdarank" if learned else "rrf"
    baseline = report[REFERENCE]["ndcg_at_10"]
    for mode in modes:
        report[mode]["ndcg_vs_reference"] = (
            report[mode]["ndcg_at_10"] / baseline if baseline else None
        )
        report[mode]["ndcg_vs_reference_se"] = (
            paired_ratio_error(totals[mode]["ndcg"], totals[REFERENCE]["ndcg"])
            if baseline
            else None
        )
    written = written_queries(spec)
    if written:
        texts = {r.case_id: r.text for r in corpus.records}
        report[WRITTEN] = evaluate_written_queries(
            index, written, texts, spec.language, spec.stemmer
        )
    return report


WRITTEN = "written_queries"
WRITTEN_AT = 10


def evaluate_written_queries(
    index: PrecedentIndex,
    queries: Sequence[WrittenQuery],
    case_texts: dict[str, str],
    language: str,
    stemmer: str | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{query language: {mode: figures}}`` for hand-written queries over the whole index.

    Figures: recall@10 and nDCG@10 (binary: the decisions the query names), and for each
    language but the documents' own, recall@10 as a ratio to the same queries written in
    the documents' language. The reference BM25 reads the indexed cases' whole texts.
    """
    candidate_ids = [c.case_id for c in index.cases]
    reference = WholeTextBM25([case_texts.get(i, "") for i in candidate_ids], language, stemmer)
    languages = sorted({lang for q in queries for lang in q.texts})
    figures: dict[str, dict[str, dict[str, list[float]]]] = {
        lang: {m: {"recall": [], "ndcg": []} for m in (*MODES, REFERENCE)} for lang in languages
    }
    with progress_bar("written queries", total=len(queries) * len(languages)) as (advance, _):
        for query in queries:
            relevant = set(query.relevant)
            for lang, text in query.texts.items():
                rankings: dict[str, list[str]] = {
                    mode: [h.case.case_id for h in index.search_text(text, WRITTEN_AT, mode=mode)]
                    for mode in MODES
                }
                rankings[REFERENCE] = [candidate_ids[i] for i in reference.rank(text, WRITTEN_AT)]
                for mode, ranked_ids in rankings.items():
                    grades = [int(case_id in relevant) for case_id in ranked_ids]
                    scores = figures[lang][mode]
                    scores["recall"].append(sum(grades) / len(relevant))
                    scores["ndcg"].append(ndcg(grades, [1] * len(relevant), WRITTEN_AT))
                advance(1)
    report: dict[str, dict[str, dict[str, Any]]] = {
        lang: {
            mode: {
                "recall_at_10": float(np.mean(values["recall"])),
                "recall_at_10_se": standard_error(values["recall"]),
                "ndcg_at_10": float(np.mean(values["ndcg"])),
                "n_queries": len(values["recall"]),
            }
            for mode, values in modes.items()
        }
        for lang, modes in figures.items()
    }
    if language in report:
        for lang, by_mode in report.items():
            if lang == language:
                continue
            for name, values in by_mode.items():
                own = report[language][name]["recall_at_10"]
                values["recall_vs_document_language"] = (
                    values["recall_at_10"] / own if own else None
                )
                values["recall_vs_document_language_se"] = (
                    paired_ratio_error(
                        figures[lang][name]["recall"], figures[language][name]["recall"]
                    )
                    if own
                    else None
                )
    return report


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as lines for a reader: each figure ± its standard error over the queries
    (a ratio's: of the paired per-query differences)."""
    automatic = {mode: figures for mode, figures in report.items() if mode != WRITTEN}
    lines = []
    for mode, figures in automatic.items():
        name = f"{mode} ({figures['fusion']})" if "fusion" in figures else mode
        lines.append(
            f"{name:>20}: nDCG@10 {figures['ndcg_at_10']:.4f} ± {figures['ndcg_at_10_se']:.4f}  "
            f"recall@100 {figures['recall_at_100']:.4f}"
        )
    lines += [
        f"{mode} / reference BM25 (whole texts) nDCG@10: {figures['ndcg_vs_reference']:.3f}"
        f" ± {figures['ndcg_vs_reference_se']:.3f}"
        for mode, figures in automatic.items()
        if figures.get("ndcg_vs_reference") is not None
    ]
    for lang, modes in report.get(WRITTEN, {}).items():
        for mode, figures in modes.items():
            ratio = figures.get("recall_vs_document_language")
            lines.append(
                f"written {lang} {mode:>14}: recall@10 {figures['recall_at_10']:.3f} ± "
                f"{figures['recall_at_10_se']:.3f}  nDCG@10 {figures['ndcg_at_10']:.3f}"
                + (
                    f"  ({ratio:.2f}x ± {figures['recall_vs_document_language_se']:.2f} the "
                    "documents' language)"
                    if ratio is not None
                    else ""
                )
            )
    return lines


def standard_error(values: Sequence[float]) -> float:
    """The standard error of the mean of per-query figures."""
    return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def paired_ratio_error(values: Sequence[float], reference: Sequence[float]) -> float:
    """The standard error of ``mean(values) / mean(reference)`` over the same queries: that
    of the per-query differences, in units of the reference's mean (the two are scored on the
    same queries, so their noise is largely shared)."""
    differences = np.asarray(values, dtype=float) - np.asarray(reference, dtype=float)
    return standard_error(differences) / float(np.mean(reference))


def _log(dataset: str, settings: CasecastSettings, report: dict[str, dict[str, Any]],
         index_version: str) -> None:  # fmt: skip
    experiment_id = ensure_experiment(f"casecast-{dataset}", settings)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"evaluate-retrieval-{dataset}"):
        mlflow.set_tags({STAGE_TAG: "evaluate-retrieval", INDEX_VERSION_TAG: index_version})
        first = report[REFERENCE]
        mlflow.log_params({k: first[k] for k in ("n_queries", "n_candidates", "queries_from")})
        for mode in (*MODES, HYBRID_RRF, REFERENCE):
            if mode not in report:
                continue
            figures = report[mode]
            mlflow.log_metrics({f"{mode}_ndcg_at_10": figures["ndcg_at_10"],
                                f"{mode}_recall_at_100": figures["recall_at_100"]})  # fmt: skip
            if figures.get("ndcg_vs_reference") is not None:
                mlflow.log_metric(f"{mode}_ndcg_vs_reference", figures["ndcg_vs_reference"])
        for lang, modes in report.get(WRITTEN, {}).items():
            for mode, figures in modes.items():
                prefix = f"written_{lang}_{mode}"
                mlflow.log_metrics(
                    {
                        f"{prefix}_recall_at_10": figures["recall_at_10"],
                        f"{prefix}_ndcg_at_10": figures["ndcg_at_10"],
                    }
                )
        mlflow.log_dict(report, "retrieval/metrics.json")
