"""The API built from the factory over a model trained, registered and indexed by the CLI."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from casecast.models.oversight import AuditLedger
from casecast.models.registry import configure_tracking
from casecast.serving.app import create_app
from tests.serving.conftest import bearer, serving_settings


def _settings(home: Path, **overrides):
    """A server open as a public demo (these tests are about answers, not access)."""
    return serving_settings(home, **{"public_demo": True, **overrides})


def _ledger(home: Path) -> AuditLedger:
    return AuditLedger(serving_settings(home).resolved_oversight_url)


@pytest.fixture(scope="module")
def client(trained_home, role_keys) -> Iterator[TestClient]:
    """A data scientist's client of a server that needs keys."""
    app = create_app(serving_settings(trained_home))
    with TestClient(app, headers=bearer(role_keys["data-scientist"])) as test_client:
        yield test_client


def _fields(record) -> dict:
    return {"respondent": record.inputs["respondent"], "year": record.inputs["year"]}


def test_health_reports_model_and_index(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    echr = body["datasets"]["echr"]
    assert echr["model"] == {"ready": True, "version": "1", "detail": None}
    assert echr["index"]["ready"]
    # Trained and indexed on the same data with the same encoder: a pair, recorded as one.
    assert echr["pair"] == {
        "matches": True,
        "detail": None,
        "recorded_index_version": echr["index"]["version"],
    }


def test_predict_returns_probabilities_reasons_and_model(client, train_slice, trained_home):
    record = train_slice.records[5]
    response = client.post("/v1/predict", json={"text": record.text, "fields": _fields(record)})
    assert response.status_code == 200, response.text
    body = response.json()
    probabilities = {p["label"]: p["probability"] for p in body["probabilities"]}
    assert set(probabilities) == {"violation", "no_violation"}
    assert all(0.0 <= p <= 1.0 for p in probabilities.values())
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert body["label"] == max(probabilities, key=probabilities.get)
    assert body["probability"] == pytest.approx(probabilities[body["label"]])
    assert body["model"] == {
        "name": "casecast-echr-violation",
        "version": "1",
        "uri": "models:/casecast-echr-violation@champion",
    }
    kinds = [r["kind"] for r in body["reasons"]]
    assert "passage" in kinds and "feature" in kinds
    assert body["fields"] == _fields(record)  # what the model read: an English text adds none
    assert "not legal advice" in body["disclaimer"]
    # The answer says how far to trust it: the validation beside the majority rule.
    card = client.get("/v1/model", params={"dataset": "echr"}).json()["card"]["scores"]
    record_ = body["track_record"]
    assert record_["cases"] == card["n"] and record_["accuracy"] == round(card["accuracy"], 4)
    assert record_["majority_outcome"] == card["majority_class"]
    assert record_["beats_majority"] == (card["accuracy"] > card["majority_accuracy"])
    assert f"{card['accuracy']:.1%}" in record_["summary"]
    # ...and on cases against the same respondent state, from the same card.
    groups = client.get("/v1/model", params={"dataset": "echr"}).json()["card"]["groups"]
    state = record.inputs["respondent"].split(";")[0]
    [row] = [r for r in groups["respondent state"] if r["group"] == state]
    group = body["group_record"]
    assert (group["value"], group["cases"], group["accuracy"]) == (state, row["n"], row["accuracy"])
    assert group["mean_probability"] == row["mean_probability"]
    assert group["observed_rate"] == row["observed_rate"]
    assert f"respondent state {state}" in group["summary"]
    # Every prediction is logged, without the case text, under the key that asked.
    entry = _ledger(trained_home).get(body["record_id"])
    assert entry is not None and entry.kind == "prediction" and entry.input_text is None
    summary = entry.summary
    assert summary["request_id"] == body["request_id"] == response.headers["X-Request-ID"]
    assert entry.model_version == "1" and summary["text_chars"] == len(record.text)
    assert entry.role == "data-scientist" and entry.endpoint == "/v1/predict"
    assert record.paragraphs[0][:40] not in json.dumps(entry.as_dict())
    assert summary["articles"] == [a["article"] for a in body["articles"] if a["predicted"]]


def test_predict_answers_which_articles_are_likely_violated(client, train_slice):
    """ECHR models carry one head per article with enough training cases (Art. 6 at least)."""
    record = train_slice.records[5]
    body = client.post("/v1/predict", json={"text": record.text, "explain": False}).json()
    articles = {a["article"]: a for a in body["articles"]}
    assert "6" in articles
    assert all(0.0 <= a["probability"] <= 1.0 for a in articles.values())
    assert all(isinstance(a["predicted"], bool) for a in articles.values())
    assert body["group_record"] is None  # no respondent given: no group to report on


def test_the_served_model_matches_the_registered_one(client, train_slice, trained_home):
    import mlflow
    import pandas as pd

    record = train_slice.records[9]
    served = client.post(
        "/v1/predict", json={"text": record.text, "fields": _fields(record), "explain": False}
    ).json()
    configure_tracking(serving_settings(trained_home))
    model = mlflow.pyfunc.load_model("models:/casecast-echr-violation@champion")
    direct = model.predict(pd.DataFrame([{"text": record.text, **_fields(record)}]))
    assert served["probability"] == pytest.approx(float(direct["probability"].iloc[0]), abs=1e-6)
    assert served["reasons"] == []


def test_a_training_cases_facts_retrieve_it_first(client, train_slice):
    for record in (train_slice.records[2], train_slice.records[40], train_slice.records[111]):
        response = client.post("/v1/precedents/search", json={"text": record.text, "k": 5})
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert results[0]["case_id"] == record.case_id
        assert results[0]["title"] == record.title and results[0]["year"] == record.decision_year
        assert 1 <= len(results[0]["passages"]) <= 3
        assert results[0]["passages"][0]["text"]


def test_search_filters_and_case_lookups(client, train_slice):
    record = train_slice.records[2]
    state = record.parties[0]
    filtered = client.post(
        "/v1/precedents/search",
        json={"text": record.text, "k": 20, "filters": {"respondent": state, "year_min": 2000}},
    )
    assert filtered.status_code == 200
    assert all(state in r["parties"] and r["year"] >= 2000 for r in filtered.json()["results"])
    case = client.get(f"/v1/cases/{record.case_id}").json()
    assert case["paragraphs"] == list(record.paragraphs) and case["title"] == record.title
    similar = client.get(f"/v1/cases/{record.case_id}/similar", params={"k": 3}).json()
    assert len(similar) == 3 and record.case_id not in {s["case_id"] for s in similar}
    by_id = client.post("/v1/precedents/search", json={"case_id": record.case_id, "k": 3})
    assert [r["case_id"] for r in by_id.json()["results"]] == [s["case_id"] for s in similar]


def test_model_card(client):
    card = client.get("/v1/model", params={"dataset": "echr"}).json()
    assert card["version"] == "1" and card["aliases"] == ["champion"]
    assert card["inputs"] == ["text", "respondent", "year"]
    assert "val_macro_f1" in card["metrics"] and "val_majority_macro_f1" in card["metrics"]
    assert card["training_data"]["data_fingerprint"]
    groups = card["card"]["groups"]
    assert set(groups) == {"respondent state", "formation", "importance", "decade"}
    assert card["card"]["scores"]["n"] == sum(row["n"] for row in groups["decade"])
    assert card["card"]["scores"]["majority_macro_f1"] < 0.5


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/v1/predict", {"text": ""}, 422, "text"),
        ("/v1/predict", {"text": "   \n "}, 422, "white space"),
        ("/v1/predict", {"text": 42}, 422, "valid string"),
        ("/v1/predict", {}, 422, "Field required"),
        ("/v1/predict", {"text": "facts", "fields": {"judge": "X"}}, 422, "unknown field"),
        ("/v1/predict", {"text": "facts", "fields": {"year": "soon"}}, 422, "year must be"),
        ("/v1/predict", {"text": "facts", "extra": 1}, 422, "extra"),
        ("/v1/predict", {"text": "x" * 200_001}, 413, "limit is 200,000"),
        ("/v1/predict", {"dataset": "mars", "text": "facts"}, 404, "unknown data set"),
        ("/v1/precedents/search", {"text": "a", "case_id": "b"}, 422, "exactly one"),
        ("/v1/precedents/search", {"text": "a", "k": 0}, 422, "k"),
        ("/v1/precedents/search", {"case_id": "001-none"}, 404, "not in the echr index"),
    ],
)
def test_bad_input_gets_a_clear_4xx(client, path, body, status, message):
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]


