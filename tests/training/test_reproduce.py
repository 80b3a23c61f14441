"""A training run records what it needs to be run again, and `train --from-run` reruns it
to the same validation figures."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from typer.testing import CliRunner

from casecast.models.run_contract import REPRODUCE_ARTIFACT, SPEC_ARTIFACT
from casecast.training.cli import app
from tests.data.court_export import write_court


@pytest.mark.e2e
def test_a_run_is_rerun_from_its_record_to_the_same_figures(tmp_path, monkeypatch, embedding_cache):
    spec_path = write_court(tmp_path / "court", masked=True)
    monkeypatch.setenv("CASECAST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runner = CliRunner()
    first = runner.invoke(app, ["train", "--dataset", str(spec_path), "--limit", "100"])
    assert first.exit_code == 0, first.output + repr(first.exception)
    client = mlflow.MlflowClient()
    (run,) = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], "tags.stage = 'train'"
    )
    record = json.loads(_artifact(client, run.info.run_id, tmp_path))
    assert record["arguments"]["limit_per_split"] == 100
    assert record["arguments"]["spec_path"] == str(spec_path.resolve())
    assert record["code"]["git_commit"] and record["packages"]["scikit-learn"]
    assert set(record["settings"]) >= {"embedding_model", "max_chunks_per_case", "chunk_tokens"}
    spec_copy = client.download_artifacts(run.info.run_id, SPEC_ARTIFACT, str(tmp_path))
    assert Path(spec_copy).read_text(encoding="utf-8") == spec_path.read_text(encoding="utf-8")

    # The spec file changes afterwards (a mask dropped): the rerun still reads it as it was.
    spec_path.write_text(spec_path.read_text().replace("masks: ['", "masks: []\n# was: ['"))
    again = runner.invoke(app, ["train", "--from-run", run.info.run_id])
    assert again.exit_code == 0, again.output + repr(again.exception)
    assert f"validation figures as run {run.info.run_id}" in again.output
    runs = client.search_runs([run.info.experiment_id], "tags.stage = 'train'")
    assert len(runs) == 2
    newer = next(r for r in runs if r.info.run_id != run.info.run_id)
    recorded = {k: v for k, v in run.data.metrics.items() if k.startswith("val_")}
    assert len(recorded) >= 5
    assert {k: newer.data.metrics[k] for k in recorded} == recorded
    assert newer.data.tags["data_fingerprint"] == run.data.tags["data_fingerprint"]


def _artifact(client: mlflow.MlflowClient, run_id: str, folder) -> str:
    return Path(client.download_artifacts(run_id, REPRODUCE_ARTIFACT, str(folder))).read_text()
