"""The audit log: every prediction, search and piece of feedback, chained by hash.

Each record's hash seals its position, its fields and the previous record's hash, so an
edited, deleted or reordered record breaks the chain where it happened, and ``verify`` says
which. A plain SHA-256 chain shows tampering by anyone who does not recompute the hashes that
follow; sealed with ``CASECAST_AUDIT_HMAC_KEY`` (HMAC-SHA256), not even someone who can write
the database can recompute them without the key. The case text itself is kept only when a
setting allows; otherwise its SHA-256 stands for it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TextIO

from sqlalchemy import Connection, Engine, func, insert, select, text

from casecast.models.oversight.database import audit_records, is_sqlite, open_database
from casecast.models.oversight.keys import iso, utc_now

Kind = Literal["prediction", "search", "feedback", "promotion"]
GENESIS = "0" * 64
# Every column but the hash goes into it, the position and the previous hash included.
HASHED = tuple(c.name for c in audit_records.columns if c.name != "hash")
LEGACY_KEY_ID = "legacy-jsonl"


def text_sha256(text_: str) -> str:
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """What a caller records; the ledger adds the position, time and hashes."""

    kind: Kind
    summary: dict[str, Any]
    record_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    key_id: str | None = None
    role: str | None = None
    endpoint: str | None = None
    dataset: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    index_version: str | None = None
    input_sha256: str | None = None
    input_text: str | None = None
    subject: str | None = None  # the record a feedback concerns
    ts: str | None = None  # now, unless migrated from an older log


@dataclass(frozen=True, kw_only=True)
class AuditRecord(AuditEntry):
    """An entry as the chain holds it: its position, time and hashes added."""

    ts: str  # always set once recorded
    seq: int
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*HASHED, "hash")}


@dataclass(frozen=True)
class Problem:
    seq: int
    record_id: str | None
    what: str


@dataclass(frozen=True)
class Verification:
    records: int
    head_seq: int
    head_hash: str
    problems: list[Problem]

    @property
    def intact(self) -> bool:
        return not self.problems


class AuditLedger:
    def __init__(self, url: str, hmac_key: str | None = None) -> None:
        self.url = url
        self._key = hmac_key.encode("utf-8") if hmac_key else None
        self._lock = threading.Lock()

    @functools.cached_property
    def engine(self) -> Engine:
        """Opened on first use: a database that cannot be opened fails the answer that
        needs a record (503), not the server's start; the next use tries again."""
        return open_database(self.url)

    # -- writing ----------------------------------------------------------------------------

    def append(self, entry: AuditEntry) -> AuditRecord:
        """Add a record at the head of the chain and return it as stored (committed)."""
        with self._lock, self.engine.begin() as connection:
            self._lock_chain(connection)
            return self._append(connection, entry)

    def _append(self, connection: Connection, entry: AuditEntry) -> AuditRecord:
        head = connection.execute(
            select(audit_records.c.seq, audit_records.c.hash)
            .order_by(audit_records.c.seq.desc())
            .limit(1)
        ).first()
        seq, prev_hash = (head.seq + 1, head.hash) if head is not None else (1, GENESIS)
        row = {
            **{f.name: getattr(entry, f.name) for f in fields(AuditEntry)},
            "seq": seq,
            "ts": entry.ts or iso(utc_now()),
            "summary": _canonical(entry.summary),
            "prev_hash": prev_hash,
        }
        row["hash"] = self._digest(row)
        connection.execute(insert(audit_records).values(**row))
        return _record(row)

    def _lock_chain(self, connection: Connection) -> None:
        # SQLite: the transaction began IMMEDIATE, so this process already holds the write
        # lock. PostgreSQL: one writer at a time reads the head and appends.
        if not is_sqlite(self.engine):
            connection.execute(text("LOCK TABLE audit_records IN SHARE ROW EXCLUSIVE MODE"))

    def _digest(self, row: dict[str, Any]) -> str:
        message = _canonical({name: row[name] for name in HASHED}).encode("utf-8")
        if self._key is not None:
            return hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return hashlib.sha256(message).hexdigest()

    # -- reading ----------------------------------------------------------------------------

    def get(self, record_id: str) -> AuditRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(audit_records).where(audit_records.c.record_id == record_id)
            ).first()
        return None if row is None else _record(row._asdict())

    def feedback_on(self, record_ids: Sequence[str]) -> dict[str, list[AuditRecord]]:
        """The feedback given on each of ``record_ids`` (empty lists for none), one query."""
        found: dict[str, list[AuditRecord]] = {record_id: [] for record_id in record_ids}
        if not found:
            return found
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(audit_records)
                .where(
                    audit_records.c.subject.in_(list(found)),
                    audit_records.c.kind == "feedback",
                )
                .order_by(audit_records.c.seq)
            ).all()
        for row in rows:
            record = _record(row._asdict())
            found[record.subject or ""].append(record)
        return found

    def records(
        self, key_id: str | None = None, kind: Kind | None = None, limit: int = 50
    ) -> list[AuditRecord]:
        """The newest records, of one key and one kind where given."""
        query = select(audit_records).order_by(audit_records.c.seq.desc()).limit(limit)
        if key_id is not None:
            query = query.where(audit_records.c.key_id == key_id)
        if kind is not None:
            query = query.where(audit_records.c.kind == kind)
        with self.engine.connect() as connection:
            return [_record(row._asdict()) for row in connection.execute(query).all()]

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(audit_records)).one()[0])

    def __iter__(self) -> Iterator[AuditRecord]:
        with self.engine.connect() as connection:
            result = connection.execution_options(yield_per=1000).execute(
                select(audit_records).order_by(audit_records.c.seq)
            )
            for row in result:
                yield _record(row._asdict())

    # -- oversight --------------------------------------------------------------------------

    def verify(self, expected_head: tuple[int, str] | None = None) -> Verification:
        """Walk the chain: every edited, deleted or moved record is a problem, by position.

        ``expected_head`` (a position and hash an overseer noted earlier, for example from an
        export) also catches records cut from the end, which a chain alone cannot show."""
        problems: list[Problem] = []
        expected_seq, prev_hash, records, hash_failures = 1, GENESIS, 0, 0
        seen: dict[int, str] = {}
        for record in self:
            records += 1
            if record.seq != expected_seq:
                missing = (
                    f"record {expected_seq}"
                    if record.seq == expected_seq + 1
                    else f"records {expected_seq}-{record.seq - 1}"
                )
                problems.append(Problem(record.seq, record.record_id, f"{missing} deleted"))
            elif record.prev_hash != prev_hash:
                problems.append(
                    Problem(
                        record.seq,
                        record.record_id,
                        "does not follow the record before it (a record was moved or replaced)",
                    )
                )
            row = record.as_dict()
            row["summary"] = _canonical(record.summary)
            if self._digest(row) != record.hash:
                hash_failures += 1
                problems.append(
                    Problem(record.seq, record.record_id, "edited: its hash does not match")
                )
            seen[record.seq] = record.hash
            expected_seq, prev_hash = record.seq + 1, record.hash
        head_seq = expected_seq - 1
        if expected_head is not None:
            seq, digest = expected_head
            if seq not in seen:
                problems.append(Problem(seq, None, f"record {seq} noted earlier is gone"))
            elif seen[seq] != digest:
                problems.append(Problem(seq, None, f"record {seq} is not the one noted earlier"))
        if records and hash_failures == records:
            problems.append(
                Problem(
                    0,
                    None,
                    "every record fails: was the chain sealed with another "
                    "CASECAST_AUDIT_HMAC_KEY (or without one)?",
                )
            )
        return Verification(records, head_seq, prev_hash, problems)

    def export(self, out: TextIO) -> int:
        """Every record as a JSON line, in chain order (an overseer can re-verify it)."""
        written = 0
        for record in self:
            out.write(json.dumps(record.as_dict(), ensure_ascii=False) + "\n")
            written += 1
        return written

    def migrate_jsonl(self, path: Path) -> int:
        """Move the JSON-lines log of earlier versions into the chain, in its order, then
        rename it ``*.migrated``; records already moved are skipped, so it can run again.
        Returns the number of records moved."""
        if not path.is_file():
            return 0
        moved = 0
        with self._lock, self.engine.begin() as connection:
            self._lock_chain(connection)
            present = set(connection.execute(select(audit_records.c.record_id)).scalars())
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                entry = _legacy_entry(json.loads(line), path, number)
                if entry.record_id in present:
                    continue
                self._append(connection, entry)
                present.add(entry.record_id)
                moved += 1
        path.rename(path.with_name(path.name + ".migrated"))
        return moved


def _legacy_entry(old: dict[str, Any], path: Path, line: int) -> AuditEntry:
    old = dict(old)
    record_id = str(old.pop("request_id", None) or f"{path.name}:{line}")
    return AuditEntry(
        kind="prediction",
        record_id=record_id,
        ts=old.pop("ts", None),
        key_id=LEGACY_KEY_ID,
        endpoint="/v1/predict",
        dataset=old.pop("dataset", None),
        model_name=old.pop("model", None),
        model_version=old.pop("model_version", None),
        input_sha256=old.pop("text_sha256", None),
        summary=old,  # label, probability, articles, text length, fields: all kept
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _record(row: dict[str, Any]) -> AuditRecord:
    values = dict(row)
    summary = values["summary"]
    values["summary"] = json.loads(summary) if isinstance(summary, str) else summary
    return AuditRecord(**values)
