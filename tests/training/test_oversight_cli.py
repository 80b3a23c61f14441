"""`casecast keys` and `casecast audit` over the database the server writes."""

import json

from sqlalchemy import text
from typer.testing import CliRunner

from casecast.models.oversight import AuditEntry, AuditLedger, KeyStore
from casecast.training.cli import app


def _run(*args: str, home) -> object:
    result = CliRunner().invoke(app, list(args), env={"CASECAST_HOME": str(home)})
    return result


def test_keys_are_created_listed_and_revoked(tmp_path):
    created = _run("keys", "create", "--name", "Clerk Dana", "--role", "judge", home=tmp_path)
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    store = KeyStore(f"sqlite:///{tmp_path / 'oversight.db'}")
    key = store.authenticate(token)
    assert key.role == "judge" and key.name == "Clerk Dana"
    listed = _run("keys", "list", home=tmp_path)
    assert key.key_id in listed.output and "active" in listed.output
    assert token.split(".")[1] not in listed.output
    revoked = _run("keys", "revoke", key.key_id, home=tmp_path)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "revoked" in _run("keys", "list", home=tmp_path).output
    assert _run("keys", "revoke", key.key_id, home=tmp_path).exit_code == 2
    bad = _run("keys", "create", "--name", "x", "--role", "root", home=tmp_path)
    assert bad.exit_code == 2 and "unknown role" in bad.output
    expiring = _run(
        "keys", "create", "--name", "Auditor", "--role", "claimant", "--expires-days", "30",
        home=tmp_path,
    )  # fmt: skip
    assert expiring.exit_code == 0 and "expires at" in expiring.output


def test_audit_verify_names_the_tampered_record_and_export_writes_every_record(tmp_path):
    ledger = AuditLedger(f"sqlite:///{tmp_path / 'oversight.db'}")
    for i in range(4):
        ledger.append(AuditEntry(kind="search", summary={"results": [f"001-{i}"]}))
    verified = _run("audit", "verify", home=tmp_path)
    assert verified.exit_code == 0 and "4 records, chain intact" in verified.output
    head = verified.output.split("head: ")[1].split()[0]
    exported = tmp_path / "export.jsonl"
    assert _run("audit", "export", "--out", str(exported), home=tmp_path).exit_code == 0
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4]
    assert lines[-1]["hash"] == head.split(":")[1]
    with ledger.engine.begin() as connection:
        connection.execute(text("update audit_records set summary='{}' where seq=3"))
    broken = _run("audit", "verify", home=tmp_path)
    assert broken.exit_code == 1 and "record 3" in broken.output and "edited" in broken.output
    with ledger.engine.begin() as connection:
        connection.execute(text("delete from audit_records where seq >= 3"))
    cut = _run("audit", "verify", "--expect", head, home=tmp_path)
    assert cut.exit_code == 1 and "record 4 noted earlier is gone" in cut.output


def test_audit_migrate_moves_the_old_log(tmp_path):
    legacy = tmp_path / "audit" / "predictions.jsonl"
    legacy.parent.mkdir()
    legacy.write_text(json.dumps({"request_id": "r1", "label": "violation"}) + "\n")
    moved = _run("audit", "migrate", home=tmp_path)
    assert moved.exit_code == 0 and "moved 1 records" in moved.output
    assert AuditLedger(f"sqlite:///{tmp_path / 'oversight.db'}").get("r1") is not None
