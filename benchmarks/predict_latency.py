"""Prediction latency for a median-length ECHR case, against embedding that text alone.

Loads the champion pyfunc as the server does (no embedding cache), picks the training case
whose facts are closest to the median length (~9,500 characters), and times, in one run:
embedding all of the text's passages; embedding only the passages the model reads (its
``max_chunks_per_case`` budget); a prediction; and a prediction with reasons.

    .venv/bin/python benchmarks/predict_latency.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import pandas as pd

from casecast.data.datasets import load_corpus
from casecast.data.schema import model_input
from casecast.features.chunking import spread_positions
from casecast.models.registry import (
    alias_uri,
    configure_tracking,
    load_pyfunc,
    registered_model_name,
)
from casecast.models.settings import CasecastSettings


def timed(action: Callable[[], object], repeat: int) -> float:
    action()  # warm-up: first calls pay for lazy loading
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = CasecastSettings()
    configure_tracking(settings)
    model, info = load_pyfunc(alias_uri(registered_model_name("echr", "violation")))
    estimator = model.unwrap_python_model().estimator
    corpus = load_corpus("echr", settings)
    lengths = sorted((len(r.text), i) for i, r in enumerate(corpus.records))
    record = corpus.records[lengths[len(lengths) // 2][1]]
    frame = pd.DataFrame(model_input([record]))
    passages = [c.text for c in estimator.preparer_.chunker_.chunk(record.paragraphs)]
    budget = spread_positions(len(passages), estimator.max_chunks_per_case)
    embedder = estimator.embedder_

    embed_all = timed(lambda: embedder._encode(passages), args.repeat)
    embed_read = timed(lambda: embedder._encode([passages[i] for i in budget]), args.repeat)
    predict = timed(lambda: model.predict(frame), args.repeat)
    explain = timed(lambda: model.predict(frame, params={"explain": True}), args.repeat)
    print(f"model {info.name} v{info.version}; case {record.case_id}: {len(record.text):,} chars, "
          f"{len(passages)} passages, the model embeds {len(budget)}")  # fmt: skip
    print(f"embed the whole text:        {embed_all * 1000:8.1f} ms")
    print(f"embed the passages it reads: {embed_read * 1000:8.1f} ms")
    print(f"predict:                     {predict * 1000:8.1f} ms  "
          f"ratio to embedding the text {predict / embed_all:.2f}")  # fmt: skip
    print(f"predict with reasons:        {explain * 1000:8.1f} ms  "
          f"ratio to embedding the text {explain / embed_all:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
