"""Artifacts addressed relative to the home, so that a trained home can move.

MLflow records each experiment's artifact location in its store. An absolute path (MLflow's
default) ties a trained home to the machine and folder that trained it: moved, or mounted
into a container, it serves nothing. Experiments created in the home's own SQLite store
record ``casecast-home:/mlartifacts/<experiment>`` instead, and this artifact repository
(registered with MLflow through the ``mlflow.artifact_repository`` entry point) resolves it
against the folder of the store it is read from: the home, wherever it is now.

Only MLflow imports this module (through the entry point, once MLflow is loaded): importing
it first would start MLflow's plugin loading while it is half initialised.
"""

from __future__ import annotations

from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

from casecast.models.settings import HOME_ARTIFACT_SCHEME as SCHEME

SQLITE_PREFIX = "sqlite:///"


def home_of(tracking_uri: str) -> Path:
    """The home a SQLite tracking store lives in (the folder of its database file)."""
    if not tracking_uri.startswith(SQLITE_PREFIX):
        raise MlflowException(
            f"{SCHEME}: artifacts are kept in the home of a SQLite store; the tracking URI is "
            f"{tracking_uri}"
        )
    return Path(tracking_uri.removeprefix(SQLITE_PREFIX)).parent


class HomeArtifactRepository(LocalArtifactRepository):
    """Local files under the home of the tracking store that is asking."""

    def __init__(
        self, artifact_uri: str, tracking_uri: str | None = None, registry_uri: str | None = None
    ) -> None:
        import mlflow

        home = home_of(tracking_uri or mlflow.get_tracking_uri())
        relative = artifact_uri.removeprefix(f"{SCHEME}:").lstrip("/")
        self.home_uri = artifact_uri
        super().__init__((home / relative).as_uri(), tracking_uri, registry_uri)
