"""Every answer says which class mix its probabilities answer for: the model's own, one a
data scientist sets (restated by Bayes' rule, deciding the class most probable there), or
one estimated from the service's recent predictions."""

from __future__ import annotations

import json
import shutil

import pytest
from fastapi.testclient import TestClient

from casecast.models.oversight import AuditLedger
from casecast.serving.app import create_app
from tests.serving.conftest import serving_settings


def _body(record) -> dict:
    fields = {"respondent": record.inputs["respondent"], "year": record.inputs["year"]}
    return {"text": record.text, "fields": fields, "explain": False}


def _probabilities(answer: dict) -> dict[str, float]:
    return {p["label"]: p["probability"] for p in answer["probabilities"]}


def _answers(home, train_slice, records, **settings) -> list[dict]:
    app = create_app(serving_settings(home, public_demo=True, **settings))
    with TestClient(app) as client:
        answers = [client.post("/v1/predict", json=_body(r)) for r in records]
    assert all(a.status_code == 200 for a in answers), answers[-1].text
    return [a.json() for a in answers]


def test_a_set_mix_restates_each_probability_and_decides_at_it(trained_home, train_slice):
    records = train_slice.records[:6]
    as_trained = _answers(trained_home, train_slice, records)
    assert as_trained[0]["class_mix"]["source"] == "trained"
    trained = _probabilities({"probabilities": as_trained[0]["class_mix"]["shares"]})
    assert trained == pytest.approx({"violation": 0.5, "no_violation": 0.5})  # balanced

    at_80 = _answers(trained_home, train_slice, records, class_mix={"echr": "violation=0.8"})
    for before, after in zip(as_trained, at_80, strict=True):
        p, q = _probabilities(before)["violation"], _probabilities(after)["violation"]
        expected = p * 0.8 / (p * 0.8 + (1 - p) * 0.2)  # Bayes' rule from 50/50
        assert q == pytest.approx(expected, abs=1e-5)
        assert after["label"] == ("violation" if q >= 0.5 else "no_violation")
        assert after["class_mix"]["source"] == "set"
        assert after["reasons"] == before["reasons"]
    # The audit record keeps the mix each answer was given for.
    ledger = AuditLedger(serving_settings(trained_home).resolved_oversight_url)
    summary = ledger.get(at_80[-1]["record_id"]).summary
    assert summary["class_mix"] == {
        "source": "set",
        "shares": {"no_violation": 0.2, "violation": 0.8},
    }


def test_an_estimated_mix_waits_for_enough_predictions_then_follows_them(
    trained_home, train_slice, tmp_path
):
    home = tmp_path / "home"  # a home with no predictions recorded yet
    shutil.copytree(trained_home, home)
    (home / "oversight.db").unlink(missing_ok=True)
    records = train_slice.records[10:24]
    settings = {"class_mix": {"echr": "estimated"}, "class_mix_min_cases": 10}
    answers = _answers(home, train_slice, records, **settings)
    first = answers[0]["class_mix"]
    assert first["source"] == "trained" and "fewer than the 10" in first["note"]
    last = answers[-1]["class_mix"]
    assert last["source"] in ("estimated", "trained") and last["cases"] >= 10
    if last["source"] == "estimated":
        assert sum(_probabilities({"probabilities": last["shares"]}).values()) == pytest.approx(1)
    else:  # too few cases for a usable estimate: it says so
        assert "standard error" in last["note"]


def test_a_mix_the_model_s_classes_do_not_fit_is_reported_not_fatal(trained_home, train_slice):
    answers = _answers(
        trained_home, train_slice, train_slice.records[:1], class_mix={"echr": "granted=0.7"}
    )
    mix = answers[0]["class_mix"]
    assert mix["source"] == "trained" and "not used" in mix["note"] and "granted" in mix["note"]
    assert json.dumps(answers[0])  # an answer as usual
