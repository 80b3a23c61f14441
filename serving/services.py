"""Domain services behind the routes: outcome prediction, precedent search, the audit log.

Everything is loaded once in the app's lifespan; a component that cannot load is kept as an
error message (served as 503 with what to do), so the server always starts. Routes only
translate HTTP: checks, audit records, group records and metrics happen here.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data.datasets import get_dataset
from models.precedents import (
    CaseSummary,
    IndexUnavailableError,
    Mode,
    PrecedentHit,
    PrecedentIndex,
    SearchFilters,
)
from models.registry import (
    IndexPairing,
    ModelVersionInfo,
    alias_uri,
    configure_tracking,
    index_pairing,
    registered_model_name,
)
from serving.audit import AuditLog
from serving.errors import InvalidInputError, NotFoundError, PayloadTooLargeError, UnavailableError
from serving.metrics import ServiceMetrics
from serving.outcomes import OutcomeService
from serving.records import group_record
from serving.schemas import (
    CaseResponse,
    ComponentHealth,
    DatasetHealth,
    GroupRecord,
    HealthResponse,
    IndexRef,
    ModelCard,
    ModelRef,
    PairHealth,
    PassageOut,
    PrecedentOut,
    PrecedentSearchRequest,
    PrecedentSearchResponse,
    PredictRequest,
    PredictResponse,
    TrackRecord,
)
from serving.settings import ServingSettings

log = logging.getLogger("casecast.serving")
# What a model card shows of a training run: its figures and where its data came from.
_TRAINING_TAGS = ("data_fingerprint", "data_sources", "dataset", "inputs")
_CARD_PARAMS = (
    "validation_from",
    "n_cases",
    "n_validation",
    "embedding_model_id",
    "max_chunks_per_case",
    "chunk_tokens",
    "C",
)


@dataclass
class PrecedentService:
    dataset: str
    index_dir: Path
    index: PrecedentIndex | None = None
    error: str | None = None

    def load(self) -> None:
        try:
            self.index, self.error = PrecedentIndex.load(self.index_dir, self.dataset), None
        except IndexUnavailableError as error:
            self.index, self.error = None, str(error)
            log.warning("%s", error)

    def require(self) -> PrecedentIndex:
        if self.index is None:
            raise IndexUnavailableError(self.error or f"no precedent index for {self.dataset}")
        return self.index


@dataclass
class Services:
    """Every data set's outcome model and precedent index, plus the audit log."""

    settings: ServingSettings
    metrics: ServiceMetrics
    outcomes: dict[str, OutcomeService] = field(default_factory=dict)
    precedents: dict[str, PrecedentService] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.audit = AuditLog(self.settings.resolved_audit_log)

    def load(self) -> None:
        log.info("casecast home: %s", self.settings.home)
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
            self.precedents[dataset] = PrecedentService(dataset, self.settings.index_dir)
            self.precedents[dataset].load()

    # -- predictions ------------------------------------------------------------------------

    def predict(self, request_id: str, body: PredictRequest) -> PredictResponse:
        """An outcome estimate, recorded in the audit log before it is handed out."""
        self._check_text(body.text)
        service = self._outcome(body.dataset)
        result = service.predict(body.text, body.fields, body.explain, self.settings.explain_top_k)
        loaded = service.require()
        self._audit_prediction(request_id, body, result, loaded.info)
        group = group_record(loaded.card, body.fields, loaded.info.params.get("validation_from"))
        self.metrics.predictions.labels(body.dataset, loaded.info.version, result["label"]).inc()
        return PredictResponse(
            request_id=request_id,
            dataset=body.dataset,
            model=ModelRef(name=loaded.info.name, version=loaded.info.version, uri=service.uri),
            track_record=TrackRecord(**loaded.track_record) if loaded.track_record else None,
            group_record=GroupRecord(**group) if group else None,
            **result,
        )

    def model_card(self, dataset: str) -> ModelCard:
        service = self._outcome(dataset)
        loaded = service.require()
        info = loaded.info
        return ModelCard(
            dataset=dataset,
            name=info.name,
            version=info.version,
            uri=service.uri,
            aliases=list(info.aliases),
            inputs=list(loaded.input_types),
            metrics={k: v for k, v in info.metrics.items() if k.startswith("val_")},
            training_data={k: v for k, v in info.tags.items() if k in _TRAINING_TAGS},
            params={k: v for k, v in info.params.items() if k in _CARD_PARAMS},
            card=loaded.card,
        )

    # -- precedents -------------------------------------------------------------------------

    def search(self, body: PrecedentSearchRequest) -> PrecedentSearchResponse:
        if (body.text is None) == (body.case_id is None):
            raise InvalidInputError("give exactly one of text or case_id")
        index = self._precedent(body.dataset).require()
        fields = body.filters.model_dump()
        filters = SearchFilters(**{**fields, "articles": tuple(fields["articles"])})
        mode: Mode = body.mode
        if body.text is not None:
            self._check_text(body.text)
            hits = index.search_text(
                body.text, body.k, filters, mode, self.settings.max_query_passages
            )
        else:
            hits = index.search_case(body.case_id or "", body.k, filters, mode)
        self.metrics.searches.labels(body.dataset, body.mode).inc()
        manifest = index.manifest
        return PrecedentSearchResponse(
            dataset=body.dataset,
            results=[_precedent_out(hit) for hit in hits],
            index=IndexRef(
                version=manifest.version,
                embedding_model=manifest.embedding_model_id,
                n_cases=manifest.n_cases,
                mode=body.mode,
            ),
        )

    def case(self, case_id: str) -> CaseResponse:
        """One indexed past case, from whichever served index holds it."""
        for dataset, index in self._loaded_indexes():
            found = index.case(case_id)
            if found is not None:
                summary, paragraphs = found
                return CaseResponse(**_case_fields(summary), dataset=dataset, paragraphs=paragraphs)
        raise NotFoundError(f"no indexed case {case_id}")

    def similar(self, case_id: str, k: int) -> list[PrecedentOut]:
        """More like this: the cases closest to an indexed case, itself excluded."""
        for _, index in self._loaded_indexes():
            if index.position(case_id) is not None:
                hits = index.search_case(case_id, k, SearchFilters(), "hybrid")
                return [_precedent_out(hit) for hit in hits]
        raise NotFoundError(f"no indexed case {case_id}")

    # -- health -----------------------------------------------------------------------------

    def health(self) -> HealthResponse:
        """Whether each data set's model and index are loaded, and whether they belong
        together (degraded, never down, when not)."""
        datasets = {}
        for name, outcome in self.outcomes.items():
            precedent = self.precedents[name]
            loaded, index = outcome.loaded, precedent.index
            pairing: IndexPairing | None = None
            if loaded is not None and index is not None:
                pairing = index_pairing(loaded.info, index.manifest)
            datasets[name] = DatasetHealth(
                model=ComponentHealth(
                    ready=loaded is not None,
                    version=loaded.info.version if loaded else None,
                    detail=outcome.error,
                ),
                index=ComponentHealth(
                    ready=index is not None,
                    version=index.manifest.version if index else None,
                    detail=precedent.error,
                ),
                pair=None
                if pairing is None or loaded is None
                else PairHealth(
                    matches=pairing.matches,
                    detail=pairing.detail,
                    recorded_index_version=loaded.info.version_tags.get("index_version"),
                ),
            )
        ready = all(
            d.model.ready and d.index.ready and (d.pair is None or d.pair.matches)
            for d in datasets.values()
        )
        return HealthResponse(status="ok" if ready else "degraded", datasets=datasets)

    # -- internals --------------------------------------------------------------------------

    def _outcome(self, dataset: str) -> OutcomeService:
        if dataset not in self.outcomes:
            raise NotFoundError(f"unknown data set {dataset!r}; served: {', '.join(self.outcomes)}")
        return self.outcomes[dataset]

    def _precedent(self, dataset: str) -> PrecedentService:
        if dataset not in self.precedents:
            raise NotFoundError(
                f"unknown data set {dataset!r}; served: {', '.join(self.precedents)}"
            )
        return self.precedents[dataset]

    def _loaded_indexes(self) -> list[tuple[str, PrecedentIndex]]:
        loaded = [(name, s.index) for name, s in self.precedents.items() if s.index is not None]
        if not loaded:
            raise IndexUnavailableError(
                "; ".join(s.error or f"no index for {name}" for name, s in self.precedents.items())
            )
        return loaded

    def _check_text(self, text: str) -> None:
        if len(text) > self.settings.max_text_chars:
            raise PayloadTooLargeError(
                f"text has {len(text):,} characters; the limit is {self.settings.max_text_chars:,}"
            )

    def _audit_prediction(
        self,
        request_id: str,
        body: PredictRequest,
        result: dict[str, Any],
        info: ModelVersionInfo,
    ) -> None:
        """Record the prediction; an unrecorded prediction is not handed out (503)."""
        try:
            self.audit.append(
                {
                    "request_id": request_id,
                    "dataset": body.dataset,
                    "model": info.name,
                    "model_version": info.version,
                    "label": result["label"],
                    "probability": round(result["probability"], 6),
                    "articles": [a["article"] for a in result["articles"] if a["predicted"]],
                    "text_sha256": hashlib.sha256(body.text.encode("utf-8")).hexdigest(),
                    "text_chars": len(body.text),
                    "fields": body.fields,
                }
            )
        except OSError as error:
            log.error("could not write the audit log: %s", error)
            raise UnavailableError("prediction could not be recorded in the audit log") from error


def _case_fields(case: CaseSummary) -> dict[str, Any]:
    """A stored case summary as the API's ``CaseFields``."""
    return {
        "case_id": case.case_id,
        "title": case.title,
        "year": case.year,
        "court": case.court,
        "parties": case.parties,
        "outcome": case.outcome,
        "violated_articles": case.violated,
        "examined_articles": case.examined,
    }


def _precedent_out(hit: PrecedentHit) -> PrecedentOut:
    return PrecedentOut(
        **_case_fields(hit.case),
        score=hit.score,
        passages=[
            PassageOut(paragraphs=list(p.paragraphs), text=p.text, score=p.score)
            for p in hit.passages
        ],
    )
