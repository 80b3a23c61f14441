"""The app factory: ``uvicorn --factory serving.app:create_app``."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from serving.errors import install_error_handlers
from serving.metrics import ServiceMetrics
from serving.routes import cases, meta, precedents, predict
from serving.services import Services
from serving.settings import ServingSettings

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("casecast.serving")


def create_app(settings: ServingSettings | None = None) -> FastAPI:
    settings = settings or ServingSettings()

    metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(settings, metrics)
        await run_in_threadpool(services.load)
        app.state.services = services
        yield

    app = FastAPI(
        title="casecast",
        version="0.1.0",
        summary="Outcome estimates and similar precedents from past court decisions.",
        description="Advice under human control: every answer is an estimate from published "
        "decisions, explained and logged. It is not legal advice.",
        lifespan=lifespan,
        # Declared or streamed (chunked), a body over the limit ends in 413 as it is read.
        max_body_size=settings.max_body_bytes,
    )
    install_error_handlers(app)
    app.state.metrics = metrics

    @app.middleware("http")
    async def request_id_and_metrics(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        # The route template, not the path: case ids must not become label values.
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    for module in (predict, precedents, cases, meta):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app
