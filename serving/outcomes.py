"""Outcome predictions as served: each data set's registered model (following its alias),
and the routes' work on them: an estimate with its reasons worded for people and recorded in
the audit log, the model card, the reliability diagram, the registered versions."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from casecast.data.datasets import DatasetSpec
from casecast.data.schema import TEXT_COLUMN
from casecast.data.sections import stated_particulars
from casecast.models.card import OutcomeModelCard
from casecast.models.outcome import Effect, FieldEffect
from casecast.models.outcome.articles import articles_at
from casecast.models.oversight import text_sha256
from casecast.models.pyfunc import OutcomeAnswer, outcomes_of, read_answers
from casecast.models.registry import (
    ModelNotAvailableError,
    ModelVersionInfo,
    list_versions,
    load_pyfunc,
    resolve_version,
    run_bytes,
    run_json,
)
from casecast.models.run_contract import (
    CARD_ARTIFACT,
    CARD_PARAMS,
    CARD_TAGS,
    INDEX_VERSION_TAG,
    RELIABILITY_ARTIFACT,
    VALIDATION_FROM_PARAM,
    VALIDATION_METRIC_PREFIX,
)
from casecast.serving import schemas
from casecast.serving.access import Principal
from casecast.serving.class_mix import TRAINED, ClassMixPolicy, ServedMix
from casecast.serving.errors import InvalidInputError, NotFoundError
from casecast.serving.limits import check_case_text
from casecast.serving.metrics import ServiceMetrics
from casecast.serving.oversight import OversightService, entry
from casecast.serving.precedents import PrecedentService
from casecast.serving.records import group_record, track_record
from casecast.serving.settings import ServingSettings
from casecast.serving.swap import Swappable
from casecast.serving.wording import reason_sentence

log = logging.getLogger("casecast.serving")
_CASTS = {"string": str, "long": int, "integer": int, "double": float, "float": float,
          "boolean": bool}  # fmt: skip


@dataclass(frozen=True)
class LoadedModel:
    """A registered model as served: the pyfunc, its registry entry and its model card."""

    model: Any
    info: ModelVersionInfo
    input_types: dict[str, str]
    card: OutcomeModelCard | None
    track_record: schemas.TrackRecord | None
    outcomes: list[str]  # the classes it estimates, from its output signature


@dataclass(frozen=True)
class Prediction:
    """An estimate as served: the model's answer, the structured fields it read, and each
    reason with the sentence a person reads."""

    answer: OutcomeAnswer  # at the mix answered for
    fields: dict[str, Any]
    reasons: list[tuple[Effect, str]]
    model_probabilities: dict[str, float]  # as the model gave them (its calibration's mix)
    mix: ServedMix | None = None


class OutcomeService:
    """One data set's outcome model: the version its registry alias names, swapped in when
    the alias moves."""

    def __init__(
        self, dataset: str, uri: str, spec: DatasetSpec, mix: ClassMixPolicy | None = None
    ) -> None:
        self.dataset, self.uri, self.spec = dataset, uri, spec
        self.mix = mix or ClassMixPolicy(TRAINED, None)
        self.holder: Swappable[LoadedModel] = Swappable(
            dataset,
            "model",
            load_current=lambda: _load(uri),
            pointed_version=lambda: resolve_version(uri).version,
            version_of=lambda loaded: loaded.info.version,
            unavailable=ModelNotAvailableError,
        )

    @property
    def loaded(self) -> LoadedModel | None:
        return self.holder.served

    @property
    def error(self) -> str | None:
        return self.holder.error

    def predict(
        self,
        loaded: LoadedModel,
        text: str,
        fields: Mapping[str, Any],
        explain: bool,
        top_k: int,
        vectors: bool = False,
    ) -> Prediction:
        """The model's estimate for a text and the fields given; a pasted decision's
        introduction fills the fields it states that the request leaves out."""
        spec = self.spec
        read = {**self._stated(loaded, text, spec.language), **self._typed(loaded, fields)}
        frame = loaded.model.predict(
            pd.DataFrame([{TEXT_COLUMN: text, **read}]),
            params={"explain": explain, "top_k": top_k, "vectors": vectors},
        )
        given = read_answers(frame)[0]
        answer, mix = self._at_mix(loaded, given)
        value_names = {name: grouping.values for name, grouping in spec.group_fields.items()}
        # Effects are on the probability of the class the model decided (at its own mix).
        reasons = [
            (r, reason_sentence(r, given.label, spec.field_labels, value_names))
            for r in given.reasons
        ]
        return Prediction(answer, read, reasons, given.probabilities, mix)

    def _at_mix(
        self, loaded: LoadedModel, answer: OutcomeAnswer
    ) -> tuple[OutcomeAnswer, ServedMix | None]:
        """The answer restated for the mix the service answers for, deciding the class
        most probable there; the model's own probabilities kept (drift reads them)."""
        estimator = getattr(loaded.model.unwrap_python_model(), "estimator", None)
        mix = self.mix.mix(loaded.info.version, estimator) if estimator is not None else None
        if estimator is None or mix is None or mix.source == "trained":
            return answer, mix
        classes = [str(c) for c in estimator.classes_]
        restated_row = estimator.at_class_mix(
            np.array([[answer.probabilities[c] for c in classes]]),
            [mix.shares[c] for c in classes],
        )[0]
        shown = dict(zip(classes, map(float, restated_row), strict=True))
        label = max(shown, key=shown.__getitem__)
        articles = articles_at(estimator, answer.articles, answer.probabilities, shown, label)
        restated = replace(
            answer, label=label, probability=shown[label], probabilities=shown, articles=articles
        )
        return restated, mix

    def _stated(self, loaded: LoadedModel, text: str, language: str) -> dict[str, str]:
        """Fields a pasted decision's introduction states (the request's own win)."""
        stated = stated_particulars(text, language)
        return {name: value for name, value in stated.items() if name in loaded.input_types}

    def _typed(self, loaded: LoadedModel, fields: Mapping[str, Any]) -> dict[str, Any]:
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