def _raw(client, body: bytes, content_type: str = "application/json"):
    return client.post("/v1/predict", content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b'{"text": "\xff\xfe facts"}', "application/json", 400, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 422, "nested deeper than 32"),
        (b'{"text": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", "application/json", 422, "nested"),
        (b"", "application/json", 422, "Field required"),
        (b"text=facts", "application/x-www-form-urlencoded", 415, "application/json"),
        (b'{"text": "facts"}', "text/plain", 415, "application/json"),
        (b"x" * 10_000_000, "application/json", 413, "1,000,000-byte limit"),
    ],
    ids=["malformed", "invalid-utf8", "nesting-bomb", "nested-text", "empty", "form",
         "text-plain", "10MB"],
)  # fmt: skip
def test_unreadable_bodies_are_refused_with_a_reason(client, body, content_type, status, message):
    response = _raw(client, body, content_type)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]
    assert client.get("/health").status_code == 200  # and the server is still up


def test_texts_with_nothing_to_read_are_still_answered(client):
    """Schemathesis found `{"text": "0"}` answered 500 once (no sentence left to explain)."""
    for text in ("0", ".", "!!!\n\n???", "§"):
        response = client.post("/v1/predict", json={"text": text})
        assert response.status_code == 200, (text, response.text)
        assert response.json()["probability"] >= 0.5
    assert client.get("/v1/cases/001-none").status_code == 404
    huge_k = client.post("/v1/precedents/search", json={"text": "detention", "k": 10**12})
    assert huge_k.status_code == 422 and "less than or equal to 50" in huge_k.text


