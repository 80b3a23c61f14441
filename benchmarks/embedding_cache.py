"""Embedding throughput on this machine, and what the on-disk cache saves.

Embeds real ECHR passages (the training chunking) once cold, then again from the cache, in
the same run, and prints tokens/s and the warm/cold ratio. Usage:

    .venv/bin/python benchmarks/embedding_cache.py [--cases 100] [--model all-MiniLM-L6-v2]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from casecast.data.datasets import load_corpus
from casecast.features.chunking import ParagraphChunker
from casecast.features.embedding import SentenceEmbedder
from casecast.models.settings import CasecastSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--model", default=CasecastSettings().embedding_model_for(None))
    parser.add_argument("--chunk-tokens", type=int, default=128)
    args = parser.parse_args()

    corpus = load_corpus("echr", CasecastSettings(), limit_per_split=args.cases)
    chunker = ParagraphChunker(args.chunk_tokens, 16).fit()
    texts = [c.text for r in corpus.records[: args.cases] for c in chunker.chunk(r.paragraphs)]
    with tempfile.TemporaryDirectory() as cache:
        embedder = SentenceEmbedder(model=args.model, cache_dir=cache).fit()
        tokens = sum(
            min(len(ids), embedder.max_seq_length_)
            for ids in embedder._encoder().tokenizer(texts)["input_ids"]
        )
        started = time.perf_counter()
        embedder.transform(texts)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        embedder.transform(texts)
        warm = time.perf_counter() - started
    print(f"model {embedder.model_id_}: {len(texts)} passages, {tokens:,} tokens")
    print(f"cold: {cold:.1f}s = {tokens / cold:,.0f} tokens/s")
    print(f"warm (cache): {warm:.2f}s = {tokens / warm:,.0f} tokens/s")
    print(f"warm/cold time ratio: {warm / cold:.4f} ({cold / warm:,.0f}x faster)")


if __name__ == "__main__":
    main()