class Predictions:
    """The routes' work on the outcome models: predict (recorded before it is answered), the
    model card, its reliability diagram and the registered versions."""

    def __init__(
        self,
        settings: ServingSettings,
        metrics: ServiceMetrics,
        oversight: OversightService,
        models: Mapping[str, OutcomeService],
        indexes: Mapping[str, PrecedentService],
    ) -> None:
        self.settings, self.metrics, self.oversight = settings, metrics, oversight
        self.models, self.indexes = models, indexes

    def model(self, dataset: str) -> OutcomeService:
        if dataset not in self.models:
            raise NotFoundError(f"unknown data set {dataset!r}; served: {', '.join(self.models)}")
        return self.models[dataset]

    def predict(
        self, principal: Principal, request_id: str, body: schemas.PredictRequest
    ) -> schemas.PredictResponse:
        """An outcome estimate, recorded in the audit log before it is handed out."""
        check_case_text(body.text, self.settings)
        service = self.model(body.dataset)
        loaded = service.holder.require()  # once: a swap mid-request does not mix versions
        observe = self.settings.observe_predictions
        prediction = service.predict(
            loaded, body.text, body.fields, body.explain, self.settings.explain_top_k, observe
        )
        answer = prediction.answer
        index = self.indexes[body.dataset].holder.served
        record = self.oversight.record(
            entry(
                principal,
                "prediction",
                "/v1/predict",
                dataset=body.dataset,
                model_name=loaded.info.name,
                model_version=loaded.info.version,
                index_version=index.manifest.version if index is not None else None,
                input_sha256=text_sha256(body.text),
                input_text=body.text if self.settings.audit_keep_text else None,
                summary={
                    "request_id": request_id,
                    "label": answer.label,
                    "probability": round(answer.probability, 6),
                    "class_mix": None
                    if prediction.mix is None
                    else {
                        "source": prediction.mix.source,
                        "shares": {c: round(v, 6) for c, v in prediction.mix.shares.items()},
                    },
                    "articles": [a.article for a in answer.articles if a.predicted],
                    "text_chars": len(body.text),
                    "fields": prediction.fields,
                },
            )
        )
        if observe:  # the model's own probabilities: what drift and the mix estimate read
            self.oversight.observe(
                record, prediction.fields, prediction.model_probabilities, answer.vector
            )
        validated_from = loaded.info.params.get(VALIDATION_FROM_PARAM)
        group = group_record(loaded.card, prediction.fields, validated_from)
        self.metrics.predictions.labels(body.dataset, loaded.info.version, answer.label).inc()
        return schemas.PredictResponse(
            request_id=request_id,
            record_id=record.record_id,
            dataset=body.dataset,
            label=answer.label,
            probability=answer.probability,
            probabilities=[
                schemas.ClassProbability(label=label, probability=p)
                for label, p in answer.probabilities.items()
            ],
            reasons=[reason_out(effect, sentence) for effect, sentence in prediction.reasons],
            fields=prediction.fields,
            articles=[
                schemas.ArticleProbability(
                    article=a.article, probability=a.probability, predicted=a.predicted
                )
                for a in answer.articles
            ],
            model=schemas.ModelRef(
                name=loaded.info.name, version=loaded.info.version, uri=service.uri
            ),
            class_mix=mix_out(prediction.mix),
            track_record=loaded.track_record,
            group_record=group,
        )

    def model_card(self, dataset: str) -> schemas.ModelCard:
        service = self.model(dataset)
        loaded = service.holder.require()
        info = loaded.info
        return schemas.ModelCard(
            dataset=dataset,
            name=info.name,
            version=info.version,
            uri=service.uri,
            aliases=list(info.aliases),
            inputs=list(loaded.input_types),
            outcomes=loaded.outcomes,
            metrics=_validation_metrics(info.metrics),
            training_data={k: v for k, v in info.tags.items() if k in CARD_TAGS},
            params={k: v for k, v in info.params.items() if k in CARD_PARAMS},
            card=card_out(loaded.card),
        )

    def reliability_png(self, dataset: str) -> bytes:
        """The served model's reliability diagram, as its training run logged it."""
        info = self.model(dataset).holder.require().info
        image = run_bytes(info.run_id, RELIABILITY_ARTIFACT)
        if image is None:
            raise NotFoundError(f"{info.name} v{info.version} logged no reliability diagram")
        return image

    def registered_versions(self, dataset: str) -> list[schemas.RegisteredVersion]:
        name = self.model(dataset).uri.removeprefix("models:/").split("@")[0]
        return [
            schemas.RegisteredVersion(
                version=info.version,
                registered_at=None
                if info.created_ms is None
                else datetime.fromtimestamp(info.created_ms / 1000, UTC).isoformat(),
                aliases=list(info.aliases),
                run_id=info.run_id,
                metrics=_validation_metrics(info.metrics),
                index_version=info.version_tags.get(INDEX_VERSION_TAG),
            )
            for info in list_versions(name)
        ]


