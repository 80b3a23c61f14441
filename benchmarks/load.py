"""Load on the served API, beside the same champion's offline batch throughput.

Starts the server (uvicorn, loopback only) over the current home, then for each number of
concurrent clients (1, 16, 64) sends, for a fixed time, median-length ECHR cases to
``/v1/predict`` with reasons and the same cases to ``/v1/precedents/search``. Every request
is made unique (each paragraph marked with its request number), so no cache answers. Prints
throughput, p50/p95/p99, errors and 429s, the server's peak memory, and the ratio of served
throughput to the offline batch throughput of the same champion on the same cases, measured
first in this run (what these cores can do at all). ``--swap`` runs 16 clients once more and
promotes a new champion (the same files registered again) halfway: every request must
succeed and the answers must switch version; the registry is restored afterwards.

    .venv/bin/python benchmarks/load.py [--seconds 20] [--clients 1,16,64] [--swap]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import numpy as np
import pandas as pd

from casecast.data.datasets import load_corpus
from casecast.data.schema import model_input
from casecast.models.oversight import KeyStore
from casecast.models.registry import (
    alias_uri,
    configure_tracking,
    load_pyfunc,
    promote,
    registered_model_name,
)
from casecast.models.settings import CasecastSettings

DATASET = "echr"


@dataclass
class Run:
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    versions: list[str] = field(default_factory=list)

    @property
    def served(self) -> int:
        return self.statuses[200]

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status not in (200, 429))

    def line(self, offline: float | None) -> str:
        rate = self.served / self.seconds
        p50, p95, p99 = (np.percentile(self.latencies, [50, 95, 99]) if self.latencies
                         else (float("nan"),) * 3)  # fmt: skip
        bound = self.clients / rate if rate else float("inf")  # queueing alone
        text = (
            f"{self.clients:3d} clients: {rate:6.2f}/s  p50 {p50:6.2f}s  p95 {p95:6.2f}s  "
            f"p99 {p99:6.2f}s  p95/queueing bound {p95 / bound:4.2f}  errors {self.errors}  "
            f"429s {self.statuses[429]}"
        )
        if offline:
            text += f"  served/offline {rate / offline:4.2f}x"
        return text


def unique(record_paragraphs: list[str], n: int) -> str:
    return "\n\n".join(f"[{n}.{i}] {p}" for i, p in enumerate(record_paragraphs))


def median_cases(settings: CasecastSettings, count: int) -> list:
    corpus = load_corpus(DATASET, settings)
    ordered = sorted(corpus.records, key=lambda r: len(r.text))
    middle = len(ordered) // 2
    return ordered[middle - count // 2 : middle + count - count // 2]


def offline_throughput(cases: list, batch: int, repeats: int = 3) -> float:
    """Cases/s of the champion's own batch predict with reasons, on unique copies: the best
    of ``repeats`` batches (what these cores can do when nothing else runs)."""
    model, info = load_pyfunc(alias_uri(registered_model_name(DATASET, "violation")))
    frame = pd.DataFrame(model_input(cases[:batch]))
    model.predict(frame.head(2), params={"explain": True, "top_k": 3})  # warm-up
    rates = []
    for repeat in range(repeats):
        frame["text"] = [
            unique(list(c.paragraphs), -1000 * (repeat + 1) - i)
            for i, c in enumerate(cases[:batch])
        ]
        started = time.perf_counter()
        model.predict(frame, params={"explain": True, "top_k": 3})
        rates.append(batch / (time.perf_counter() - started))
    print(f"offline: v{info.version} predicts {batch} cases with reasons in one batch: "
          f"{max(rates):.2f} cases/s (best of {', '.join(f'{r:.2f}' for r in rates)})")  # fmt: skip
    return max(rates)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "casecast.serving.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, env={**os.environ, **env}, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit("the server exited while starting")
        time.sleep(1)
    server.kill()
    raise SystemExit("the server did not become ready in 300 s")


def peak_memory_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def drive(
    base: str, key: str, path: str, cases: list, clients: int, seconds: float, start_n: int,
    halfway: asyncio.Event | None = None,
) -> Run:  # fmt: skip
    run = Run(clients)
    counter = iter(range(start_n, start_n + 10**9))
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300, limits=limits) as c:
        deadline = time.monotonic() + seconds

        async def client() -> None:
            while time.monotonic() < deadline:
                n = next(counter)
                case = cases[n % len(cases)]
                text = unique(list(case.paragraphs), n)
                body = ({"text": text, "explain": True} if path == "/v1/predict"
                        else {"text": text, "k": 10})  # fmt: skip
                started = time.perf_counter()
                try:
                    answer = await c.post(path, json=body)
                except httpx.HTTPError:
                    run.statuses["transport error"] += 1
                    continue
                run.statuses[answer.status_code] += 1
                if answer.status_code == 200:
                    run.latencies.append(time.perf_counter() - started)
                    if path == "/v1/predict":
                        run.versions.append(answer.json()["model"]["version"])
                elif answer.status_code == 429:
                    await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))

        started = time.monotonic()
        tasks = [asyncio.create_task(client()) for _ in range(clients)]
        if halfway is not None:
            await asyncio.sleep(seconds / 2)
            halfway.set()
        await asyncio.gather(*tasks)
        run.seconds = time.monotonic() - started
    return run


def swap_run(base: str, key: str, cases: list, seconds: float) -> None:
    """16 clients; halfway, a new version becomes champion; the registry is then restored."""
    from mlflow import MlflowClient

    name = registered_model_name(DATASET, "violation")
    client = MlflowClient()
    old = client.get_model_version_by_alias(name, "champion")
    new = client.create_model_version(name, old.source, run_id=old.run_id)

    async def scenario() -> Run:
        halfway = asyncio.Event()
        driving = asyncio.create_task(
            drive(base, key, "/v1/predict", cases, 16, seconds, 5 * 10**6, halfway)
        )
        await halfway.wait()
        promote(name, str(new.version))
        print(f"  promoted v{new.version} at {seconds / 2:.0f}s")
        return await driving

    try:
        run = asyncio.run(scenario())
    finally:
        promote(name, str(old.version))
        client.delete_model_version(name, str(new.version))
    switches = sum(1 for a, b in zip(run.versions, run.versions[1:], strict=False) if a != b)
    print(f"swap: {run.line(None)}")
    print(f"  answers by version: {dict(Counter(run.versions))}; failed requests: "
          f"{run.errors}; version changes in answer order: {switches}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--cases", type=int, default=64)
    parser.add_argument("--swap", action="store_true")
    parser.add_argument("--batch-window-ms", type=float, default=None)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    settings = CasecastSettings()
    configure_tracking(settings)
    cases = median_cases(settings, args.cases)
    print(f"{len(cases)} median-length cases: {np.median([len(c.text) for c in cases]):,.0f} "
          f"characters")  # fmt: skip
    offline = offline_throughput(cases, min(32, len(cases)))
    store = KeyStore(settings.resolved_oversight_url)
    key_info, key = store.create("load benchmark", "data-scientist")
    port = free_port()
    env = {"CASECAST_DATASETS": f'["{DATASET}"]', "CASECAST_RATE_LIMIT_PER_MINUTE": "0",
           "CASECAST_RELOAD_INTERVAL_S": "1", "CASECAST_JSON_LOGS": "false"}  # fmt: skip
    if args.batch_window_ms is not None:
        env["CASECAST_BATCH_WINDOW_MS"] = str(args.batch_window_ms)
    if args.workers is not None:
        env["CASECAST_WORKERS"] = str(args.workers)
    server = start_server(port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        for path in ("/v1/predict", "/v1/precedents/search"):
            print(f"{path} ({args.seconds:.0f}s each):")
            for n, clients in enumerate(int(c) for c in args.clients.split(",")):
                run = asyncio.run(drive(base, key, path, cases, clients, args.seconds, n * 10**6))
                print("  " + run.line(offline if path == "/v1/predict" else None))
        if args.swap:
            swap_run(base, key, cases, args.seconds)
        print(f"server peak memory: {peak_memory_mib(server.pid):,.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=60)
        store.revoke(key_info.key_id)


if __name__ == "__main__":
    main()