def test_no_champion_gives_503_with_advice(tmp_path):
    with TestClient(create_app(_settings(tmp_path))) as fresh:
        response = fresh.post("/v1/predict", json={"text": "The applicant was detained."})
        assert response.status_code == 503
        assert "casecast train --dataset echr" in response.json()["error"]["message"]
        search = fresh.post("/v1/precedents/search", json={"text": "detention"})
        assert search.status_code == 503 and "casecast index" in search.json()["error"]["message"]
        assert fresh.get("/v1/cases/001-100005").status_code == 503
        assert fresh.get("/health").json()["status"] == "degraded"
        not_ready = fresh.get("/ready")  # alive, but not ready: a load balancer waits
        assert not_ready.status_code == 503 and not_ready.json()["ready"] is False
        assert fresh.get("/v1/model").status_code == 503


def test_corrupt_index_gives_503_while_predictions_go_on(trained_home, tmp_path, train_slice):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(trained_home, home)
    version = (home / "indexes" / "echr" / "CURRENT").read_text()
    (home / "indexes" / "echr" / version / "cases.json").write_text("{broken")
    with TestClient(create_app(_settings(home))) as degraded:
        search = degraded.post("/v1/precedents/search", json={"text": "detention"})
        assert search.status_code == 503 and "unreadable" in search.json()["error"]["message"]
        predicted = degraded.post("/v1/predict", json={"text": train_slice.records[0].text})
        assert predicted.status_code == 200


