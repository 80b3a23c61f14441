"""`casecast drift` on real ECHR cases with the trained model: the later years alarm, two
random halves of one period do not, and what the server records is what drift reads."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from typer.testing import CliRunner

from casecast.models.oversight.observations import ObservationStore
from casecast.serving.app import create_app
from casecast.training.cli import app
from casecast.training.drift import REPORT_HTML, REPORT_JSON
from tests.serving.conftest import serving_settings

SIDE = "150"  # cases a side: enough for the tests' power, cheap to embed on 2 cores


@pytest.fixture()
def home(trained_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the trained home (so that other tests' predictions are not read here)."""
    copy = tmp_path / "home"
    shutil.copytree(trained_home, copy)
    monkeypatch.setenv("CASECAST_HOME", str(copy))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return copy


def _drift(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["drift", "--json", "--max-cases", SIDE, *args])
    assert result.exit_code in (0, 1), result.output + repr(result.exception)
    return result.exit_code, json.loads(result.stdout[result.stdout.index("{") :])


def test_the_later_years_alarm_and_two_random_halves_of_one_period_do_not(home):
    code, shift = _drift("--reference-years", ":2010", "--years", "2011:2013")
    assert code == 1 and shift["drifted"]
    assert (shift["reference_cases"], shift["current_cases"]) == (150, 150)
    assert shift["embedding"]["p_value"] < 0.01
    assert any(a.startswith("text embeddings shifted") for a in shift["alarms"])
    # The model answers differently for the later years: a shift in what it decides.
    assert shift["class_rates"]["total_variation"] > 0.1
    respondent = next(f for f in shift["fields"] if f["field"] == "respondent")
    assert respondent["test"] == "chi-square" and respondent["effect"] > 0.1
    assert not any(f["field"] == "year" for f in shift["fields"])  # time moves on: not drift

    code, control = _drift("--reference-years", ":2010", "--control")
    assert code == 0 and control["alarms"] == []
    assert control["embedding"]["p_value"] > 0.05
    assert control["class_rates"]["total_variation"] < 0.1

    runs = MlflowClient().search_runs(
        [MlflowClient().get_experiment_by_name("casecast-echr").experiment_id],
        filter_string="tags.stage = 'drift'",
    )
    assert len(runs) == 2 and {r.data.metrics["drift_alarms"] > 0 for r in runs} == {True, False}
    logged = MlflowClient().download_artifacts(runs[-1].info.run_id, REPORT_JSON)
    assert json.loads(Path(logged).read_text())["current_cases"] == 150
    page = Path(MlflowClient().download_artifacts(runs[-1].info.run_id, REPORT_HTML)).read_text()
    assert "data:image/png;base64," in page and "text embeddings" in page


def test_drift_reads_what_the_server_recorded_with_each_prediction(home, train_slice, tmp_path):
    settings = serving_settings(home, public_demo=True)
    before = datetime.now(UTC) - timedelta(seconds=1)
    records = train_slice.records[:40]
    with TestClient(create_app(settings)) as client:
        for record in records:
            fields = {"respondent": record.inputs["respondent"]}
            body = {"text": record.text, "fields": fields, "explain": False}
            assert client.post("/v1/predict", json=body).status_code == 200
    observed = ObservationStore(settings.resolved_oversight_url).since("echr", before)
    assert len(observed) == len(records)
    first = observed[0]
    assert set(first.probabilities) == {"violation", "no_violation"}
    assert first.fields["respondent"] == records[0].inputs["respondent"]
    assert first.vector is not None and first.vector.shape == (384,)
    assert abs(np.linalg.norm(first.vector) - 1) < 0.2  # a mean of unit passage vectors
    assert "text" not in first.fields  # no case text is kept for drift

    report = tmp_path / "drift.html"
    _, recorded = _drift("--since", f"{before:%Y-%m-%dT%H:%M:%S}", "--report", str(report))
    assert recorded["current_cases"] == len(records)
    assert recorded["embedding"] is not None and recorded["embedding"]["current_cases"] == 40
    assert report.read_text().count("<tr>") >= 4


def test_a_window_with_no_predictions_is_a_clear_error(home):
    result = CliRunner().invoke(app, ["drift", "--since", "2999-01-01"])
    assert result.exit_code == 2
    assert "no prediction of casecast-echr-violation recorded since 2999-01-01" in result.output
    result = CliRunner().invoke(app, ["drift", "--years", "2011:2013", "--control"])
    assert result.exit_code == 2 and "choose one of" in result.output
    result = CliRunner().invoke(app, ["drift", "--years", "2013:2011"])
    assert result.exit_code == 2 and "run backwards" in result.output
