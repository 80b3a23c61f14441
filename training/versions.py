"""`casecast models` and `casecast promote`: registered versions side by side, the champion
alias."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from casecast.data.datasets import (
    get_dataset,
)
from casecast.models.registry import (
    CHAMPION,
    ModelNotAvailableError,
    ModelVersionInfo,
    alias_uri,
    list_versions,
    promote,
    registered_model_name,
    resolve_version,
)
from casecast.models.run_contract import (
    DATA_FINGERPRINT_TAG,
    EMBEDDING_MODEL_ID_PARAM,
    N_VALIDATION_PARAM,
    VALIDATION_FROM_PARAM,
)
from casecast.training.model_card import score_text


def promote_version(dataset: str, version: str) -> str | None:
    return promote(model_name(dataset), version)


# What `casecast models` shows of each version's training run, to compare before promoting.
_VERSION_FIGURES = ("macro_f1", "accuracy", "majority_accuracy", "roc_auc", "brier", "ece")


def version_table(dataset: str) -> list[dict[str, Any]]:
    """Every registered version of a data set's model with its temporal validation figures.

    Figures compare only between versions validated from the same year on the same data
    (``validation_from`` and ``data_fingerprint`` equal); the table shows both to tell.
    """
    return [_version_row(info) for info in list_versions(model_name(dataset))]


def version_rows(dataset: str, versions: Sequence[str]) -> list[dict[str, Any]]:
    """``version_table``'s rows for the given versions only: one registry and run read each."""
    name = model_name(dataset)
    return [_version_row(resolve_version(f"models:/{name}/{number}")) for number in versions]


def _version_row(info: ModelVersionInfo) -> dict[str, Any]:
    validated, n_validation = (
        info.params.get(k) for k in (VALIDATION_FROM_PARAM, N_VALIDATION_PARAM)
    )
    return {
        "version": info.version,
        "aliases": list(info.aliases),
        "validation_from": int(validated) if validated else None,
        "n_validation": int(n_validation) if n_validation else None,
        **{key: info.metrics.get(f"val_{key}") for key in _VERSION_FIGURES},
        "data_fingerprint": info.tags.get(DATA_FINGERPRINT_TAG),
        "embedding_model_id": info.params.get(EMBEDDING_MODEL_ID_PARAM),
    }


def has_champion(dataset: str) -> bool:
    return name_has_champion(model_name(dataset))


def model_name(dataset: str) -> str:
    """The data set's registered model name."""
    spec = get_dataset(dataset)
    return registered_model_name(spec.name, spec.task)


def name_has_champion(name: str) -> bool:
    try:
        resolve_version(alias_uri(name, CHAMPION))
    except ModelNotAvailableError:
        return False
    return True


def validated_alike(*rows: dict[str, Any]) -> bool:
    """Whether versions' validation figures compare: same first year, same training data."""
    return len({(row["validation_from"], row["data_fingerprint"]) for row in rows}) <= 1


def promotion_summary(new: dict[str, Any], old: dict[str, Any]) -> str:
    """One line: the two versions' validation figures, or why they do not compare."""
    if not validated_alike(new, old):
        return "validated on different years or data: see `casecast models` before trusting either"
    return (
        f"validation from {new['validation_from']}: macro-F1 {score_text(new['macro_f1'])} "
        f"(was {score_text(old['macro_f1'])}), ECE {score_text(new['ece'])} "
        f"(was {score_text(old['ece'])})"
    )
