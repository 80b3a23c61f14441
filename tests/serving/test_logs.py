"""Structured logs: every line a JSON object carrying the request id of the request it is in."""

import io
import json
import logging

from fastapi.testclient import TestClient

from casecast.serving.app import create_app
from casecast.serving.logs import JsonFormatter
from tests.serving.conftest import serving_settings


def test_each_request_logs_one_json_line_with_its_request_id(trained_home):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("casecast.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        with TestClient(create_app(serving_settings(trained_home, public_demo=True))) as client:
            client.get("/v1/cases/001-none", headers={"X-Request-ID": "req-logged"})
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    [line] = [json.loads(x) for x in stream.getvalue().splitlines() if "req-logged" in x]
    assert line["request_id"] == "req-logged" and line["status"] == 404
    assert line["route"] == "/v1/cases/{case_id}" and line["key_id"] == "public"
    assert line["level"] == "info" and line["seconds"] >= 0
