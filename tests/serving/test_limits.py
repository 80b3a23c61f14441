"""Each route's ceilings are settings, checked before any work is done: JSON depth while the
body streams, a text's characters and paragraphs, a search's results and filter values."""

import json

import pytest
from fastapi.testclient import TestClient

from casecast.serving.app import create_app
from casecast.serving.errors import JsonDepth
from tests.serving.conftest import serving_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # An empty home: no model and no index, so any answer but 503 comes from a ceiling.
    home = tmp_path_factory.mktemp("limits-home")
    settings = serving_settings(
        home, public_demo=True, max_search_results=20, max_filter_values=3, max_paragraphs=40
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _nested(levels: int) -> dict:
    body: object = "x"
    for _ in range(levels - 1):
        body = [body]
    return {"text": "The applicant was detained.", "fields": {"deep": body}}


def test_json_nested_past_the_limit_is_refused_while_it_streams(client):
    # The body, its fields and 30 lists: 32 levels, read through to the schema (a list is no
    # field value); 34 levels are refused before any parsing.
    shallow = client.post("/v1/predict", json=_nested(31))
    assert shallow.status_code == 422 and "nested deeper" not in shallow.text
    deep = client.post("/v1/predict", json=_nested(33))
    assert deep.status_code == 422
    assert deep.json()["error"]["message"] == "the JSON body is nested deeper than 32 levels"

    def chunks():
        text = json.dumps(_nested(40)).encode()
        for start in range(0, len(text), 5):
            yield text[start : start + 5]

    streamed = client.post(
        "/v1/predict", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 422 and "nested deeper" in streamed.text


def test_brackets_inside_strings_and_escapes_split_across_chunks_do_not_count():
    text = json.dumps({"text": 'a [[[[ "quoted" \\ {{{{ ' * 20, "k": [[1]]}).encode()
    for size in (1, 2, 3, 7, len(text)):
        depth = JsonDepth(3)
        assert all(depth.feed(text[i : i + size]) for i in range(0, len(text), size))
        assert depth.depth == 0
    assert not JsonDepth(3).feed(b'{"a": [[[1]]]}')


def test_a_text_of_too_many_paragraphs_is_refused_before_any_model_reads_it(client):
    text = "\n\n".join(f"Paragraph {i}." for i in range(41))
    for path in ("/v1/predict", "/v1/precedents/search"):
        answer = client.post(path, json={"text": text})
        assert answer.status_code == 413, (path, answer.text)
        assert answer.json()["error"]["message"].startswith(
            "text has 41 paragraphs; the limit is 40"
        )
    assert client.post("/v1/predict", json={"text": text[:200]}).status_code == 503


def test_a_search_asks_for_at_most_the_servers_results_and_filters(client):
    wide = client.post("/v1/precedents/search", json={"text": "detention", "k": 21})
    assert wide.status_code == 422
    assert wide.json()["error"]["message"] == "k is 21; this server returns at most 20 cases"
    many = {"text": "detention", "filters": {"articles": ["3", "5", "6", "8"]}}
    filtered = client.post("/v1/precedents/search", json=many)
    assert (
        filtered.status_code == 422 and "4 articles to filter by; the limit is 3" in filtered.text
    )
    within = client.post("/v1/precedents/search", json={"text": "detention", "k": 20})
    assert within.status_code == 503  # past every ceiling's check, to the missing index
