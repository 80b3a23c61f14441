"""Done when: a court nobody shipped comes in from a spec file alone, and is trained,
indexed and served: `/v1/predict` and `/v1/precedents/search` answer for it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from casecast.serving.app import create_app
from casecast.training.cli import app
from tests.data.court_export import write_court
from tests.serving.conftest import serving_settings


@pytest.mark.e2e
def test_a_new_court_is_trained_indexed_and_served_from_its_spec(
    tmp_path, monkeypatch, embedding_cache
):
    spec_path = write_court(tmp_path / "court", masked=True)
    home = tmp_path / "home"
    monkeypatch.setenv("CASECAST_HOME", str(home))
    monkeypatch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--dataset", str(spec_path)])
    assert trained.exit_code == 0, trained.output + repr(trained.exception)
    assert "nordmark registered" in trained.output
    indexed = runner.invoke(app, ["index", "--dataset", "nordmark"])  # known by name now
    assert indexed.exit_code == 0, indexed.output + repr(indexed.exception)

    # The server finds the registered spec through its own settings' home, not the shell's.
    monkeypatch.delenv("CASECAST_HOME")
    monkeypatch.chdir(tmp_path)
    settings = serving_settings(home, public_demo=True, datasets=["nordmark"])
    with TestClient(create_app(settings)) as client:
        health = client.get("/health").json()
        assert "nordmark" in health["datasets"], health
        text = (
            "The claimant, Mr Lefèvre, appealed.\n"
            "The employer withheld 6 months of salary; the pay slips show it."
        )
        answer = client.post(
            "/v1/predict",
            json={"dataset": "nordmark", "text": text, "fields": {"claim": "unpaid wages"}},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        probabilities = {p["label"]: p["probability"] for p in body["probabilities"]}
        assert set(probabilities) == {"dismissed", "granted"}
        assert abs(sum(probabilities.values()) - 1) < 1e-6
        found = client.post(
            "/v1/precedents/search", json={"dataset": "nordmark", "text": text, "k": 5}
        )
        assert found.status_code == 200, found.text
        results = found.json()["results"]
        assert len(results) == 5 and all(r["case_id"].startswith("nm-A-") for r in results)
        # The wage claims of the past come first: same facts, same words.
        assert sum("salary" in " ".join(p["text"] for p in r["passages"]) for r in results) >= 4
        page = client.get("/?lang=kk").text
        assert "Нордмарк апелляциялық соты" in page  # the court's name in the picker, in Kazakh
        assert "шағым қанағаттандырылды" in page  # its outcomes' words, from the spec
        layout = page.split('id="layout">')[1].split("</script>")[0]
        assert '"nordmark": {"filters": ["court", "year", "outcome"]' in layout
