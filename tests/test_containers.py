"""The container files agree with each other and with the home layout (the images are not
built here: no container runtime on these machines)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_mounts_the_home_where_the_image_serves_it_from():
    dockerfile = (ROOT / "Dockerfile").read_text()
    home = re.search(r"CASECAST_HOME=(\S+)", dockerfile).group(1)
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for name in ("api", "mlflow"):
        service = compose["services"][name]
        assert [v.rsplit(":", 1)[1] for v in service["volumes"]] == [home]
        assert not service["user"].startswith(("0:", "root"))
    assert f"sqlite:///{home}/mlflow.db" in " ".join(compose["services"]["mlflow"]["command"])
    assert compose["services"]["api"]["ports"] == ["127.0.0.1:8000:8000"]


def test_the_image_runs_as_a_user_and_checks_its_health():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile
    # The artifact store plugin that lets a mounted home serve is part of the install.
    assert "pip install --no-deps ." in dockerfile and "requirements.lock" in dockerfile
    assert '"mlflow.artifact_repository"' in (ROOT / "pyproject.toml").read_text()


def test_the_team_profile_shares_one_postgresql_and_a_tracking_server_that_serves_artifacts():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    team = {name for name, s in services.items() if "team" in s.get("profiles", [])}
    assert team == {"postgres", "tracking", "api-team"}
    # No default secret: compose refuses to start without the password.
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${CASECAST_DB_PASSWORD:?")
    command = services["tracking"]["command"]
    store = command[command.index("--backend-store-uri") + 1]
    assert store.startswith("postgresql+psycopg://casecast:${CASECAST_DB_PASSWORD}@postgres:")
    assert "--serve-artifacts" in command
    artifacts = command[command.index("--artifacts-destination") + 1]
    assert any(v.endswith(f":{artifacts}") for v in services["tracking"]["volumes"])
    api = services["api-team"]["environment"]
    assert api["CASECAST_TRACKING_URI"] == "http://tracking:5000"
    assert api["CASECAST_OVERSIGHT_URL"].endswith("@postgres:5432/casecast")
    assert "CREATE DATABASE casecast" in compose["configs"]["oversight-database"]["content"]
