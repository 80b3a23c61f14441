"""Predictions while hostile files are uploaded, beside the same predictions without them.

Starts the server (uvicorn, loopback only) over the current home; runs ``--clients``
clients predicting median-length ECHR cases (unique texts, with reasons) for ``--seconds``;
then the same again while as many other clients upload crafted files in a loop (the
adversarial corpus of tests/serving/hostile_files.py: compression bombs, entity bombs,
overlapping and lying archives, encrypted, looping and 10,000-page PDFs, bad encodings).
Prints both runs' prediction throughput, p50/p95 and errors, the p95 ratio (goal ≤ 1.5),
the uploads' answers by status, and the server's memory before and after.

    .venv/bin/python benchmarks/upload_load.py [--seconds 30] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.serving.hostile_files

from load import DATASET, Run, drive, free_port, median_cases, start_server

from casecast.models.oversight import KeyStore
from casecast.models.registry import configure_tracking
from casecast.models.settings import CasecastSettings
from tests.serving import hostile_files as hostile

CORPUS = {
    "node.docx": lambda: hostile.one_text_node_docx(800),
    "paragraphs.docx": lambda: hostile.many_paragraphs_docx(300),
    "bomb.pdf": lambda: hostile.flate_bomb_pdf(200),
    "xxe.docx": lambda: hostile.XXE,
    "laughs.docx": lambda: hostile.LAUGHS,
    "overlap.docx": hostile.overlapping_zip,
    "false-size.docx": lambda: hostile.false_size_docx(20),
    "nested.docx": hostile.nested_archive,
    "encrypted.pdf": hostile.encrypted_pdf,
    "pages.pdf": lambda: hostile.pages_pdf(10_000),
    "loop.pdf": hostile.looping_pdf,
    "objects.pdf": hostile.reference_loop_pdf,
    "binary.txt": lambda: bytes(range(1, 256)) * 8,
}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def upload(base: str, key: str, files: dict[str, bytes], clients: int, seconds: float):
    answers: Counter = Counter()
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {key}"}
    names = list(files)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as c:
        deadline = time.monotonic() + seconds

        async def client(offset: int) -> None:
            n = offset
            while time.monotonic() < deadline:
                name = names[n % len(names)]
                n += 1
                started = time.perf_counter()
                answer = await c.post("/v1/documents/text", files={"file": (name, files[name])})
                answers[answer.status_code] += 1
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(client(i) for i in range(clients)))
    return answers, latencies


def p95(run: Run) -> float:
    return float(np.percentile(run.latencies, 95)) if run.latencies else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--cases", type=int, default=64)
    args = parser.parse_args()
    settings = CasecastSettings()
    configure_tracking(settings)
    cases = median_cases(settings, args.cases)
    files = {name: make() for name, make in CORPUS.items()}
    print(f"{len(files)} crafted files, {sum(map(len, files.values())) / 1e6:.1f} MB as sent")
    store = KeyStore(settings.resolved_oversight_url)
    key_info, key = store.create("upload load benchmark", "data-scientist")
    port = free_port()
    env = {"CASECAST_DATASETS": f'["{DATASET}"]', "CASECAST_RATE_LIMIT_PER_MINUTE": "0",
           "CASECAST_RELOAD_INTERVAL_S": "0", "CASECAST_JSON_LOGS": "false"}  # fmt: skip
    server = start_server(port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(drive(base, key, "/v1/predict", cases, 2, 5, 9 * 10**6))  # warm-up
        before = rss_mib(server.pid)
        alone = asyncio.run(drive(base, key, "/v1/predict", cases, args.clients, args.seconds, 0))

        async def both():
            return await asyncio.gather(
                drive(base, key, "/v1/predict", cases, args.clients, args.seconds, 10**6),
                upload(base, key, files, args.clients, args.seconds),
            )

        loaded, (answers, upload_latencies) = asyncio.run(both())
        after = rss_mib(server.pid)
        print(f"predictions alone:        {alone.line(None)}")
        print(f"predictions with uploads: {loaded.line(None)}")
        print(f"p95 with uploads / alone: {p95(loaded) / p95(alone):.2f} (goal ≤ 1.5); "
              f"prediction errors {alone.errors} / {loaded.errors} (goal 0)")  # fmt: skip
        print(f"uploads: {sum(answers.values())} answered {dict(sorted(answers.items()))}, "
              f"p95 {np.percentile(upload_latencies, 95):.2f} s")  # fmt: skip
        print(f"server RSS: {before:,.0f} MiB before, {after:,.0f} MiB after")
    finally:
        server.terminate()
        server.wait(timeout=60)
        store.revoke(key_info.key_id)


if __name__ == "__main__":
    main()
