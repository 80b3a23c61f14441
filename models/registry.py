"""Registered model names, aliases and loading by URI."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from casecast.models.precedents import IndexManifest
from casecast.models.run_contract import (
    DATA_FINGERPRINT_TAG,
    EMBEDDING_MODEL_ID_PARAM,
    INDEX_RUN_ID_TAG,
    INDEX_VERSION_TAG,
)
from casecast.models.settings import ARTIFACT_FOLDER, CasecastSettings, home_artifact_uri

CHAMPION = "champion"
PREVIOUS = "previous"
log = logging.getLogger(__name__)


class ModelNotAvailableError(RuntimeError):
    """No model behind the URI; the message says how to make one."""


def registered_model_name(dataset: str, task: str) -> str:
    return f"casecast-{dataset}-{task}"


def alias_uri(name: str, alias: str = CHAMPION) -> str:
    return f"models:/{name}@{alias}"


def configure_tracking(settings: CasecastSettings) -> str:
    """Point MLflow at the configured store (SQLite + local artifacts unless told otherwise).

    Called once by each entry point (the CLI's callback, the server's lifespan, a benchmark,
    a test); the pipelines below them never change it.
    """
    import mlflow

    settings.home.mkdir(parents=True, exist_ok=True)
    uri = settings.resolved_tracking_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # MLflow's migration chatter is not the user's business.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return uri


def ensure_experiment(name: str, settings: CasecastSettings) -> str:
    """The experiment's id, created with artifacts under <home>/mlartifacts when new:
    addressed relative to the home when the store is the home's own SQLite file (so the
    home can move), by absolute path for another database; a tracking server (http) keeps
    them in its artifact store, where every member of a team reads them."""
    import mlflow

    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    if settings.tracking_uri is None:
        location: str | None = home_artifact_uri(f"{ARTIFACT_FOLDER}/{name}")
    elif settings.tracking_uri.startswith(("http://", "https://")):
        location = None  # a tracking server keeps artifacts in its own store, for everyone
    else:
        location = (settings.artifact_root / name).as_uri()
    return str(mlflow.create_experiment(name, artifact_location=location))


@dataclass(frozen=True)
class ModelVersionInfo:
    name: str
    version: str
    run_id: str | None
    aliases: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # of the training run
    version_tags: dict[str, str] = field(default_factory=dict)  # of the registered version
    created_ms: int | None = None  # when it was registered (ms since the epoch)


def resolve_version(uri: str) -> ModelVersionInfo:
    """What a ``models:/name@alias`` or ``models:/name/version`` URI points at, with its run."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    name, _, ref = uri.removeprefix("models:/").partition("@")
    try:
        if ref:
            version = client.get_model_version_by_alias(name, ref)
        else:
            name, _, number = uri.removeprefix("models:/").partition("/")
            version = client.get_model_version(name, number)
    except MlflowException as error:
        raise ModelNotAvailableError(_how_to_train(uri)) from error
    return _version_info(client, version)


def list_versions(name: str) -> list[ModelVersionInfo]:
    """Every registered version of ``name`` with its run's figures, newest first."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        registered = client.get_registered_model(name)
    except MlflowException as error:
        raise ModelNotAvailableError(_how_to_train(alias_uri(name))) from error
    # Search results carry no aliases (mlflow#9783): take them from the registered model.
    aliases: dict[str, list[str]] = {}
    for alias, number in (registered.aliases or {}).items():
        aliases.setdefault(str(number), []).append(alias)
    versions = client.search_model_versions(f"name = '{name}'")
    infos = [_version_info(client, v, tuple(aliases.get(str(v.version), ()))) for v in versions]
    return sorted(infos, key=lambda info: int(info.version), reverse=True)


def _version_info(
    client: Any, version: Any, aliases: tuple[str, ...] | None = None
) -> ModelVersionInfo:
    """A registry entry with its training run's metrics, params and tags (empty if gone)."""
    from mlflow.exceptions import MlflowException

    metrics: dict[str, float] = {}
    params: dict[str, str] = {}
    tags: dict[str, str] = {}
    if version.run_id:
        try:
            run = client.get_run(version.run_id)
            metrics, params, tags = (
                dict(run.data.metrics),
                dict(run.data.params),
                dict(run.data.tags),
            )
        except MlflowException:
            log.warning("run %s of %s v%s is gone", version.run_id, version.name, version.version)
    return ModelVersionInfo(
        name=version.name,
        version=str(version.version),
        run_id=version.run_id,
        aliases=aliases if aliases is not None else tuple(getattr(version, "aliases", ()) or ()),
        metrics=metrics,
        params=params,
        tags={k: v for k, v in tags.items() if not k.startswith("mlflow.")},
        version_tags=dict(getattr(version, "tags", None) or {}),
        created_ms=getattr(version, "creation_timestamp", None),
    )


