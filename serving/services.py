"""The serving root: every data set's model and index, the resource services the routes
call (``predictions``, ``precedents``, ``oversight``), the bounded worker pool, reloads and
health.

Everything is loaded in the app's lifespan; a component that cannot load is kept as an
error message (served as 503 with what to do), so the server always starts. Later each
component follows its pointer (the registry alias, the index's ``CURRENT``; ``swap.py``).
Routes only translate HTTP: checks, audit records, group records and metrics happen in the
resource services.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from casecast.data.datasets import get_dataset
from casecast.models.registry import (
    IndexPairing,
    alias_uri,
    configure_tracking,
    index_pairing,
    registered_model_name,
)
from casecast.models.run_contract import INDEX_VERSION_TAG
from casecast.serving.class_mix import TRAINED, ClassMixPolicy
from casecast.serving.documents import DocumentReader
from casecast.serving.errors import NotFoundError
from casecast.serving.metrics import ServiceMetrics
from casecast.serving.outcomes import OutcomeService, Predictions
from casecast.serving.oversight import OversightService
from casecast.serving.precedents import Precedents, PrecedentService
from casecast.serving.schemas import (
    ComponentChange,
    ComponentHealth,
    DatasetHealth,
    HealthResponse,
    PairHealth,
)
from casecast.serving.settings import ServingSettings

log = logging.getLogger("casecast.serving")
T = TypeVar("T")


class Services:
    """Every data set's outcome model and precedent index, and the services over them."""

    def __init__(self, settings: ServingSettings, metrics: ServiceMetrics) -> None:
        self.settings, self.metrics = settings, metrics
        self.models: dict[str, OutcomeService] = {}
        self.indexes: dict[str, PrecedentService] = {}
        self.oversight = OversightService(settings, metrics)
        self.predictions = Predictions(settings, metrics, self.oversight, self.models, self.indexes)
        self.precedents = Precedents(settings, metrics, self.oversight, self.indexes)
        self.documents = DocumentReader(settings)
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
                spec = get_dataset(dataset, self.settings)
            except KeyError as error:  # a typo in CASECAST_DATASETS must not stop the server
                log.error("%s", error)
                continue
            uri = alias_uri(registered_model_name(dataset, spec.task), self.settings.model_alias)
            self.models[dataset] = OutcomeService(dataset, uri, spec, self._mix_policy(dataset))
            self.indexes[dataset] = PrecedentService(dataset, self.settings.index_dir)
            self.models[dataset].holder.load()
            self.indexes[dataset].holder.load()
        self.metrics.show_versions(self._served_versions())

    def _mix_policy(self, dataset: str) -> ClassMixPolicy:
        settings = self.settings
        store = self.oversight.observations
        return ClassMixPolicy(
            settings.class_mix.get(dataset, TRAINED),
            lambda version, n: store.latest_probabilities(dataset, version, n),
            window=settings.class_mix_window,
            min_cases=settings.class_mix_min_cases,
        )

    def health(self) -> HealthResponse:
        """Whether each data set's model and index are loaded, and whether they belong
        together (degraded, never down, when not)."""
        datasets = {}
        for name, outcome in self.models.items():
            precedent = self.indexes[name]
            loaded, index = outcome.loaded, precedent.index
            pairing: IndexPairing | None = None
            if loaded is not None and index is not None:
                pairing = index_pairing(loaded.info, index.manifest)
            datasets[name] = DatasetHealth(
                model=ComponentHealth(
                    ready=loaded is not None, version=outcome.holder.version, detail=outcome.error
                ),
                index=ComponentHealth(
                    ready=index is not None,
                    version=precedent.holder.version,
                    detail=precedent.error,
                ),
                builds=precedent.builds(),
                pair=None
                if pairing is None or loaded is None
                else PairHealth(
                    matches=pairing.matches,
                    detail=pairing.detail,
                    recorded_index_version=loaded.info.version_tags.get(INDEX_VERSION_TAG),
                ),
            )
        ready = all(
            d.model.ready and d.index.ready and (d.pair is None or d.pair.matches)
            for d in datasets.values()
        )
        return HealthResponse(status="ok" if ready else "degraded", datasets=datasets)

    def refresh(self, dataset: str | None = None) -> list[ComponentChange]:
        """Follow the alias and ``CURRENT``: load what moved beside what serves, swap it in.
        One refresh at a time (the poller and ``POST /v1/admin/reload`` share it)."""
        names = [dataset] if dataset is not None else list(self.models)
        for name in names:
            if name not in self.models:
                raise NotFoundError(f"unknown data set {name!r}; served: {', '.join(self.models)}")
        changes: list[ComponentChange] = []
        with self._refresh_lock:
            for name in names:
                for holder in (self.models[name].holder, self.indexes[name].holder):
                    change = holder.refresh()
                    if change is not None:
                        changes.append(change)
                        self.metrics.reloads.labels(
                            name, change.component, "failed" if change.error else "swapped"
                        ).inc()
        self.metrics.show_versions(self._served_versions())
        return changes

    def _served_versions(self) -> dict[tuple[str, str], str | None]:
        versions: dict[tuple[str, str], str | None] = {}
        for name in self.models:
            versions[(name, "model")] = self.models[name].holder.version
            versions[(name, "index")] = self.indexes[name].holder.version
        return versions