def mix_out(mix: ServedMix | None) -> schemas.ClassMixAnswered | None:
    if mix is None:
        return None
    return schemas.ClassMixAnswered(
        shares=[
            schemas.ClassProbability(label=c, probability=round(p, 6))
            for c, p in mix.shares.items()
        ],
        source=mix.source,
        cases=mix.cases,
        error=None if mix.error is None else round(mix.error, 4),
        note=mix.note,
    )


def reason_out(effect: Effect, sentence: str) -> schemas.Reason:
    """A reason as the API shows it."""
    if isinstance(effect, FieldEffect):
        return schemas.Reason(
            kind="feature",
            explanation=sentence,
            effect=round(effect.effect, 6),
            feature=effect.field,
            value=str(effect.value),
        )
    return schemas.Reason(
        kind="passage",
        explanation=sentence,
        effect=round(effect.effect, 6),
        paragraphs=[effect.first_paragraph, effect.last_paragraph],
        excerpt=effect.excerpt,
        sentence=effect.sentence,
    )


def card_out(card: OutcomeModelCard | None) -> schemas.OutcomeModelCard | None:
    """The training side's model card in the API's own schema (read by field name: a field
    the API does not name yet is left out rather than changing the API)."""
    return None if card is None else schemas.OutcomeModelCard.model_validate(card.model_dump())


def _validation_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if k.startswith(VALIDATION_METRIC_PREFIX)}


def _load(uri: str) -> LoadedModel:
    model, info = load_pyfunc(uri)
    card = _read_card(info)
    schema = model.metadata.get_input_schema()
    input_types = {c.name: str(c.type).split(".")[-1].lower() for c in schema.inputs}
    output = model.metadata.get_output_schema()
    return LoadedModel(
        model,
        info,
        input_types,
        card,
        track_record(card, info.params.get(VALIDATION_FROM_PARAM)),
        outcomes_of([c.name for c in output.inputs]),
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
