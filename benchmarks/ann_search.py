"""Approximate vs exact nearest-neighbour search, as the precedent index builds it.

Measures, in one run and against exact search (FAISS flat inner product) on the same
vectors: recall@10, single-query latency (p50/p95, query embedding excluded), build time and
memory per vector, for the HNSW parameters the product ships (models/precedents/types.py), on

1. ``--n`` synthetic unit vectors of the model's dimension, drawn around 2,000 random
   centres so that same-centre cosines (~0.3) resemble sentence embeddings, and
2. the passage vectors of the current ECHR index (``CASECAST_HOME``), when one is built,
   queried with held-out passages.

Besides the shipped graph it builds the alternatives worth comparing (a denser HNSW graph,
IVF-Flat with k-means lists), so a change of index is decided on figures from one run.

    .venv/bin/python benchmarks/ann_search.py [--n 1000000] [--queries 500] [--threads 2]
        [--graphs 16:100,32:200] [--ivf-lists 4096]
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

from casecast.models.precedents import IndexUnavailableError, PrecedentIndex
from casecast.models.precedents.types import HNSW_EF_CONSTRUCTION, HNSW_M
from casecast.models.settings import CasecastSettings

EF_SEARCH = (128, 256, 512, 1024)
N_PROBE = (8, 16, 32, 64, 128)


def synthetic(n: int, dim: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks: 1M x 384 float64 noise would be 3 GB
        m = min(100_000, n - start)
        block = centres[rng.integers(0, len(centres), m)]
        block = block + 0.08 * rng.standard_normal((m, dim), dtype=np.float32)
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def latencies(search: callable, queries: np.ndarray) -> np.ndarray:
    times = []
    for row in range(len(queries)):
        started = time.perf_counter()
        search(queries[row : row + 1])
        times.append(time.perf_counter() - started)
    return np.asarray(times) * 1000


def bench(name: str, vectors: np.ndarray, queries: np.ndarray, graphs: list[tuple[int, int]],
          ivf_lists: int) -> None:  # fmt: skip
    n, dim = vectors.shape
    print(f"\n== {name}: {n:,} vectors x {dim}, {len(queries)} queries ==")
    exact = faiss.IndexFlatIP(dim)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    exact_ms = latencies(lambda q: exact.search(q, 10), queries[:100])
    exact_p95 = np.percentile(exact_ms, 95)
    print(f"exact:  p50 {np.median(exact_ms):7.2f} ms  p95 {exact_p95:7.2f} ms"
          f"  memory {vectors.nbytes / n:,.0f} B/vector")  # fmt: skip

    def report(index: faiss.Index, label: str, knob: str, values: tuple[int, ...],
               params: callable, build_s: float) -> None:  # fmt: skip
        size = faiss.serialize_index(index).nbytes
        print(f"{label}: build {build_s:,.1f} s ({n / build_s:,.0f} vectors/s), memory "
              f"{size / n:,.0f} B/vector ({size / vectors.nbytes:.2f}x exact)")  # fmt: skip
        for value in values:
            p = params(value)
            _, found = index.search(queries, 10, params=p)
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
            ms = latencies(lambda q, p=p: index.search(q, 10, params=p), queries)
            print(f"  {knob} {value:4d}: recall@10 {recall:.4f}  p50 {np.median(ms):6.2f} ms  "
                  f"p95 {np.percentile(ms, 95):6.2f} ms  speed-up vs exact (p95) "
                  f"{exact_p95 / np.percentile(ms, 95):6.1f}x")  # fmt: skip

    for m, ef_construction in graphs:
        started = time.perf_counter()
        graph = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = ef_construction
        graph.add(vectors)
        shipped = " (shipped)" if (m, ef_construction) == (HNSW_M, HNSW_EF_CONSTRUCTION) else ""
        report(graph, f"HNSW M={m} efConstruction={ef_construction}{shipped}", "efSearch",
               EF_SEARCH, lambda v: faiss.SearchParametersHNSW(efSearch=v),
               time.perf_counter() - started)  # fmt: skip

    lists = min(ivf_lists, max(1, n // 39))  # FAISS wants >= 39 training points per list
    started = time.perf_counter()
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[np.random.default_rng(1).choice(n, min(n, lists * 64), replace=False)]
    ivf.train(sample)
    ivf.add(vectors)
    report(ivf, f"IVF-Flat {lists} lists (k-means on {len(sample):,})", "nprobe",
           tuple(p for p in N_PROBE if p <= lists), lambda v: faiss.SearchParametersIVF(nprobe=v),
           time.perf_counter() - started)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--graphs", default=f"{HNSW_M}:{HNSW_EF_CONSTRUCTION},32:200",
                        help="HNSW M:efConstruction pairs to build, comma-separated")  # fmt: skip
    parser.add_argument("--ivf-lists", type=int, default=4096)
    args = parser.parse_args()
    graphs = [tuple(int(x) for x in pair.split(":")) for pair in args.graphs.split(",") if pair]
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2_000, args.dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    bench("synthetic", synthetic(args.n, args.dim, rng, centres),
          synthetic(args.queries, args.dim, rng, centres), graphs, args.ivf_lists)  # fmt: skip
    settings = CasecastSettings()
    try:
        index = PrecedentIndex.load(settings.index_dir, "echr")
    except IndexUnavailableError as error:
        print(f"\n(no real index: {error})")
        return
    vectors = np.ascontiguousarray(index.stored.vectors, dtype=np.float32)
    # Held-out passages as queries: a query that is itself indexed is found trivially.
    picks = rng.choice(len(vectors), min(args.queries, len(vectors) // 10), replace=False)
    rest = np.setdiff1d(np.arange(len(vectors)), picks)
    bench(f"ECHR passages ({index.manifest.version})", vectors[rest], vectors[picks], graphs,
          args.ivf_lists)  # fmt: skip


if __name__ == "__main__":
    main()
