"""Retrain safely: compare two versions with paired intervals, promote only through the
gates (or past them with a recorded reason), roll back, and a running server follows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from typer.testing import CliRunner

from casecast.models.oversight.audit import AuditLedger
from casecast.models.registry import CHAMPION, PREVIOUS
from casecast.serving.app import create_app
from casecast.training.cli import app
from tests.data.court_export import write_court
from tests.serving.conftest import serving_settings

NAME = "casecast-nordmark-outcome"
CASES = 480  # 120 held out (2021-2022)


def _served_version(client: TestClient, wanted: str) -> str:
    deadline, version, health = time.monotonic() + 60, "", {}
    while version != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        health = client.get("/health").json()["datasets"]["nordmark"]["model"]
        version = health["version"]
    assert version == wanted, health
    return version


def _alias(client: MlflowClient, alias: str) -> str:
    return str(client.get_model_version_by_alias(NAME, alias).version)


@pytest.mark.e2e
def test_gates_refuse_a_worse_model_accept_an_equal_one_and_rollback_is_followed(
    tmp_path, monkeypatch, embedding_cache
):
    _retrain_safely(tmp_path, monkeypatch, embedding_cache, tracking_uri=None, oversight_url=None)


@pytest.mark.e2e
def test_the_same_on_a_shared_postgresql_store(
    tmp_path, monkeypatch, embedding_cache, postgres_url
):
    """A team's setup: MLflow's tracking store and the audit log on one PostgreSQL server."""
    import psycopg

    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("CREATE DATABASE mlflow_promotion")
    tracking = postgres_url.replace("/postgres?", "/mlflow_promotion?")
    _retrain_safely(tmp_path, monkeypatch, embedding_cache, tracking, postgres_url)


@pytest.mark.e2e
def test_the_same_through_a_tracking_server_on_postgresql(
    tmp_path, monkeypatch, embedding_cache, postgres_url
):
    """The team's setup of compose.yaml's `team` profile: an MLflow tracking server over
    PostgreSQL serving the artifacts, the audit log on the same PostgreSQL."""
    import socket
    import subprocess
    import sys

    import httpx
    import psycopg

    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("CREATE DATABASE mlflow_server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = postgres_url.replace("/postgres?", "/mlflow_server?")
    command = [
        sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store,
        "--serve-artifacts", "--artifacts-destination", str(tmp_path / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("the MLflow tracking server did not start in 90 s")
        _retrain_safely(tmp_path, monkeypatch, embedding_cache, url, postgres_url)
        assert list((tmp_path / "artifacts").rglob("validation/predictions.json"))
    finally:
        server.terminate()
        server.wait(timeout=30)


def _retrain_safely(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    embedding_cache: Path,
    tracking_uri: str | None,
    oversight_url: str | None,
) -> None:
    good = write_court(tmp_path / "good", cases=CASES, masked=True)
    broken = write_court(tmp_path / "broken", cases=CASES, masked=True, scrambled_before=2021)
    home = tmp_path / "home"
    monkeypatch.setenv("CASECAST_HOME", str(home))
    monkeypatch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name, value in (
        ("CASECAST_TRACKING_URI", tracking_uri),
        ("CASECAST_OVERSIGHT_URL", oversight_url),
    ):
        if value:
            monkeypatch.setenv(name, value)
    runner = CliRunner()

    def run(*args: str, stdout: bool = False) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.stdout if stdout else result.output

    run("train", "--dataset", str(good))  # v1, champion
    broken_files = [str(p) for p in sorted((broken.parent / "exports").glob("*.csv"))]
    splits = [a for f in broken_files for a in ("--split", f)]
    trained = run("train", "--dataset", "nordmark", *splits, "--promote")  # v2: through the gates
    assert "v2 registered, not champion" in trained and "FAILED macro_f1" in trained

    compared = json.loads(
        run("compare", "champion", "2", "--dataset", "nordmark", "--json", stdout=True)
    )
    main = next(d for d in compared["overall"] if d["metric"] == "macro_f1")
    assert compared["n_cases"] >= 100 and main["high"] < 0 < main["champion"] - main["challenger"]
    assert {d["metric"] for d in compared["overall"]} >= {
        "macro_f1",
        "accuracy",
        "roc_auc",
        "brier",
        "ece",
    }

    refused = runner.invoke(app, ["promote", "--version", "2", "--dataset", "nordmark"])
    assert refused.exit_code == 1, refused.output
    assert "FAILED macro_f1" in refused.output and "@champion stays v1" in refused.output
    client = MlflowClient()
    assert client.tracking_uri == (tracking_uri or f"sqlite:///{home.resolve() / 'mlflow.db'}")
    assert _alias(client, CHAMPION) == "1"
    assert (
        runner.invoke(
            app, ["promote", "--version", "2", "--dataset", "nordmark", "--force"]
        ).exit_code
        != 0
    )

    stores = {"tracking_uri": tracking_uri, "oversight_url": oversight_url}
    settings = serving_settings(
        home, reload_interval_s=0.2, public_demo=True, datasets=["nordmark"]
    ).model_copy(update=stores)
    with TestClient(create_app(settings)) as server:
        assert _served_version(server, "1") == "1"
        run(
            "promote",
            "--version",
            "2",
            "--dataset",
            "nordmark",
            "--force",
            "--reason",
            "audit drill",
        )
        assert _served_version(server, "2") == "2"
        tags = client.get_model_version(NAME, "2").tags
        assert tags["forced_reason"] == "audit drill" and "macro_f1" in tags["failed_gates"]
        run("rollback", "--dataset", "nordmark")
        assert _alias(client, CHAMPION) == "1"
        assert _alias(client, PREVIOUS) == "2"
        assert _served_version(server, "1") == "1"

    records = AuditLedger(settings.resolved_oversight_url).records(kind="promotion")
    actions = [(r.summary["action"], r.model_version, r.summary.get("reason")) for r in records]
    assert ("promote", "2", "audit drill") in actions and ("rollback", "1", None) in actions

    run("train", "--dataset", str(good))  # v3: the same data again, an equal model
    accepted = run("promote", "--version", "3", "--dataset", "nordmark")
    assert "v3 is champion; v1 is previous" in accepted and "FAILED" not in accepted