def load_pyfunc(uri: str) -> tuple[Any, ModelVersionInfo]:
    """Load a registered pyfunc by URI; a missing model raises ``ModelNotAvailableError``."""
    import mlflow

    info = resolve_version(uri)
    try:
        model = mlflow.pyfunc.load_model(f"models:/{info.name}/{info.version}")
    except (OSError, ValueError, AttributeError, mlflow.exceptions.MlflowException) as error:
        # ValueError/AttributeError: files written by an incompatible casecast version.
        raise ModelNotAvailableError(
            f"{uri} is registered but its files cannot be loaded ({error}); retrain it"
        ) from error
    return model, info


def run_bytes(run_id: str | None, artifact: str) -> bytes | None:
    """An artifact of a run, or None when it has none."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if not run_id:
        return None
    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact)
        with open(path, "rb") as handle:
            return handle.read()
    except (MlflowException, OSError):
        log.warning("run %s has no readable %s", run_id, artifact)
        return None


def run_text(run_id: str | None, artifact: str) -> str | None:
    """A text artifact of a run, or None when it has none."""
    data = run_bytes(run_id, artifact)
    return None if data is None else data.decode("utf-8")


def run_json(run_id: str | None, artifact: str) -> dict[str, Any] | None:
    """A JSON artifact of a run (e.g. its model card), or None when it has none."""
    import json

    text = run_text(run_id, artifact)
    try:
        return None if text is None else json.loads(text)
    except ValueError:
        log.warning("run %s has an unreadable %s", run_id, artifact)
        return None


def promote(name: str, version: str) -> str | None:
    """Give ``version`` the champion alias; the old champion becomes ``previous``."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    client.get_model_version(name, version)  # fails clearly for an unknown version
    try:
        old = client.get_model_version_by_alias(name, CHAMPION).version
    except MlflowException:
        old = None
    if old is not None and str(old) != str(version):
        client.set_registered_model_alias(name, PREVIOUS, old)
    client.set_registered_model_alias(name, CHAMPION, version)
    return None if old is None else str(old)


@dataclass(frozen=True)
class IndexPairing:
    """Whether a model version and an index version belong together: built from the same
    data with the same encoder."""

    matches: bool
    detail: str | None = None


def index_pairing(info: ModelVersionInfo, manifest: IndexManifest) -> IndexPairing:
    """How ``info``'s training run compares with the index ``manifest`` describes."""
    problems = []
    fingerprint = info.tags.get(DATA_FINGERPRINT_TAG)
    if fingerprint != manifest.data_fingerprint:
        problems.append(
            f"model v{info.version} was trained on data {str(fingerprint)[:8]}, the index "
            f"{manifest.version} holds data {manifest.data_fingerprint[:8]}"
        )
    encoder = info.params.get(EMBEDDING_MODEL_ID_PARAM)
    if encoder != manifest.embedding_model_id:
        problems.append(
            f"model v{info.version} reads passages with {encoder}, the index with "
            f"{manifest.embedding_model_id}"
        )
    if not problems:
        return IndexPairing(True)
    advice = f"run `casecast index --dataset {manifest.dataset}` with the model's settings"
    return IndexPairing(False, "; ".join(problems) + f": {advice}")


def pair_index_with_champion(name: str, manifest: IndexManifest, index_run_id: str) -> bool:
    """Tag the champion with the index version built for it (same data, same encoder), so
    the registry says which index goes with which model; False when they do not match."""
    from mlflow import MlflowClient

    try:
        champion = resolve_version(alias_uri(name, CHAMPION))
    except ModelNotAvailableError:
        return False
    if not index_pairing(champion, manifest).matches:
        log.warning("index %s does not match %s v%s", manifest.version, name, champion.version)
        return False
    client = MlflowClient()
    client.set_model_version_tag(name, champion.version, INDEX_VERSION_TAG, manifest.version)
    client.set_model_version_tag(name, champion.version, INDEX_RUN_ID_TAG, index_run_id)
    return True


def _how_to_train(uri: str) -> str:
    name = uri.removeprefix("models:/").split("@")[0].split("/")[0]
    parts = name.split("-")
    dataset = parts[1] if len(parts) > 2 else "echr"
    return f"no model at {uri}: run `casecast train --dataset {dataset}` to train and register one"
