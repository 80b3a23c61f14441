"""Encoder throughput for concurrent callers, with their calls grouped into shared batches
and without, in the same run (features/batching.py; the server groups by default).

Each of ``--threads`` callers embeds the passages of a different median-length ECHR case
(each passage made unique), as concurrent predictions do; prints passages/s for both.

    .venv/bin/python benchmarks/encoder_batching.py [--threads 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import threading
import time

from casecast.data.datasets import load_corpus
from casecast.features import batching
from casecast.features.chunking import ParagraphChunker
from casecast.features.embedding import DEFAULT_MODEL, load_encoder
from casecast.models.settings import CasecastSettings


def run(encoder, calls: list[list[str]]) -> float:
    start = threading.Barrier(len(calls) + 1)

    def ask(texts: list[str]) -> None:
        start.wait()
        batching.grouped(encoder).encode(texts, "passage", 32)

    threads = [threading.Thread(target=ask, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return sum(len(c) for c in calls) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window-ms", type=float, default=10.0)
    args = parser.parse_args()
    corpus = load_corpus("echr", CasecastSettings())
    ordered = sorted(corpus.records, key=lambda r: len(r.text))
    middle = len(ordered) // 2
    encoder = load_encoder(DEFAULT_MODEL)
    chunker = ParagraphChunker().fit()
    cases = ordered[middle : middle + args.threads * args.rounds * 2]
    passages = [[c.text for c in chunker.chunk(case.paragraphs)] for case in cases]
    encoder.encode(passages[0][:4], "passage", 32)  # warm-up
    sizes: list[int] = []
    rates: dict[str, list[float]] = {"alone": [], "grouped": []}
    for round_ in range(args.rounds):
        for mode in ("alone", "grouped"):  # interleaved: machine load falls on both alike
            offset = (2 * round_ + (mode == "grouped")) * args.threads
            calls = [[f"[{mode}{round_}] {p}" for p in passages[offset + i]]
                     for i in range(args.threads)]  # fmt: skip
            batching.configure(args.window_ms / 1000 if mode == "grouped" else 0, 256, sizes.append)
            rates[mode].append(run(encoder, calls))
    batching.configure(0)
    n = sum(len(p) for p in passages[: args.threads])
    print(f"{args.threads} concurrent callers, ~{n // args.threads} passages each, {DEFAULT_MODEL}")
    for mode, values in rates.items():
        print(f"  {mode:8s} {max(values):7.1f} passages/s (rounds: "
              f"{', '.join(f'{v:.1f}' for v in values)})")  # fmt: skip
    print(f"  grouped/alone {max(rates['grouped']) / max(rates['alone']):.2f}x; "
          f"batches of {min(sizes)}-{max(sizes)} texts")  # fmt: skip


if __name__ == "__main__":
    main()
