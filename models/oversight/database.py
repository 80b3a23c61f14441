"""The oversight database: API keys, the audit chain and what drift monitoring observes of
each prediction, in one SQLAlchemy engine.

SQLite by default (one file in the home, written by the server and read by the CLI), any
SQLAlchemy URL where configured (PostgreSQL for a shared store). Writes to the audit chain
must be serialised across processes: SQLite transactions start with ``BEGIN IMMEDIATE`` (the
write lock is taken first, so two writers never read the same chain head), PostgreSQL ones
lock the records table.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32)),
    Column("revoked_at", String(32)),
)

audit_records = Table(
    "audit_records",
    metadata,
    # Position in the chain, from 1, assigned by the writer (not autoincrement: a gap is a
    # deleted record, and the position is part of what the hash seals).
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("record_id", String(64), nullable=False, unique=True),
    Column("ts", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("key_id", String(32)),
    Column("role", String(32)),
    Column("endpoint", String(100)),
    Column("dataset", String(32)),
    Column("model_name", String(200)),
    Column("model_version", String(32)),
    Column("index_version", String(64)),
    Column("input_sha256", String(64)),
    Column("input_text", Text),
    Column("subject", String(64)),
    Column("summary", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_key", "key_id", "seq"),
    Index("ix_audit_subject", "subject"),
)

# What drift monitoring needs of each prediction, beside its audit record (which keeps no
# case text): the fields the model read, its probabilities, and the case's text embedding
# (the mean of its embedded passages' vectors, float16, base64) — not the text.
observations = Table(
    "observations",
    metadata,
    Column("record_id", String(64), primary_key=True),
    Column("ts", String(32), nullable=False),
    Column("dataset", String(32), nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", String(32), nullable=False),
    Column("fields", Text, nullable=False),
    Column("probabilities", Text, nullable=False),
    Column("vector", Text),
    Index("ix_observations_dataset_ts", "dataset", "ts"),
)

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def open_database(url: str) -> Engine:
    """The engine for ``url`` with the tables created, one per URL per process."""
    with _ENGINES_LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = _create(url)
        return _ENGINES[url]


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True)
        metadata.create_all(engine)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so that BEGIN below is ours.
        connection.isolation_level = None
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=FULL")  # a committed record survives power loss
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    metadata.create_all(engine)
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
