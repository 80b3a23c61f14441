"""The service follows the registry: a promotion or rollback is loaded in the background and
swapped in while requests go on, and every answer names the version that produced it."""

import asyncio
import json
import shutil
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from casecast.models.precedents.files import point_current
from casecast.models.registry import configure_tracking, promote
from casecast.serving.app import create_app
from tests.serving.conftest import bearer, serving_settings

NAME = "casecast-echr-violation"


@pytest.fixture
def home(trained_home, tmp_path):
    copy = tmp_path / "home"
    shutil.copytree(trained_home, copy)
    return copy


def _register_second_version(home) -> str:
    """The champion's files registered again as a new version (a retrain's stand-in)."""
    from mlflow import MlflowClient

    configure_tracking(serving_settings(home))
    client = MlflowClient()
    first = client.get_model_version(NAME, "1")
    return str(client.create_model_version(NAME, first.source, run_id=first.run_id).version)


def _new_index_version(home) -> str:
    """The served index copied to a new version folder (a rebuild's stand-in)."""
    root = home / "indexes" / "echr"
    old = (root / "CURRENT").read_text().strip()
    new = f"{old}-rebuilt"
    shutil.copytree(root / old, root / new)
    manifest = json.loads((root / new / "manifest.json").read_text())
    (root / new / "manifest.json").write_text(json.dumps({**manifest, "version": new}))
    return new


def test_a_promotion_mid_traffic_fails_no_request_and_answers_switch_version(
    home, role_keys, train_slice, monkeypatch
):
    app = create_app(serving_settings(home))
    texts = [r.text for r in train_slice.records[:16]]
    with TestClient(app, headers=bearer(role_keys["data-scientist"])) as client:
        assert client.get("/health").json()["datasets"]["echr"]["model"]["version"] == "1"
        second = _register_second_version(home)
        new_index = _new_index_version(home)
        promote(NAME, second)
        point_current(home / "indexes" / "echr", new_index)
        headers = bearer(role_keys["data-scientist"])
        # The first requests are held after they took the model they run on, until the reload
        # has answered: each must still finish on the version it started with.
        service = app.state.services.models["echr"]
        predict, arrived, release = service.predict, threading.Semaphore(0), threading.Event()

        def held(loaded, *args):
            arrived.release()
            release.wait(120)
            return predict(loaded, *args)

        monkeypatch.setattr(service, "predict", held)
        in_flight = 4  # fewer than the worker threads: the reload needs one

        async def traffic_with_a_reload() -> tuple[list[httpx.Response], httpx.Response]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://casecast", headers=headers, timeout=120
            ) as c:
                before = [
                    asyncio.create_task(c.post("/v1/predict", json={"text": t, "explain": False}))
                    for t in texts[:in_flight]
                ]
                for _ in before:
                    assert await asyncio.to_thread(arrived.acquire, timeout=120)
                reload = await c.post("/v1/admin/reload")
                release.set()
                after = [
                    await c.post("/v1/precedents/search", json={"text": t, "k": 2})
                    for t in texts[8:10]
                ] + [await c.post("/v1/predict", json={"text": t}) for t in texts[10:]]
                return [*(await asyncio.gather(*before)), *after], reload

        answers, reload = asyncio.run(traffic_with_a_reload())
        assert [a.status_code for a in answers] == [200] * len(answers)
        assert reload.status_code == 200, reload.text
        changes = {c["component"]: c for c in reload.json()["changes"]}
        assert (changes["model"]["old_version"], changes["model"]["new_version"]) == ("1", second)
        assert changes["index"]["new_version"] == new_index
        assert [a.json()["model"]["version"] for a in answers[:in_flight]] == ["1"] * in_flight
        # Once the reload answered, every answer comes from the new pair.
        searches, predictions = answers[in_flight : in_flight + 2], answers[in_flight + 2 :]
        assert {a.json()["index"]["version"] for a in searches} == {new_index}
        assert {a.json()["model"]["version"] for a in predictions} == {second}
        health = client.get("/health").json()["datasets"]["echr"]
        assert health["model"]["version"] == second and health["index"]["version"] == new_index
        metrics = client.get("/metrics").text
        assert (
            f'casecast_served_version{{component="model",dataset="echr",version="{second}"}}'
            in (metrics)
        )
        assert 'casecast_served_version{component="model",dataset="echr",version="1"}' not in (
            metrics
        )
        # A rollback is a promotion of the old version: the same path back.
        promote(NAME, "1")
        client.post("/v1/admin/reload")
        assert client.post("/v1/predict", json={"text": texts[0]}).json()["model"]["version"] == "1"


def test_the_follower_picks_up_a_promotion_by_itself(home, role_keys, train_slice):
    settings = serving_settings(home, reload_interval_s=0.2)
    with TestClient(create_app(settings), headers=bearer(role_keys["claimant"])) as client:
        second = _register_second_version(home)
        promote(NAME, second)
        deadline = time.monotonic() + 60
        version = "1"
        while version != second and time.monotonic() < deadline:
            time.sleep(0.2)
            version = client.get("/health").json()["datasets"]["echr"]["model"]["version"]
        assert version == second
        answer = client.post("/v1/predict", json={"text": train_slice.records[0].text})
        assert answer.status_code == 200 and answer.json()["model"]["version"] == second


def test_a_version_that_cannot_load_leaves_the_old_one_serving(home, role_keys, train_slice):
    from mlflow import MlflowClient

    app = create_app(serving_settings(home))
    with TestClient(app, headers=bearer(role_keys["data-scientist"])) as client:
        configure_tracking(serving_settings(home))
        broken = MlflowClient().create_model_version(NAME, str(home / "nowhere"), run_id=None)
        promote(NAME, str(broken.version))
        reload = client.post("/v1/admin/reload").json()
        [change] = [c for c in reload["changes"] if c["component"] == "model"]
        assert change["new_version"] == "1" and change["error"]
        answer = client.post("/v1/predict", json={"text": train_slice.records[0].text})
        assert answer.status_code == 200 and answer.json()["model"]["version"] == "1"
        assert client.get("/ready").status_code == 200
