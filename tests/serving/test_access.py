"""Who may do what: every endpoint under every role, no key, a revoked and an expired key."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from casecast.models.oversight import KeyStore
from casecast.models.oversight.keys import utc_now
from casecast.serving.app import create_app
from tests.serving.conftest import bearer, serving_settings

ROLES = ("claimant", "judge", "data-scientist", "admin")
EVERYONE = dict.fromkeys(ROLES, 200)


def _from(first: str, allowed: int = 200, refused: int = 403) -> dict[str, int]:
    """``allowed`` for ``first`` and the roles above it, ``refused`` below."""
    start = ROLES.index(first)
    return {role: allowed if i >= start else refused for i, role in enumerate(ROLES)}


# (method, path, body) -> expected status per role. {record} is a prediction made with the
# data scientist's key: a claimant or judge reading it gets 404, as for a record that does
# not exist (OWASP API1); {own} is one made with the caller's own key; {spare} a fresh key.
MATRIX: list[tuple[str, str, dict | str | None, dict[str, int]]] = [
    ("POST", "/v1/predict", {"text": "The applicant was detained.", "explain": False}, EVERYONE),
    ("POST", "/v1/precedents/search", {"text": "detention on remand", "k": 2}, EVERYONE),
    ("GET", "/v1/cases/{case_id}", None, EVERYONE),
    ("GET", "/v1/model", None, EVERYONE),
    ("GET", "/v1/model/reliability.png", None, EVERYONE),
    ("POST", "/v1/documents/text", "upload", EVERYONE),
    ("GET", "/v1/predictions", None, EVERYONE),
    ("GET", "/v1/predictions/{own}", None, EVERYONE),
    ("GET", "/v1/predictions/{record}", None, _from("data-scientist", refused=404)),
    ("GET", "/v1/cases/{case_id}/similar", None, _from("judge")),
    ("POST", "/v1/predictions/{record}/feedback", {"verdict": "agree"}, _from("judge", 201)),
    ("POST", "/v1/admin/reload", None, _from("data-scientist")),
    ("GET", "/v1/admin/versions", None, _from("data-scientist")),
    ("GET", "/v1/admin/keys", None, _from("admin")),
    ("POST", "/v1/admin/keys/{spare}/revoke", None, _from("admin")),
]


@pytest.fixture(scope="module")
def server(trained_home, role_keys):
    with TestClient(create_app(serving_settings(trained_home))) as client:
        yield client


@pytest.fixture(scope="module")
def rejected_keys(trained_home) -> dict[str, str]:
    store = KeyStore(serving_settings(trained_home).resolved_oversight_url)
    revoked_key, revoked = store.create("former clerk", "judge")
    store.revoke(revoked_key.key_id)
    # Issued two days ago for one day (the store's clock set back): expired since yesterday.
    issuer = KeyStore(store.url, clock=lambda: utc_now() - timedelta(days=2))
    _, expired = issuer.create("visiting researcher", "data-scientist", timedelta(days=1))
    return {"revoked": revoked, "expired": expired}


def _predict(server, token: str) -> str:
    answer = server.post(
        "/v1/predict", json={"text": "The applicant was detained.", "explain": False},
        headers=bearer(token),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()["record_id"]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[m[1] for m in MATRIX])
def test_role_matrix(server, role_keys, rejected_keys, trained_home, train_slice,
                     method, path, body, expected):  # fmt: skip
    store = KeyStore(serving_settings(trained_home).resolved_oversight_url)
    others_record = _predict(server, role_keys["data-scientist"])
    case_id = train_slice.records[60].case_id

    def url(token: str | None) -> str:
        own = _predict(server, token) if "{own}" in path and token in role_keys.values() else "x"
        spare = store.create("spare", "claimant")[0].key_id if "{spare}" in path else ""
        return path.format(case_id=case_id, record=others_record, own=own, spare=spare)

    def call(token: str | None):
        headers = bearer(token) if token else {}
        if body == "upload":
            files = {"file": ("facts.txt", b"The applicant was detained.", "text/plain")}
            return server.request(method, url(token), files=files, headers=headers)
        return server.request(method, url(token), json=body, headers=headers)

    for role in ROLES:
        answer = call(role_keys[role])
        assert answer.status_code == expected[role], (role, answer.text)
        if answer.status_code >= 400:
            assert answer.json()["error"]["message"]  # a reason, never a bare status
    unauthenticated = call(None)
    assert unauthenticated.status_code == 401, unauthenticated.text
    assert unauthenticated.headers["WWW-Authenticate"] == "Bearer"
    for state, token in rejected_keys.items():
        answer = call(token)
        assert answer.status_code == 401 and state in answer.json()["error"]["message"]


def test_a_claimant_reads_only_their_own_records_and_feedback_sits_beside_them(server, role_keys):
    claimant, judge = role_keys["claimant"], role_keys["judge"]
    mine = _predict(server, claimant)
    theirs = _predict(server, judge)
    listed = server.get("/v1/predictions", headers=bearer(claimant)).json()
    assert mine in {r["record_id"] for r in listed} and theirs not in {
        r["record_id"] for r in listed
    }
    assert server.get(f"/v1/predictions/{theirs}", headers=bearer(claimant)).status_code == 404
    given = server.post(
        f"/v1/predictions/{mine}/feedback",
        json={"verdict": "disagree", "comment": "the detention was lawful"},
        headers=bearer(judge),
    )
    assert given.status_code == 201, given.text
    record = server.get(f"/v1/predictions/{mine}", headers=bearer(claimant)).json()
    assert [(f["verdict"], f["comment"], f["role"]) for f in record["feedback"]] == [
        ("disagree", "the detention was lawful", "judge")
    ]
    assert "detained" not in str(record)  # the record holds the text's hash, not the text
    bad = server.post(
        f"/v1/predictions/{mine}/feedback", json={"verdict": "maybe"}, headers=bearer(judge)
    )
    assert bad.status_code == 422 and "verdict" in bad.json()["error"]["message"]


def test_the_public_demo_opens_reading_and_nothing_else(trained_home):
    with TestClient(create_app(serving_settings(trained_home, public_demo=True))) as demo:
        predicted = demo.post("/v1/predict", json={"text": "The applicant was detained."})
        assert predicted.status_code == 200
        assert demo.get("/v1/model").status_code == 200
        assert demo.get("/v1/predictions").status_code == 401
        assert demo.post("/v1/admin/reload").status_code == 401
        record = predicted.json()["record_id"]
        feedback = demo.post(f"/v1/predictions/{record}/feedback", json={"verdict": "agree"})
        assert feedback.status_code == 401
        # A key that is wrong is refused even where no key is needed.
        wrong = demo.get("/v1/model", headers=bearer("cc_0000.nope"))
        assert wrong.status_code == 401


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(trained_home, role_keys):
    settings = serving_settings(trained_home, rate_limit_per_minute=3)
    with TestClient(create_app(settings), headers=bearer(role_keys["claimant"])) as client:
        answers = [client.get("/v1/model").status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = client.get("/v1/model")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        # Another key has its own allowance.
        assert client.get("/v1/model", headers=bearer(role_keys["judge"])).status_code == 200
        assert client.get("/health").status_code == 200


def test_requests_beyond_the_concurrency_limit_get_429_and_the_first_finishes(
    trained_home, monkeypatch
):
    import asyncio
    import threading

    import httpx

    app = create_app(serving_settings(trained_home, public_demo=True, max_concurrent_requests=1))
    with TestClient(app):
        services = app.state.services
        entered, release = threading.Event(), threading.Event()
        predict = services.predictions.predict

        def held(*args):
            entered.set()
            release.wait(60)
            return predict(*args)

        monkeypatch.setattr(services.predictions, "predict", held)

        async def scenario():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://casecast") as c:
                body = {"text": "The applicant was detained.", "explain": False}
                first = asyncio.create_task(c.post("/v1/predict", json=body))
                await asyncio.to_thread(entered.wait, 60)
                second = await c.post("/v1/predict", json=body)
                alive = await c.get("/health")  # not an API route: never limited
                release.set()
                return await first, second, alive

        first, second, alive = asyncio.run(scenario())
    assert first.status_code == 200
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"
    assert "answering 1 requests already" in second.json()["error"]["message"]
    assert alive.status_code == 200
