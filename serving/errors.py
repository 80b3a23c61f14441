"""Domain errors and the one place that maps every exception to an HTTP answer."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casecast.models.precedents import CaseNotIndexedError, IndexUnavailableError
from casecast.models.registry import ModelNotAvailableError

log = logging.getLogger("casecast.serving")


class ServiceError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def headers(self) -> dict[str, str]:
        return {}


class UnauthorizedError(ServiceError):
    status_code = 401
    code = "unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class ForbiddenError(ServiceError):
    status_code = 403
    code = "forbidden"


class RateLimitedError(ServiceError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class InvalidInputError(ServiceError):
    status_code = 422
    code = "invalid_input"


class BadDocumentError(ServiceError):
    """An uploaded file that cannot be read as the kind it is (a damaged or crafted one)."""

    status_code = 400
    code = "bad_document"


class PayloadTooLargeError(ServiceError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaError(ServiceError):
    status_code = 415
    code = "unsupported_media_type"


class NotFoundError(ServiceError):
    status_code = 404
    code = "not_found"


class UnavailableError(ServiceError):
    status_code = 503
    code = "unavailable"


INVALID_JSON = "the request body is not valid JSON (in UTF-8)"
# Codes of the plain HTTP errors Starlette and FastAPI raise themselves.
HTTP_CODES = {
    400: "invalid_json",
    422: "invalid_input",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _answer(
    request: Request,
    status: int,
    code: str,
    message: str,
    extra_headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    headers = dict(extra_headers or {})
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "request_id": request_id}},
        headers=headers,
    )


def busy_response(request: Request, limit: int) -> JSONResponse:
    """429 for a request beyond the concurrency limit, before any work is done."""
    return _answer(
        request,
        429,
        "too_many_requests",
        f"the server is answering {limit} requests already; try again in a second",
        {"Retry-After": "1"},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, error: ServiceError) -> JSONResponse:
        return _answer(request, error.status_code, error.code, error.message, error.headers)

    @app.exception_handler(ModelNotAvailableError)
    async def no_model(request: Request, error: ModelNotAvailableError) -> JSONResponse:
        return _answer(request, 503, "model_unavailable", str(error))

    @app.exception_handler(IndexUnavailableError)
    async def no_index(request: Request, error: IndexUnavailableError) -> JSONResponse:
        return _answer(request, 503, "index_unavailable", str(error))

    @app.exception_handler(CaseNotIndexedError)
    async def not_indexed(request: Request, error: CaseNotIndexedError) -> JSONResponse:
        return _answer(request, 404, "not_found", str(error.args[0]))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        kinds = {item.get("type") for item in error.errors()}
        if "json_invalid" in kinds:
            return _answer(request, 400, "invalid_json", INVALID_JSON)
        content_type = request.headers.get("content-type", "")
        if (
            request.method in {"POST", "PUT", "PATCH"}
            and "model_attributes_type" in kinds
            and "json" not in content_type
        ):
            return _answer(
                request,
                415,
                "unsupported_media_type",
                f"send the body as JSON (Content-Type: application/json), not {content_type!r}",
            )
        problems = []
        for item in error.errors():
            where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
        return _answer(request, 422, "invalid_input", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(error.status_code, "http_error")
        message = str(error.detail)
        if error.status_code == 400 and message == "There was an error parsing the body":
            message = INVALID_JSON
        # Headers such as Allow (405) are part of the answer.
        return _answer(request, error.status_code, code, message, error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _answer(
            request,
            500,
            "internal_error",
            "unexpected server error; it was logged with this request id",
        )


class BodyLimitMiddleware:
    """413 for a request body over ``max_bytes``: at once when its declared length is over,
    or as soon as a streamed (chunked) body passes it. Nothing beyond the limit is read.

    Starlette's own limit answers in plain text and replaces any answer to a request whose
    declared length is over the limit with its own; this one answers like every other error.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        by_path: Mapping[str, int] | None = None,
        max_json_depth: int | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.by_path = dict(by_path or {})  # routes that take more (file uploads)
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope.get("path", ""), self.max_bytes)
        message_ = f"request body is over the {limit:,}-byte limit"
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            request = Request(scope)
            await _answer(request, 413, "payload_too_large", message_)(scope, receive, send)
            return
        received = 0
        content_type = dict(scope.get("headers", ())).get(b"content-type", b"")
        depth = (
            JsonDepth(self.max_json_depth)
            if self.max_json_depth is not None and b"json" in content_type
            else None
        )

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise StarletteHTTPException(413, message_)
                if depth is not None and not depth.feed(chunk):
                    raise StarletteHTTPException(
                        422, f"the JSON body is nested deeper than {depth.limit} levels"
                    )
            return message

        await self.app(scope, receive_within_limit, send)


class JsonDepth:
    """Counts a JSON text's nesting as its bytes arrive (strings and their escapes skipped),
    so that a body nested past ``limit`` is refused before it is parsed. Only the bytes that
    can matter are looked at: a case text of 200,000 characters costs microseconds."""

    _SPECIAL = re.compile(rb'["\\\[\]{}]')

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.depth = 0
        self._in_string = False
        self._skip = 0  # bytes of the next chunk to skip (an escape split across chunks)

    def feed(self, chunk: bytes) -> bool:
        """False once the nesting has passed the limit."""
        allowed, self._skip = self._skip, 0
        for match in self._SPECIAL.finditer(chunk):
            at = match.start()
            if at < allowed:
                continue
            byte = chunk[at]
            if self._in_string:
                if byte == 0x5C:  # backslash: the next byte is escaped, whatever it is
                    allowed = at + 2
                    self._skip = max(0, allowed - len(chunk))
                elif byte == 0x22:
                    self._in_string = False
            elif byte == 0x22:
                self._in_string = True
            elif byte in (0x5B, 0x7B):  # [ {
                self.depth += 1
                if self.depth > self.limit:
                    return False
            elif byte in (0x5D, 0x7D):  # ] }
                self.depth -= 1
        return True
