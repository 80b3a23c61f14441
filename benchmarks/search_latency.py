"""Precedent search latency on the served index: whole-case queries and one-paragraph queries,
p50 and p95 per mode, beside the time of embedding the query alone (measured in the same run).

Queries are later cases' facts (the evaluation's queries: unseen by the index's candidates
filter), each made unique so no cache answers; the index's own query side embeds them, as
the server does (no embedding cache). A whole-case query embeds up to 16 passages in one
batch; a one-paragraph query is the case's longest paragraph.

    .venv/bin/python benchmarks/search_latency.py [--dataset echr] [--queries 40]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from casecast.data.datasets import load_corpus
from casecast.data.text import split_paragraphs
from casecast.models.precedents import MAX_QUERY_PASSAGES, MODES, PrecedentIndex, SearchFilters
from casecast.models.settings import CasecastSettings


def percentiles(seconds: list[float]) -> str:
    p50, p95 = np.percentile(seconds, [50, 95])
    return f"p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="echr")
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    settings = CasecastSettings()
    index = PrecedentIndex.load(settings.index_dir, args.dataset)  # no cache, as served
    corpus = load_corpus(args.dataset, settings)
    latest = max(r.decision_year or 0 for r in corpus.records)
    records = [r for r in corpus.records if (r.decision_year or 0) == latest][: args.queries]
    filters = SearchFilters(year_max=latest - 1)
    print(f"index {index.manifest.version}: {index.manifest.n_cases:,} cases, "
          f"{index.manifest.n_chunks:,} passages, ann={index.manifest.ann}; "
          f"{len(records)} queries from {latest}")  # fmt: skip
    index.search_text("warm-up query", k=10)
    for kind in ("whole case", "one paragraph"):
        texts = [
            (r.text if kind == "whole case" else max(r.paragraphs, key=len)) + f" (query {i})"
            for i, r in enumerate(records)
        ]
        # Interleaved per query, so that warm-up and machine load fall on every column alike.
        spent: dict[str, list[float]] = {"embedding alone": [], **{m: [] for m in MODES}}
        passages = []
        for text in texts:
            started = time.perf_counter()
            passages.append(len(index.embed_query(split_paragraphs(text))))
            spent["embedding alone"].append(time.perf_counter() - started)
            for mode in MODES:
                started = time.perf_counter()
                index.search_text(text, k=10, filters=filters, mode=mode)
                spent[mode].append(time.perf_counter() - started)
        print(
            f"\n{kind}: {np.mean(passages):.1f} passages embedded per query "
            f"(at most {MAX_QUERY_PASSAGES})"
        )
        embedding = np.median(spent["embedding alone"])
        for name, seconds in spent.items():
            ratio = f"  p50 / embedding {np.median(seconds) / embedding:4.2f}"
            print(f"  {name:<16} {percentiles(seconds)}{ratio if name != 'keyword' else ''}")


if __name__ == "__main__":
    main()
