"""Domain services behind the routes: outcome prediction, precedent search, the audit log.

Everything is loaded once in the app's lifespan; a component that cannot load is kept as an
error message (served as 503 with what to do), so the server always starts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data.datasets import get_dataset
from data.schema import TEXT_COLUMN
from data.text import split_paragraphs
from features.chunking import ParagraphChunker
from features.embedding import SentenceEmbedder
from models.precedents import (
    IndexUnavailableError,
    Mode,
    PrecedentHit,
    PrecedentIndex,
    SearchFilters,
    query_vectors,
)
from models.registry import (
    ModelNotAvailableError,
    ModelVersionInfo,
    alias_uri,
    configure_tracking,
    load_pyfunc,
    registered_model_name,
    run_json,
)
from serving.errors import InvalidInputError, NotFoundError, PayloadTooLargeError, UnavailableError
from serving.settings import ServingSettings
from serving.wording import reason_sentence

log = logging.getLogger("casecast.serving")
_CASTS = {
    "string": str,
    "long": int,
    "integer": int,
    "double": float,
    "float": float,
    "boolean": bool,
}


class AuditLog:
    """Append-only JSON lines: who asked what of which model version, without the case text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(
            {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **entry}, ensure_ascii=False
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")


@dataclass
class OutcomeService:
    dataset: str
    uri: str
    model: Any = None
    info: ModelVersionInfo | None = None
    input_types: dict[str, str] = field(default_factory=dict)
    card: dict[str, Any] | None = None
    track_record: dict[str, Any] | None = None
    error: str | None = None

    def load(self) -> None:
        try:
            self.model, self.info = load_pyfunc(self.uri)
            self.card = run_json(self.info.run_id, "model_card.json")
            self.track_record = track_record(self.card, self.info.params.get("validation_from"))
        except ModelNotAvailableError as error:
            self.error = str(error)
            log.warning("%s", error)
            return
        schema = self.model.metadata.get_input_schema()
        self.input_types = {c.name: str(c.type).split(".")[-1].lower() for c in schema.inputs}
        self.error = None

    def predict(
        self, text: str, fields: dict[str, Any], explain: bool, top_k: int
    ) -> dict[str, Any]:
        if self.model is None or self.info is None:
            raise ModelNotAvailableError(self.error or f"no model loaded from {self.uri}")
        row = {TEXT_COLUMN: text, **self._typed(fields)}
        answer = self.model.predict(
            pd.DataFrame([row]), params={"explain": explain, "top_k": top_k}
        )
        first = answer.iloc[0]
        label = str(first["label"])
        classes = [c.removeprefix("p_") for c in answer.columns if c.startswith("p_")]
        reasons = json.loads(first["reasons"]) if explain and "reasons" in answer else []
        field_labels = get_dataset(self.dataset).field_labels
        for reason in reasons:
            reason["explanation"] = reason_sentence(reason, label, field_labels)
        return {
            "label": label,
            "probability": float(first["probability"]),
            "probabilities": [{"label": c, "probability": float(first[f"p_{c}"])} for c in classes],
            "reasons": reasons,
            "articles": json.loads(first["articles"]) if "articles" in answer else [],
        }

    def _typed(self, fields: dict[str, Any]) -> dict[str, Any]:
        allowed = {name for name in self.input_types if name != TEXT_COLUMN}
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
            cast = _CASTS.get(self.input_types[name], str)
            try:
                typed[name] = cast(value)
            except (TypeError, ValueError):
                raise InvalidInputError(
                    f"field {name} must be {self.input_types[name]}, got {value!r}"
                ) from None
        return typed


def track_record(card: dict[str, Any] | None, validation_from: str | None) -> dict[str, Any] | None:
    """The validation scores of a model's card beside the majority rule, in plain words.

    None when the run logged no card (a model registered by other means).
    """
    scores = (card or {}).get("scores") or {}
    needed = ("n", "accuracy", "majority_class", "majority_accuracy")
    if any(scores.get(key) is None for key in needed):
        return None
    accuracy, majority = float(scores["accuracy"]), float(scores["majority_accuracy"])
    outcome = str(scores["majority_class"])
    since = _first_year(validation_from)
    n = int(scores["n"])
    tested = f"the {n:,} cases from {since} on" if since else f"{n:,} later cases"
    summary = (
        f"Fitted on earlier cases and tested on {tested}, a model built this way was right "
        f"{accuracy:.1%} of the time; always answering '{outcome.replace('_', ' ')}' was right "
        f"{majority:.1%}."
    )
    beats = accuracy > majority
    if not beats:
        summary += " It does not beat that simple rule: give this estimate little weight."
    return {
        "validated_from": since,
        "cases": n,
        "accuracy": round(accuracy, 4),
        "majority_outcome": outcome,
        "majority_accuracy": round(majority, 4),
        "beats_majority": beats,
        "summary": summary,
    }


def group_record(
    card: dict[str, Any] | None, fields: dict[str, Any], validation_from: str | None
) -> dict[str, Any] | None:
    """How the model scored on the validation cases of the request's own group, in words.

    The group is the one the card forms from a field the request gives (ECHR: the respondent
    state; SCOTUS: the SCDB issue area, by its name). Calibrated overall is not calibrated
    for every group; a mean estimate further from the group's observed rate than two
    standard errors of that rate is called too high or too low. None when the card forms no
    group from the fields given (or there is no card).
    """
    card = card or {}
    for name, grouping in (card.get("group_fields") or {}).items():
        if fields.get(name) in (None, ""):
            continue
        value = str(fields[name]).split(";")[0].strip()
        value = (grouping.get("values") or {}).get(value, value)  # a code's name
        kind = grouping["group"]
        groups = (card.get("groups") or {}).get(kind, [])
        row = next((r for r in groups if str(r.get("group")).upper() == value.upper()), None)
        return _group_record(name, kind, value, row, card, validation_from)
    return None


def _group_record(
    name: str,
    kind: str,
    value: str,
    row: dict[str, Any] | None,
    card: dict[str, Any],
    validation_from: str | None,
) -> dict[str, Any]:
    since = _first_year(validation_from)
    tested = f"the cases tested (from {since} on)" if since else "the later cases tested"
    record: dict[str, Any] = {"field": name, "group": kind, "value": value, "cases": 0}
    record.update(dict.fromkeys(("accuracy", "majority_accuracy", "positive_outcome",
                                 "mean_probability", "observed_rate", "estimates")))  # fmt: skip
    if row is None:
        record["summary"] = (
            f"None of {tested} had {kind} {value}: how it does on such cases is unknown."
        )
        return record
    n = int(row["n"])
    value = record["value"] = str(row["group"])
    record.update(
        cases=n,
        accuracy=row.get("accuracy"),
        majority_accuracy=row.get("majority_accuracy"),
        mean_probability=row.get("mean_probability"),
        observed_rate=row.get("observed_rate"),
        positive_outcome=card.get("positive_class"),
    )
    if row.get("too_few"):
        record["summary"] = (
            f"Only {n} of {tested} had {kind} {value}: too few to tell how it does on such cases."
        )
        return record
    summary = (
        f"On the {n} of {tested} with {kind} {value} it was right {row['accuracy']:.1%} of the "
        f"time; always answering their most frequent outcome was right "
        f"{row['majority_accuracy']:.1%}."
    )
    if row["accuracy"] <= row["majority_accuracy"]:
        summary += " It does not beat that rule for these cases."
    positive, predicted, observed = (
        record["positive_outcome"],
        record["mean_probability"],
        record["observed_rate"],
    )
    if positive and predicted is not None and observed is not None:
        reading = "about right"
        # A rate of 0 or 1 still carries sampling noise: its variance is floored at 1/n.
        if abs(predicted - observed) > 2 * np.sqrt(max(observed * (1 - observed), 1 / n) / n):
            reading = "too high" if predicted > observed else "too low"
        record["estimates"] = reading
        ending = "." if reading == "about right" else f": read its estimate as {reading} here."
        summary += (
            f" It gave '{positive.replace('_', ' ')}' {predicted:.0%} on average where "
            f"{observed:.0%} were found{ending}"
        )
    record["summary"] = summary
    return record


def _first_year(validation_from: str | None) -> int | None:
    """The validation's first year as its run logged it (a string param), if it is one."""
    return int(validation_from) if validation_from and validation_from.isdigit() else None


@dataclass
class PrecedentService:
    dataset: str
    index_dir: Path
    max_query_passages: int
    index: PrecedentIndex | None = None
    embedder: SentenceEmbedder | None = None
    chunker: ParagraphChunker | None = None
    error: str | None = None

    def load(self) -> None:
        try:
            index = PrecedentIndex.load(self.index_dir, self.dataset)
            manifest = index.manifest
            embedder = SentenceEmbedder(
                model=manifest.embedding_model, max_seq_length=manifest.embedding_max_seq_length
            ).fit()
            if embedder.model_id_ != manifest.embedding_model_id:
                raise IndexUnavailableError(
                    f"index {manifest.version} was built with {manifest.embedding_model_id} but "
                    f"{manifest.embedding_model} loads {embedder.model_id_} here: rebuild the index"
                )
        except (IndexUnavailableError, RuntimeError) as error:
            self.error = str(error)
            log.warning("%s", error)
            return
        self.index, self.embedder = index, embedder
        self.chunker = ParagraphChunker(manifest.chunk_tokens, manifest.chunk_overlap).fit()
        self.error = None

    def require(self) -> PrecedentIndex:
        if self.index is None:
            raise IndexUnavailableError(self.error or f"no precedent index for {self.dataset}")
        return self.index

    def search(
        self,
        text: str | None,
        case_id: str | None,
        k: int,
        filters: SearchFilters,
        mode: Mode = "hybrid",
    ) -> list[PrecedentHit]:
        index = self.require()
        if case_id is not None:
            position = index.position(case_id)
            found = index.case(case_id)
            if position is None or found is None:
                raise NotFoundError(f"case {case_id} is not in the {self.dataset} index")
            vectors, query_text = index.case_vectors(position), "\n\n".join(found[1])
            excluded = (*filters.exclude_case_ids, case_id)
            filters = dataclasses.replace(filters, exclude_case_ids=excluded)
        else:
            assert text is not None and self.embedder is not None and self.chunker is not None
            query_text = text
            vectors = np.zeros((0, index.manifest.dimension), dtype=np.float32)
            if mode != "keyword":
                vectors = query_vectors(
                    split_paragraphs(text), self.embedder, self.chunker, self.max_query_passages
                )
        return index.search(vectors, query_text, k=k, filters=filters, mode=mode)


class Services:
    """Every dataset's outcome model and precedent index, plus the audit log."""

    def __init__(self, settings: ServingSettings) -> None:
        self.settings = settings
        self.audit = AuditLog(settings.resolved_audit_log)
        self.outcomes: dict[str, OutcomeService] = {}
        self.precedents: dict[str, PrecedentService] = {}

    def load(self) -> None:
        configure_tracking(self.settings)
        for dataset in self.settings.datasets:
            try:
                task = get_dataset(dataset).task
            except KeyError as error:  # a typo in CASECAST_DATASETS must not stop the server
                log.error("%s", error)
                continue
            uri = alias_uri(registered_model_name(dataset, task), self.settings.model_alias)
            self.outcomes[dataset] = OutcomeService(dataset, uri)
            self.outcomes[dataset].load()
            self.precedents[dataset] = PrecedentService(
                dataset, self.settings.index_dir, self.settings.max_query_passages
            )
            self.precedents[dataset].load()

    def outcome(self, dataset: str) -> OutcomeService:
        if dataset not in self.outcomes:
            raise NotFoundError(f"unknown data set {dataset!r}; served: {', '.join(self.outcomes)}")
        return self.outcomes[dataset]

    def precedent(self, dataset: str) -> PrecedentService:
        if dataset not in self.precedents:
            raise NotFoundError(
                f"unknown data set {dataset!r}; served: {', '.join(self.precedents)}"
            )
        return self.precedents[dataset]

    def check_text(self, text: str) -> None:
        if len(text) > self.settings.max_text_chars:
            raise PayloadTooLargeError(
                f"text has {len(text):,} characters; the limit is {self.settings.max_text_chars:,}"
            )

    def audit_prediction(
        self,
        request_id: str,
        dataset: str,
        text: str,
        fields: dict[str, Any],
        result: dict[str, Any],
        info: ModelVersionInfo,
    ) -> None:
        try:
            self.audit.append(
                {
                    "request_id": request_id,
                    "dataset": dataset,
                    "model": info.name,
                    "model_version": info.version,
                    "label": result["label"],
                    "probability": round(result["probability"], 6),
                    "articles": [a["article"] for a in result["articles"] if a["predicted"]],
                    "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    "text_chars": len(text),
                    "fields": fields,
                }
            )
        except (
            OSError
        ) as error:  # an unrecorded prediction is not handed out: the log is the audit trail
            log.error("could not write the audit log: %s", error)
            raise UnavailableError("prediction could not be recorded in the audit log") from error
