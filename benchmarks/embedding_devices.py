"""Embedding throughput on each device this machine has, against its CPU in the same run.

Embeds the same real ECHR passages (the settings' chunking) on the CPU and on every other
device given, with the project's embedder and no cache, and prints passages/s, the ratio to
the CPU, the largest difference between the devices' vectors (the cache is keyed by model and
text, not device, so vectors embedded on a GPU must stand in for the CPU's), and what
``--corpus-passages`` passages (the full ECHR profile: 255,086) would take on each. Usage:

    .venv/bin/python benchmarks/embedding_devices.py [--devices cpu,cuda] [--cases 100]
        [--cpu-threads 2] [--batch-size 32] [--gpu-batch-size 256]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from casecast.data.datasets import load_corpus
from casecast.features.chunking import ParagraphChunker
from casecast.features.embedding import SentenceEmbedder
from casecast.models.settings import CasecastSettings

FULL_ECHR_PASSAGES = 255_086  # every passage of the ECHR train/dev cases at 128 tokens


def main() -> None:
    settings = CasecastSettings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="cpu,cuda", help="comma-separated; cpu is added")
    parser.add_argument("--cases", type=int, default=100, help="cases per split")
    parser.add_argument("--model", default=settings.embedding_model_for(None))
    parser.add_argument("--cpu-threads", type=int, default=None, help="as on a 2-core machine")
    parser.add_argument("--batch-size", type=int, default=32, help="the CPU's batch")
    parser.add_argument("--gpu-batch-size", type=int, default=256, help="other devices' batch")
    parser.add_argument("--corpus-passages", type=int, default=FULL_ECHR_PASSAGES)
    args = parser.parse_args()

    if args.cpu_threads:
        torch.set_num_threads(args.cpu_threads)
    devices = ["cpu"] + [d for d in args.devices.split(",") if d and d != "cpu"]
    corpus = load_corpus("echr", settings, limit_per_split=args.cases)
    chunker = ParagraphChunker(settings.chunk_tokens, settings.chunk_overlap).fit()
    texts = [c.text for r in corpus.records for c in chunker.chunk(r.paragraphs)]
    print(f"{len(texts)} passages of {len(corpus.records)} ECHR cases; torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads")  # fmt: skip

    vectors: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for device in devices:
        batch = args.batch_size if device == "cpu" else args.gpu_batch_size
        embedder = SentenceEmbedder(model=args.model, batch_size=batch, device=device).fit()
        embedder._encode(texts[:batch])  # warm-up: kernels, allocator, lazy loading
        _synchronize(device)
        started = time.perf_counter()
        vectors[device] = embedder._encode(texts)
        _synchronize(device)
        seconds[device] = time.perf_counter() - started

    for device in devices:
        rate = len(texts) / seconds[device]
        corpus_minutes = args.corpus_passages / rate / 60
        line = (f"{device:>6}: {seconds[device]:7.2f}s = {rate:8,.0f} passages/s, "
                f"{seconds['cpu'] / seconds[device]:6.1f}x the CPU; "
                f"{args.corpus_passages:,} passages in {corpus_minutes:6.1f} min")  # fmt: skip
        if device != "cpu":
            cosine = (vectors[device] * vectors["cpu"]).sum(axis=1)
            line += f"; lowest cosine to the CPU's vectors {cosine.min():.6f}"
        print(line)


def _synchronize(device: str) -> None:
    """Wait for queued GPU work, so that the clock measures it and not just its launch."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


if __name__ == "__main__":
    main()
