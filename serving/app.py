"""The app factory: ``uvicorn --factory casecast.serving.app:create_app``.

The CLI calls the same factory by its import string with the settings it resolved (a
mapping of field values), so that what a command line chose reaches the server without
writing the environment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from casecast.data.datasets import get_dataset
from casecast.data.presentation import page_strings
from casecast.features import batching
from casecast.serving.errors import BodyLimitMiddleware, busy_response, install_error_handlers
from casecast.serving.logs import REQUEST_ID, use_json_logs
from casecast.serving.metrics import ServiceMetrics
from casecast.serving.page import negotiate, render_page
from casecast.serving.routes import admin, cases, documents, meta, precedents, predict, records
from casecast.serving.services import Services
from casecast.serving.settings import ServingSettings

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("casecast.serving")
access_log = logging.getLogger("casecast.access")


def create_app(
    settings: ServingSettings | None = None, overrides: Mapping[str, Any] | None = None
) -> FastAPI:
    """The app; ``settings`` as given, else read from the environment with ``overrides``
    (field names to values, e.g. what a command line resolved) taking precedence."""
    settings = settings or ServingSettings(**(overrides or {}))
    if settings.json_logs:
        use_json_logs()
    metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Encoder calls of concurrent requests share batches (process-wide, like the encoders).
        batching.configure(
            settings.batch_window_ms / 1000, settings.max_batch_texts, metrics.batch_size.observe
        )
        services = Services(settings, metrics)
        await run_in_threadpool(services.load)
        app.state.services = services
        follower = asyncio.create_task(_follow_registry(services))
        yield
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower

    app = FastAPI(
        title="casecast",
        version="0.2.0",
        summary="Outcome estimates and similar precedents from past court decisions.",
        description="Advice under human control: every answer is an estimate from published "
        "decisions, explained and logged. It is not legal advice.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Declared or streamed (chunked), a body over the limit ends in 413 as it is read.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        by_path={documents.UPLOAD_PATH: settings.max_upload_bytes},
        max_json_depth=settings.max_json_depth,
    )
    app.state.metrics = metrics
    in_flight = 0

    @app.middleware("http")
    async def request_id_limits_and_metrics(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        nonlocal in_flight
        request.state.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        REQUEST_ID.set(request.state.request_id)
        started = time.perf_counter()
        limited = request.url.path.startswith("/v1/")
        if limited and in_flight >= settings.max_concurrent_requests:
            response: Response = busy_response(request, settings.max_concurrent_requests)
        else:
            in_flight += limited
            metrics.in_flight.set(in_flight)
            try:
                response = await call_next(request)
            finally:
                in_flight -= limited
                metrics.in_flight.set(in_flight)
        response.headers["X-Request-ID"] = request.state.request_id
        # The route template, not the path: case ids must not become label values.
        route = getattr(request.scope.get("route"), "path", "unmatched")
        seconds = time.perf_counter() - started
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(seconds)
        principal = getattr(request.state, "principal", None)
        access_log.info(
            "%s %s %d",
            request.method,
            route,
            response.status_code,
            extra={
                "route": route,
                "status": response.status_code,
                "seconds": round(seconds, 4),
                "key_id": principal.key_id if principal else None,
            },
        )
        return response

    for module in (predict, precedents, cases, records, documents, admin, meta):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page(request: Request, lang: str | None = None) -> HTMLResponse:
        language = negotiate(lang, request.headers.get("accept-language"))
        strings, layout = spec_words(settings, language)
        html = render_page(language, settings.datasets, settings.mlflow_ui_url, strings, layout)
        return HTMLResponse(html, headers={"Content-Language": language, "Vary": "Accept-Language"})

    return app


def spec_words(
    settings: ServingSettings, language: str
) -> tuple[dict[str, str], dict[str, dict[str, list[str]]]]:
    """The page's words, search filters and form fields from the served data sets' specs."""
    strings: dict[str, str] = {}
    layout: dict[str, dict[str, list[str]]] = {}
    for name in settings.datasets:
        try:
            spec = get_dataset(name, settings)
        except KeyError:  # reported by /health; the page still serves the others
            continue
        strings.update(page_strings(spec, language))
        layout[name] = {
            "filters": list(spec.file.page.filters),
            "form": [field for field, rule in spec.file.inputs.items() if rule.form],
        }
    return strings, layout


async def _follow_registry(services: Services) -> None:
    """Check the registry alias and the index pointers every ``reload_interval_s``; what
    moved is loaded in a worker thread and swapped in (requests keep being answered)."""
    interval = services.settings.reload_interval_s
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(services.refresh)
        except Exception:  # a registry that is down for a while must not end the follower
            log.exception("checking the registry for new versions failed")
