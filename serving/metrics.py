"""Prometheus metrics, one registry per app (tests build many apps in one process)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "casecast_http_requests_total",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "casecast_http_request_seconds",
            "Request latency by route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "casecast_predictions_total",
            "Outcome predictions served",
            ["dataset", "model_version", "label"],
            registry=self.registry,
        )
        self.searches = Counter(
            "casecast_precedent_searches_total",
            "Precedent searches served",
            ["dataset", "mode"],
            registry=self.registry,
        )

        self.audit_writes = Counter(
            "casecast_audit_writes_total",
            "Audit records written (or failed: the answer was then refused)",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.observations = Counter(
            "casecast_observations_total",
            "Predictions recorded for drift monitoring (or failed: the answer still went out)",
            ["outcome"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "casecast_reloads_total",
            "Model and index versions swapped in (or that failed to load)",
            ["dataset", "component", "outcome"],
            registry=self.registry,
        )
        self.served_version = Gauge(
            "casecast_served_version",
            "1 for the model and index version each data set serves",
            ["dataset", "component", "version"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "casecast_requests_in_flight", "API requests being served", registry=self.registry
        )
        self.queue_depth = Gauge(
            "casecast_worker_queue_depth",
            "Requests waiting for a worker of the bounded pool",
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "casecast_encoder_batch_texts",
            "Texts per encoder call once concurrent requests are grouped",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=self.registry,
        )

    def show_versions(self, versions: dict[tuple[str, str], str | None]) -> None:
        """Exactly one series per data set and component: the version served now."""
        self.served_version.clear()
        for (dataset, component), version in versions.items():
            if version is not None:
                self.served_version.labels(dataset, component, version).set(1)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
