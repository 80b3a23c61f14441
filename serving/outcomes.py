"""The outcome model of one data set as served: the registered pyfunc, its model card, and
predictions with reasons worded for people."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import ValidationError

from casecast.data.datasets import get_dataset
from casecast.data.schema import TEXT_COLUMN
from casecast.data.sections import stated_particulars
from casecast.models.card import CARD_ARTIFACT, OutcomeModelCard
from casecast.models.registry import (
    ModelNotAvailableError,
    ModelVersionInfo,
    load_pyfunc,
    resolve_version,
    run_json,
)
from casecast.serving.errors import InvalidInputError
from casecast.serving.records import track_record
from casecast.serving.schemas import ComponentChange
from casecast.serving.wording import reason_sentence

log = logging.getLogger("casecast.serving")
_CASTS = {
    "string": str,
    "long": int,
    "integer": int,
    "double": float,
    "float": float,
    "boolean": bool,
}


@dataclass
class LoadedModel:
    """A registered model as served: the pyfunc, its registry entry and its model card."""

    model: Any
    info: ModelVersionInfo
    input_types: dict[str, str]
    card: OutcomeModelCard | None
    track_record: dict[str, Any] | None
    outcomes: list[str]  # the classes it estimates, from its output signature


@dataclass
class OutcomeService:
    dataset: str
    uri: str
    loaded: LoadedModel | None = None
    error: str | None = None

    def load(self) -> None:
        try:
            self.loaded, self.error = _load(self.uri), None
        except ModelNotAvailableError as error:
            self.loaded, self.error = None, str(error)
            log.warning("%s", error)

    def refresh(self) -> ComponentChange | None:
        """Load the version the alias names now if it is not the one served, and swap it in
        (one assignment: a request holds the model it started with). On failure the old
        version keeps serving and the change carries the error."""
        served = self.loaded.info.version if self.loaded is not None else None
        try:
            if resolve_version(self.uri).version == served:
                return None
            fresh = _load(self.uri)
        except ModelNotAvailableError as error:
            if served is None:
                self.error = str(error)
                return None
            log.error("%s did not load; still serving v%s: %s", self.uri, served, error)
            return ComponentChange(
                dataset=self.dataset,
                component="model",
                old_version=served,
                new_version=served,
                error=str(error),
            )
        self.loaded, self.error = fresh, None
        log.info("%s: v%s -> v%s", self.uri, served, fresh.info.version)
        return ComponentChange(
            dataset=self.dataset,
            component="model",
            old_version=served,
            new_version=fresh.info.version,
        )

    def require(self) -> LoadedModel:
        if self.loaded is None:
            raise ModelNotAvailableError(self.error or f"no model loaded from {self.uri}")
        return self.loaded

    def predict(
        self, loaded: LoadedModel, text: str, fields: dict[str, Any], explain: bool, top_k: int
    ) -> dict[str, Any]:
        spec = get_dataset(self.dataset)
        read = {**self._stated(loaded, text, spec.language), **self._typed(loaded, fields)}
        row = {TEXT_COLUMN: text, **read}
        answer = loaded.model.predict(
            pd.DataFrame([row]), params={"explain": explain, "top_k": top_k}
        )
        first = answer.iloc[0]
        label = str(first["label"])
        classes = [c.removeprefix("p_") for c in answer.columns if c.startswith("p_")]
        reasons = [dict(r) for r in first["reasons"]] if explain and "reasons" in answer else []
        value_names = {name: grouping.values for name, grouping in spec.group_fields.items()}
        for reason in reasons:
            reason["explanation"] = reason_sentence(reason, label, spec.field_labels, value_names)
        return {
            "label": label,
            "probability": float(first["probability"]),
            "probabilities": [{"label": c, "probability": float(first[f"p_{c}"])} for c in classes],
            "reasons": reasons,
            "fields": read,
            "articles": list(first["articles"]) if "articles" in answer else [],
        }

    def _stated(self, loaded: LoadedModel, text: str, language: str) -> dict[str, str]:
        """Fields a pasted decision's introduction states (the request's own win)."""
        stated = stated_particulars(text, language)
        return {name: value for name, value in stated.items() if name in loaded.input_types}

    def _typed(self, loaded: LoadedModel, fields: dict[str, Any]) -> dict[str, Any]:
        allowed = {name for name in loaded.input_types if name != TEXT_COLUMN}
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise InvalidInputError(
                f"unknown field(s) {', '.join(unknown)} for {self.dataset}; "
                f"this model reads: {', '.join(sorted(allowed)) or 'no fields'}"
            )
        typed = {}
        for name, value in fields.items():
            if value is None:
                continue
            cast = _CASTS.get(loaded.input_types[name], str)
            try:
                typed[name] = cast(value)
            except (TypeError, ValueError):
                raise InvalidInputError(
                    f"field {name} must be {loaded.input_types[name]}, got {value!r}"
                ) from None
        return typed


def _load(uri: str) -> LoadedModel:
    model, info = load_pyfunc(uri)
    card = _read_card(info)
    schema = model.metadata.get_input_schema()
    input_types = {c.name: str(c.type).split(".")[-1].lower() for c in schema.inputs}
    output = model.metadata.get_output_schema()
    outcomes = [c.name.removeprefix("p_") for c in output.inputs if c.name.startswith("p_")]
    return LoadedModel(
        model,
        info,
        input_types,
        card,
        track_record(card, info.params.get("validation_from")),
        outcomes,
    )


def _read_card(info: ModelVersionInfo) -> OutcomeModelCard | None:
    """The model card its training run logged; None (answers without records) when it has
    none or one this server cannot read."""
    raw = run_json(info.run_id, CARD_ARTIFACT)
    if raw is None:
        return None
    try:
        return OutcomeModelCard.model_validate(raw)
    except ValidationError as error:
        log.warning("the model card of %s v%s is unreadable: %s", info.name, info.version, error)
        return None
