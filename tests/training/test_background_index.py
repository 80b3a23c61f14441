"""`casecast up` serves the quick index first and builds the full profile in a background
process; the server reports the build in /health and swaps the full index in when it is done."""

import shutil
import time

import pytest
from fastapi.testclient import TestClient

from casecast.models.precedents import PrecedentIndex
from casecast.models.settings import CasecastSettings
from casecast.serving.app import create_app
from casecast.training.index import full_profile_version, start_full_profile
from tests.serving.conftest import serving_settings

FULL_LIMIT = 8  # cases per split the background build reads: every passage of 16 cases


@pytest.fixture
def home(trained_home, echr_dir, embedding_cache, tmp_path, monkeypatch):
    copy = tmp_path / "home"
    shutil.copytree(trained_home, copy)
    monkeypatch.setenv("CASECAST_HOME", str(copy))
    monkeypatch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
    monkeypatch.setenv("CASECAST_DATA_DIR", str(echr_dir.parent))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return copy


def test_the_full_profile_is_built_in_the_background_and_swapped_in(home):
    full = CasecastSettings(max_chunks_per_case=0)
    version, built = full_profile_version("echr", full, FULL_LIMIT)
    assert not built
    quick = PrecedentIndex.current_version(home / "indexes", "echr")
    # The public demo answers searches without a key, as `casecast up` serves them.
    settings = serving_settings(home, reload_interval_s=0.2, public_demo=True)
    with TestClient(create_app(settings)) as client:
        child = start_full_profile("echr", full, FULL_LIMIT)
        try:
            seen_states: set[str] = set()
            answered_meanwhile = False
            deadline = time.monotonic() + 240
            served = quick
            while served != version and time.monotonic() < deadline:
                health = client.get("/health").json()["datasets"]["echr"]
                served = health["index"]["version"]
                for build in health["builds"]:
                    assert build["version"] == version and build["passages_per_case"] is None
                    assert 0 <= build["passages_done"] <= build["passages_total"]
                    seen_states.add(build["state"])
                if served == quick and not answered_meanwhile:
                    search = client.post(
                        "/v1/precedents/search", json={"text": "detention on remand", "k": 3}
                    )
                    assert search.status_code == 200
                    answered_meanwhile = search.json()["index"]["version"] == quick
                time.sleep(0.2)
            assert child.wait(timeout=60) == 0
        finally:
            if child.poll() is None:
                child.kill()
        assert served == version, f"not swapped in; states seen {seen_states}"
        assert answered_meanwhile and seen_states & {"embedding", "indexing", "done"}
        assert client.get("/health").json()["datasets"]["echr"]["builds"] == []
        search = client.post("/v1/precedents/search", json={"text": "detention on remand", "k": 3})
        assert search.status_code == 200 and search.json()["index"]["version"] == version
    manifest = PrecedentIndex.load(home / "indexes", "echr").manifest
    assert manifest.max_chunks_per_case == 0 and manifest.n_cases == 2 * FULL_LIMIT
    assert full_profile_version("echr", full, FULL_LIMIT) == (version, True)
    assert (home / "logs" / "index-full-echr.log").stat().st_size > 0
