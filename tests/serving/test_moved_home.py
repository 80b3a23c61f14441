"""A trained home keeps serving after it is moved (or mounted elsewhere, as in a container)."""

import shutil

import pytest
from fastapi.testclient import TestClient

from casecast.serving.app import create_app
from tests.serving.conftest import serving_settings


def test_a_moved_home_serves_the_same_predictions_and_search_results(
    trained_home, tmp_path, train_slice
):
    record = train_slice.records[7]
    fields = {"respondent": record.inputs["respondent"], "year": record.inputs["year"]}
    query = {"text": record.text, "k": 5}

    def answers(home):
        with TestClient(create_app(serving_settings(home, public_demo=True))) as client:
            health = client.get("/health").json()
            predicted = client.post("/v1/predict", json={"text": record.text, "fields": fields})
            searched = client.post("/v1/precedents/search", json=query)
            card = client.get("/v1/model").json()["card"]
        assert predicted.status_code == searched.status_code == 200, predicted.text
        # Each answer has its own audit record; the rest must be the same.
        searched_body = {k: v for k, v in searched.json().items() if k != "record_id"}
        return health, predicted.json(), searched_body, card

    before = answers(trained_home)
    copied = tmp_path / "copied"
    shutil.copytree(trained_home, copied)
    moved = tmp_path / "mounted" / "casecast"
    moved.parent.mkdir()
    shutil.move(copied, moved)  # the folder it was copied to is gone
    # Nothing in the store points back at where the home was trained.
    assert str(trained_home).encode() not in (moved / "mlflow.db").read_bytes()
    health, predicted, searched, card = answers(moved)
    assert health["status"] == "ok" and health == before[0]
    for key in ("label", "probabilities", "articles", "model", "track_record"):
        assert predicted[key] == before[1][key]
    assert predicted["probability"] == pytest.approx(before[1]["probability"], abs=1e-12)
    assert predicted["reasons"] == before[1]["reasons"]
    assert searched == before[2] and card == before[3]
    assert (moved / "oversight.db").is_file()  # the audit chain moved with the home
