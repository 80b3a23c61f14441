"""API keys of every role in the trained home's oversight database."""

from pathlib import Path

import pytest

from casecast.models.oversight import ROLES, KeyStore
from casecast.serving.settings import ServingSettings


def serving_settings(home: Path, **overrides) -> ServingSettings:
    """The server's settings over ``home``: the registry follower off (tests swap versions
    by calling reload), plain-text logs."""
    overrides = {"reload_interval_s": 0, "json_logs": False, **overrides}
    return ServingSettings(home=home, tracking_uri=None, **overrides)


@pytest.fixture(scope="session")
def role_keys(trained_home) -> dict[str, str]:
    """One active key per role, by role name."""
    store = KeyStore(serving_settings(trained_home).resolved_oversight_url)
    return {role: store.create(f"test {role}", role)[1] for role in ROLES}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
