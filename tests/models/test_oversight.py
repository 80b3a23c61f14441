"""API keys and the hash-chained audit log, on a real SQLite database."""

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from casecast.models.oversight import AuditEntry, AuditLedger, KeyRejectedError, KeyStore
from casecast.models.oversight.keys import secret_hash, utc_now


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """Each test on SQLite (the default) and on a real PostgreSQL (a shared store)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'oversight.db'}"
    base = request.getfixturevalue("postgres_url")
    # One database per test, so that every test starts from an empty chain.
    from sqlalchemy import create_engine

    name = f"t{tmp_path.name.replace('-', '_').lower()}"[:60]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.replace("/postgres?", f"/{name}?")


def _fill(ledger: AuditLedger, n: int) -> list[str]:
    return [
        ledger.append(
            AuditEntry(kind="prediction", summary={"label": "violation", "n": i})
        ).record_id
        for i in range(n)
    ]


def test_a_key_authenticates_until_revoked_and_only_its_hash_is_stored(url):
    store = KeyStore(url)
    key, token = store.create("Judge Aigerim", "judge")
    assert store.authenticate(token) == key
    secret = token.split(".", 1)[1]
    with store.engine.connect() as connection:
        dumped = json.dumps([list(r) for r in connection.execute(text("select * from api_keys"))])
    assert secret not in dumped and secret_hash(secret) in dumped
    with pytest.raises(KeyRejectedError, match="unknown"):
        store.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B"))
    with pytest.raises(KeyRejectedError, match="malformed"):
        store.authenticate("not-a-key")
    store.revoke(key.key_id)
    with pytest.raises(KeyRejectedError, match="revoked"):
        store.authenticate(token)
    assert [k.state() for k in store.list_keys()] == ["revoked"]
    with pytest.raises(ValueError, match="already revoked"):
        store.revoke(key.key_id)
    with pytest.raises(ValueError, match="unknown role"):
        store.create("someone", "superuser")


def test_an_expired_key_is_rejected(url):
    now = [utc_now()]
    store = KeyStore(url, clock=lambda: now[0])
    key, token = store.create("Claimant", "claimant", timedelta(days=30))
    now[0] += timedelta(days=29, hours=23)
    assert store.authenticate(token).key_id == key.key_id  # an hour left
    now[0] += timedelta(hours=1)
    with pytest.raises(KeyRejectedError, match=f"API key {key.key_id} expired at"):
        store.authenticate(token)
    assert [k.state(now[0]) for k in store.list_keys()] == ["expired"]


def test_an_intact_chain_verifies_and_each_kind_of_tampering_is_named(url):
    ledger = AuditLedger(url)
    ids = _fill(ledger, 6)
    report = ledger.verify()
    assert report.intact and report.records == 6 and report.head_seq == 6
    noted = (report.head_seq, report.head_hash)
    with ledger.engine.begin() as connection:
        # edited: a probability changed after the fact
        connection.execute(text('update audit_records set summary=\'{"label":"x"}\' where seq=2'))
        # deleted: record 4 removed
        connection.execute(text("delete from audit_records where seq=4"))
    problems = {(p.seq, p.what.split(":")[0]) for p in ledger.verify().problems}
    assert (2, "edited") in problems
    assert (5, "record 4 deleted") in problems
    assert ledger.get(ids[1]) is not None
    # cut off the end: only a head noted earlier can show it
    with ledger.engine.begin() as connection:
        connection.execute(text("delete from audit_records where seq=6"))
    assert any("noted earlier is gone" in p.what for p in ledger.verify(noted).problems)


def test_reordered_records_break_the_chain_where_they_were_moved(url):
    ledger = AuditLedger(url)
    _fill(ledger, 5)
    with ledger.engine.begin() as connection:
        connection.execute(text("update audit_records set seq=100 where seq=2"))
        connection.execute(text("update audit_records set seq=2 where seq=3"))
        connection.execute(text("update audit_records set seq=3 where seq=100"))
    problems = ledger.verify().problems
    assert {p.seq for p in problems} >= {2, 3, 4}
    assert all(p.seq != 1 and p.seq != 5 for p in problems)


def test_a_sealed_chain_cannot_be_rewritten_without_the_key(url):
    sealed = AuditLedger(url, hmac_key="court-secret")
    _fill(sealed, 3)
    assert sealed.verify().intact
    # Someone who can write the database recomputes every hash, but without the key.
    unsealed = AuditLedger(url)
    report = unsealed.verify()
    assert not report.intact and "every record fails" in report.problems[-1].what
    assert not AuditLedger(url, hmac_key="a guess").verify().intact


def test_concurrent_writers_keep_one_unbroken_chain(url):
    ledger = AuditLedger(url)
    second_process_view = AuditLedger(url)  # its own lock: as another worker would be

    def write(target: AuditLedger) -> None:
        _fill(target, 25)

    threads = [threading.Thread(target=write, args=(t,)) for t in (ledger, second_process_view)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = ledger.verify()
    assert report.intact and report.records == 50


def test_the_json_lines_log_is_moved_into_the_chain_once_and_nothing_is_lost(url, tmp_path):
    legacy = tmp_path / "audit" / "predictions.jsonl"
    legacy.parent.mkdir()
    old = [
        {
            "ts": "2026-11-01T10:00:00Z",
            "request_id": f"req-{i}",
            "dataset": "echr",
            "model": "casecast-echr-violation",
            "model_version": "1",
            "label": "violation",
            "probability": 0.7,
            "articles": ["6"],
            "text_sha256": "ab" * 32,
            "text_chars": 900 + i,
            "fields": {"respondent": "TUR"},
        }
        for i in range(3)
    ]
    legacy.write_text("".join(json.dumps(e) + "\n" for e in old))
    ledger = AuditLedger(url)
    assert ledger.migrate_jsonl(legacy) == 3
    assert not legacy.exists() and legacy.with_name("predictions.jsonl.migrated").is_file()
    moved = ledger.get("req-2")
    assert moved is not None and moved.ts == "2026-11-01T10:00:00Z"
    assert moved.summary == {
        "label": "violation",
        "probability": 0.7,
        "articles": ["6"],
        "text_chars": 902,
        "fields": {"respondent": "TUR"},
    }
    assert (moved.model_version, moved.input_sha256) == ("1", "ab" * 32)
    # Run again over a log restored by hand: nothing is moved twice.
    legacy.write_text("".join(json.dumps(e) + "\n" for e in old))
    assert ledger.migrate_jsonl(legacy) == 0
    assert ledger.count() == 3 and ledger.verify().intact
