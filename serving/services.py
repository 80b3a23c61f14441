"""Domain services behind the routes: outcome prediction, precedent search, the audit log.

Everything is loaded in the app's lifespan; a component that cannot load is kept as an
error message (served as 503 with what to do), so the server always starts. Later the
service follows the registry alias and the index's ``CURRENT`` pointer: a new version is
loaded beside the old one and swapped in by one assignment, so a request that began on the
old one finishes on it. Routes only translate HTTP: checks, audit records, group records and
metrics happen here.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from casecast.data.datasets import get_dataset
from casecast.models.oversight import text_sha256
from casecast.models.precedents import (
    IndexUnavailableError,
    Mode,
    PrecedentIndex,
    SearchFilters,
)
from casecast.models.registry import (
    IndexPairing,
    alias_uri,
    configure_tracking,
    index_pairing,
    list_versions,
    registered_model_name,
    run_bytes,
)
from casecast.serving.access import Principal
from casecast.serving.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from casecast.serving.metrics import ServiceMetrics
from casecast.serving.outcomes import OutcomeService
from casecast.serving.oversight import OversightService, entry
from casecast.serving.precedents import PrecedentService, case_fields, precedent_out
from casecast.serving.records import group_record
from casecast.serving.schemas import (
    CaseResponse,
    ComponentChange,
    ComponentHealth,
    DatasetHealth,
    GroupRecord,
    HealthResponse,
    IndexRef,
    ModelCard,
    ModelRef,
    PairHealth,
    PrecedentOut,
    PrecedentSearchRequest,
    PrecedentSearchResponse,
    PredictRequest,
    PredictResponse,
    RegisteredVersion,
    TrackRecord,
)
from casecast.serving.settings import ServingSettings

log = logging.getLogger("casecast.serving")
T = TypeVar("T")
RELIABILITY_ARTIFACT = "validation/reliability.png"  # logged by `casecast train`
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
class Services:
    """Every data set's outcome model and precedent index, plus oversight (keys, audit)."""

    settings: ServingSettings
    metrics: ServiceMetrics
    outcomes: dict[str, OutcomeService] = field(default_factory=dict)
    precedents: dict[str, PrecedentService] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.oversight = OversightService(self.settings, self.metrics)
        self._refresh_lock = threading.Lock()
        self._workers: anyio.CapacityLimiter | None = None

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work on the bounded worker pool, off the event loop; requests
        beyond the pool's size wait their turn (the queue ``/metrics`` shows)."""
        if self._workers is None:  # made inside the event loop, on first use
            self._workers = anyio.CapacityLimiter(self.settings.workers)
        self.metrics.queue_depth.set(self._workers.statistics().tasks_waiting + 1)
        try:
            return await anyio.to_thread.run_sync(
                functools.partial(work, *args), limiter=self._workers
            )
        finally:
            self.metrics.queue_depth.set(self._workers.statistics().tasks_waiting)

    def load(self) -> None:
        log.info("casecast home: %s", self.settings.home)
        self.oversight.migrate_legacy_log()
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
        self.metrics.show_versions(self._served_versions())

    # -- predictions ------------------------------------------------------------------------

    def predict(
        self, principal: Principal, request_id: str, body: PredictRequest
    ) -> PredictResponse:
        """An outcome estimate, recorded in the audit log before it is handed out."""
        self._check_text(body.text)
        service = self._outcome(body.dataset)
        loaded = service.require()  # once: a swap mid-request does not mix two versions
        result = service.predict(
            loaded, body.text, body.fields, body.explain, self.settings.explain_top_k
        )
        index = self.precedents[body.dataset].index
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
                    "label": result["label"],
                    "probability": round(result["probability"], 6),
                    "articles": [a["article"] for a in result["articles"] if a["predicted"]],
                    "text_chars": len(body.text),
                    "fields": result["fields"],
                },
            )
        )
        group = group_record(
            loaded.card, result["fields"], loaded.info.params.get("validation_from")
        )
        self.metrics.predictions.labels(body.dataset, loaded.info.version, result["label"]).inc()
        return PredictResponse(
            request_id=request_id,
            record_id=record.record_id,
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
            outcomes=loaded.outcomes,
            metrics={k: v for k, v in info.metrics.items() if k.startswith("val_")},
            training_data={k: v for k, v in info.tags.items() if k in _TRAINING_TAGS},
            params={k: v for k, v in info.params.items() if k in _CARD_PARAMS},
            card=loaded.card,
        )

    def reliability_png(self, dataset: str) -> bytes:
        """The served model's reliability diagram, as its training run logged it."""
        info = self._outcome(dataset).require().info
        image = run_bytes(info.run_id, RELIABILITY_ARTIFACT)
        if image is None:
            raise NotFoundError(f"{info.name} v{info.version} logged no reliability diagram")
        return image

    # -- precedents -------------------------------------------------------------------------

    def search(self, principal: Principal, body: PrecedentSearchRequest) -> PrecedentSearchResponse:
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
        manifest = index.manifest
        record = self.oversight.record(
            entry(
                principal,
                "search",
                "/v1/precedents/search",
                dataset=body.dataset,
                index_version=manifest.version,
                input_sha256=text_sha256(body.text) if body.text is not None else None,
                input_text=body.text if self.settings.audit_keep_text else None,
                summary={
                    "mode": body.mode,
                    "k": body.k,
                    "case_id": body.case_id,
                    "filters": body.filters.model_dump(exclude_defaults=True),
                    "results": [hit.case.case_id for hit in hits],
                },
            )
        )
        self.metrics.searches.labels(body.dataset, body.mode).inc()
        words: list[list[list[str]]] = [[] for _ in hits]
        if body.text is not None and body.mode != "semantic":
            # One pass over the query's words for every passage shown.
            flat = iter(index.matching_words(body.text, [p.text for h in hits for p in h.passages]))
            words = [[next(flat) for _ in h.passages] for h in hits]
        return PrecedentSearchResponse(
            record_id=record.record_id,
            dataset=body.dataset,
            results=[
                precedent_out(hit, hit_words) for hit, hit_words in zip(hits, words, strict=True)
            ],
            index=IndexRef(
                version=manifest.version,
                embedding_model=manifest.embedding_model_id,
                n_cases=manifest.n_cases,
                mode=body.mode,
                fusion=(manifest.fusion or "rrf") if body.mode == "hybrid" else None,
            ),
        )

    def case(self, case_id: str) -> CaseResponse:
        """One indexed past case, from whichever served index holds it."""
        for dataset, index in self._loaded_indexes():
            found = index.case(case_id)
            if found is not None:
                summary, paragraphs = found
                return CaseResponse(**case_fields(summary), dataset=dataset, paragraphs=paragraphs)
        raise NotFoundError(f"no indexed case {case_id}")

    def similar(self, principal: Principal, case_id: str, k: int) -> list[PrecedentOut]:
        """More like this: the cases closest to an indexed case, itself excluded."""
        for dataset, index in self._loaded_indexes():
            if index.position(case_id) is not None:
                hits = index.search_case(case_id, k, SearchFilters(), "hybrid")
                self.oversight.record(
                    entry(
                        principal,
                        "search",
                        "/v1/cases/{case_id}/similar",
                        dataset=dataset,
                        index_version=index.manifest.version,
                        summary={
                            "mode": "hybrid",
                            "k": k,
                            "case_id": case_id,
                            "results": [hit.case.case_id for hit in hits],
                        },
                    )
                )
                return [precedent_out(hit) for hit in hits]
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
                builds=precedent.builds(),
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

    # -- administration ---------------------------------------------------------------------

    def refresh(self, dataset: str | None = None) -> list[ComponentChange]:
        """Follow the alias and ``CURRENT``: load what moved beside what serves, swap it in.
        One refresh at a time (the poller and ``POST /v1/admin/reload`` share it)."""
        names = [dataset] if dataset is not None else list(self.outcomes)
        for name in names:
            self._outcome(name)
        changes: list[ComponentChange] = []
        with self._refresh_lock:
            for name in names:
                for change in (self.outcomes[name].refresh(), self.precedents[name].refresh()):
                    if change is not None:
                        changes.append(change)
                        self.metrics.reloads.labels(
                            name, change.component, "failed" if change.error else "swapped"
                        ).inc()
        self.metrics.show_versions(self._served_versions())
        return changes

    def registered_versions(self, dataset: str) -> list[RegisteredVersion]:
        service = self._outcome(dataset)
        name = service.uri.removeprefix("models:/").split("@")[0]
        return [
            RegisteredVersion(
                version=info.version,
                registered_at=None
                if info.created_ms is None
                else datetime.fromtimestamp(info.created_ms / 1000, UTC).isoformat(),
                aliases=list(info.aliases),
                run_id=info.run_id,
                metrics={k: v for k, v in info.metrics.items() if k.startswith("val_")},
                index_version=info.version_tags.get("index_version"),
            )
            for info in list_versions(name)
        ]

    def _served_versions(self) -> dict[tuple[str, str], str | None]:
        versions: dict[tuple[str, str], str | None] = {}
        for name, outcome in self.outcomes.items():
            versions[(name, "model")] = outcome.loaded.info.version if outcome.loaded else None
            index = self.precedents[name].index
            versions[(name, "index")] = index.manifest.version if index else None
        return versions

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
