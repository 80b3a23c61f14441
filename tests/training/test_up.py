"""`casecast up` as a user runs it, in its own process: it serves the data set its command
line names (whatever the environment's default), and nothing it started outlives it."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import CASES_PER_SPLIT

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that ended but is not yet reaped by anyone is gone for our purposes.
    status = Path(f"/proc/{pid}/status")
    return not (status.is_file() and "State:\tZ" in status.read_text())


@pytest.fixture
def up(trained_home, echr_dir, embedding_cache, tmp_path):
    """Start `casecast up` on a copy of the trained home; yields (process, url, output)."""
    home = tmp_path / "home"
    shutil.copytree(trained_home, home)
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, environment: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
        port = _free_port()
        output = tmp_path / f"up-{port}.log"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CASECAST_", "MLFLOW_"))},
            "CASECAST_HOME": str(home),
            "CASECAST_DATA_DIR": str(echr_dir.parent),
            "CASECAST_EMBEDDING_CACHE": str(embedding_cache),
            **environment,
        }
        command = [sys.executable, "-m", "casecast.training.cli", "up", "--port", str(port)]
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [*command, "--limit", str(CASES_PER_SPLIT), *args],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert process.poll() is None, output.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    return process, url, output
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"not serving after 300 s:\n{output.read_text()[-3000:]}")

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_up_serves_the_data_set_its_command_line_names(up):
    # The environment's default says another data set: the command line's choice wins.
    process, url, _ = up(
        "--dataset", "echr", "--no-background-full",
        environment={"CASECAST_DATASETS": '["scotus"]'},
    )  # fmt: skip
    health = httpx.get(f"{url}/health", timeout=10).json()
    assert set(health["datasets"]) == {"echr"}
    assert health["datasets"]["echr"]["model"]["version"] is not None
    # `up` serves a public demo on this machine: a search answers without a key.
    search = httpx.post(
        f"{url}/v1/precedents/search", json={"text": "detention on remand", "k": 3}, timeout=60
    )
    assert search.status_code == 200 and search.json()["results"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) is not None


def test_the_background_build_ends_when_the_server_gets_sigterm(up):
    process, _, output = up("--dataset", "echr", environment={})
    found = re.search(r"in the background \(pid (\d+)", output.read_text())
    assert found, output.read_text()[-3000:]
    build = int(found.group(1))
    assert _alive(build)
    process.send_signal(signal.SIGTERM)  # to the server's process alone, not its group
    process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while _alive(build) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(build), "the background build outlived the server"