def test_openapi_and_page_are_served(client):
    spec = client.get("/openapi.json").json()
    assert {
        "/v1/predict",
        "/v1/precedents/search",
        "/v1/cases/{case_id}",
        "/v1/model",
        "/health",
    } <= set(spec["paths"])
    page = client.get("/")
    assert page.status_code == 200 and "casecast" in page.text


@pytest.mark.parametrize("mode", ["semantic", "keyword", "hybrid"])
def test_every_search_mode_finds_a_case_from_its_own_facts(client, train_slice, mode):
    record = train_slice.records[60]
    response = client.post(
        "/v1/precedents/search", json={"text": record.text, "k": 3, "mode": mode}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["index"]["mode"] == mode
    # The session's index is too small to fit a fusion ranker: hybrid says it used RRF.
    assert body["index"]["fusion"] == ("rrf" if mode == "hybrid" else None)
    assert body["results"][0]["case_id"] == record.case_id


def test_articles_filter_and_bad_mode(client, train_slice):
    record = train_slice.records[60]
    response = client.post(
        "/v1/precedents/search", json={"text": record.text, "k": 50, "filters": {"articles": ["6"]}}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results and all("6" in r["examined_articles"] for r in results)
    assert all(set(r["violated_articles"]) <= set(r["examined_articles"]) for r in results)
    bad = client.post("/v1/precedents/search", json={"text": "x", "mode": "fuzzy"})
    assert bad.status_code == 422 and "mode" in bad.json()["error"]["message"]


def test_metrics_count_requests_predictions_and_searches(client, train_slice):
    record = train_slice.records[3]
    predicted = client.post("/v1/predict", json={"text": record.text, "explain": False}).json()
    client.post("/v1/precedents/search", json={"text": record.text, "k": 2, "mode": "keyword"})
    client.get("/v1/cases/001-none")
    text = client.get("/metrics").text
    assert (
        f'casecast_predictions_total{{dataset="echr",label="{predicted["label"]}",'
        f'model_version="1"}}' in text
    )
    assert 'casecast_precedent_searches_total{dataset="echr",mode="keyword"}' in text
    assert 'route="/v1/cases/{case_id}",status="404"' in text  # templates, not ids
    assert "001-none" not in text
    assert (
        'casecast_http_request_seconds_bucket{le="0.01",method="POST",route="/v1/predict"}' in text
    )
    assert 'casecast_audit_writes_total{kind="prediction",outcome="ok"}' in text
    assert 'casecast_audit_writes_total{kind="search",outcome="ok"}' in text
    assert 'casecast_served_version{component="model",dataset="echr",version="1"} 1.0' in text
    batches = [
        line for line in text.splitlines() if line.startswith("casecast_encoder_batch_texts_count")
    ]
    assert batches and float(batches[0].split()[-1]) >= 1  # the encoder ran in batches
    assert "casecast_worker_queue_depth" in text and "casecast_requests_in_flight" in text


def test_a_chunked_body_over_the_limit_is_refused_as_it_is_read(client):
    def chunks():
        for _ in range(20):
            yield b'{"text": "' + b"x" * 100_000

    response = client.post(
        "/v1/predict", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and "1,000,000-byte limit" in error["message"]
    assert client.get("/health").status_code == 200


def test_a_wrong_method_is_answered_with_what_is_allowed(client):
    response = client.get("/v1/predict")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_model_and_an_index_of_other_data_are_reported_as_not_belonging_together(
    trained_home, tmp_path
):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(trained_home, home)
    version = (home / "indexes" / "echr" / "CURRENT").read_text()
    manifest_path = home / "indexes" / "echr" / version / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["data_fingerprint"] = "0123456789abcdef"
    manifest_path.write_text(json.dumps(manifest))
    with TestClient(create_app(_settings(home))) as mismatched:
        health = mismatched.get("/health").json()
        pair = health["datasets"]["echr"]["pair"]
        assert health["status"] == "degraded" and pair["matches"] is False
        assert "01234567" in pair["detail"] and "casecast index" in pair["detail"]


def test_a_failed_audit_write_answers_503_and_hands_out_nothing(trained_home, tmp_path):
    unwritable = tmp_path / "audit-is-a-folder"
    unwritable.mkdir()
    settings = _settings(trained_home, oversight_url=f"sqlite:///{unwritable}")
    with TestClient(create_app(settings)) as broken:
        response = broken.post("/v1/predict", json={"text": "The applicant was detained."})
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "unavailable" and "audit log" in error["message"]
        assert "probability" not in response.text
        search = broken.post("/v1/precedents/search", json={"text": "detention"})
        assert search.status_code == 503 and "results" not in search.text
        assert broken.get("/health").status_code == 200


def test_an_unexpected_error_is_a_logged_500_and_the_server_goes_on(trained_home, monkeypatch):
    app = create_app(_settings(trained_home))
    with TestClient(app, raise_server_exceptions=False) as client_:
        services = app.state.services

        def fail(*args, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr(services.predictions, "predict", fail)
        response = client_.post(
            "/v1/predict", json={"text": "x y z"}, headers={"X-Request-ID": "req-42"}
        )
        assert response.status_code == 500
        assert response.json()["error"] == {
            "code": "internal_error",
            "message": "unexpected server error; it was logged with this request id",
            "request_id": "req-42",
        }
        monkeypatch.undo()
        assert client_.post("/v1/predict", json={"text": "x y z"}).status_code == 200


def test_concurrent_requests_get_their_own_answers_and_audit_records(
    trained_home, tmp_path, train_slice
):
    import asyncio
    import shutil

    import httpx

    home = tmp_path / "home"
    shutil.copytree(trained_home, home)
    already = _ledger(home).count()
    app = create_app(_settings(home))
    records = train_slice.records[:12]
    with TestClient(app) as sequential:  # runs the lifespan; answers one at a time
        expected = [
            sequential.post("/v1/predict", json={"text": r.text, "explain": False}).json()
            for r in records
        ]
        expected_hits = [
            sequential.post("/v1/precedents/search", json={"text": r.text, "k": 3}).json()
            for r in records
        ]

        async def all_at_once() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://casecast") as c:
                return await asyncio.gather(
                    *(c.post("/v1/predict", json={"text": r.text, "explain": False})
                      for r in records),
                    *(c.post("/v1/precedents/search", json={"text": r.text, "k": 3})
                      for r in records),
                )  # fmt: skip

        answers = asyncio.run(all_at_once())
    predictions, searches = answers[: len(records)], answers[len(records) :]
    assert all(a.status_code == 200 for a in answers)
    for answer, before in zip(predictions, expected, strict=True):
        # Concurrent requests share encoder batches, whose shapes change float rounding
        # (differences around 1e-8): the same answer, not the same last bits.
        assert answer.json()["probability"] == pytest.approx(before["probability"], abs=1e-6)
    assert len({a.json()["request_id"] for a in predictions}) == len(records)
    for answer, before in zip(searches, expected_hits, strict=True):
        # The same cases and passages; passages tied at the top may swap places.
        got, wanted = answer.json()["results"], before["results"]
        assert [r["case_id"] for r in got] == [r["case_id"] for r in wanted]
        for hit, expected_hit in zip(got, wanted, strict=True):
            assert hit["score"] == pytest.approx(expected_hit["score"], abs=1e-3)
            assert sorted(p["paragraphs"] for p in hit["passages"]) == sorted(
                p["paragraphs"] for p in expected_hit["passages"]
            )
    ledger = _ledger(home)
    logged = ledger.records(kind="prediction", limit=1000)
    logged = [r for r in logged if r.seq > already]
    assert len(logged) == 2 * len(records)  # the sequential and the concurrent predictions
    answered = {a.json()["record_id"] for a in predictions}
    assert {r.record_id for r in logged} >= answered
    assert ledger.verify().intact  # concurrent writers kept the chain in order
