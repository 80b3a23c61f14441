"""`casecast keys ...` and `casecast audit ...`: API keys and the audit log, for the people
who run the service and those who oversee it (the same database the server uses)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from casecast.models.oversight import ROLES, AuditLedger, KeyStore
from casecast.models.settings import CasecastSettings
from casecast.training.progress import console

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
audit_app = typer.Typer(help="Verify and export the audit log.", no_args_is_help=True)


def _settings(ctx: typer.Context) -> CasecastSettings:
    return ctx.find_root().obj


def _ledger(ctx: typer.Context) -> AuditLedger:
    settings = _settings(ctx)
    key = settings.audit_hmac_key
    return AuditLedger(settings.resolved_oversight_url, key.get_secret_value() if key else None)


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="whose key: a person or a system")],
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(ROLES)}")],
    expires_days: Annotated[
        float | None, typer.Option(help="days until it stops working (default: never)")
    ] = None,
) -> None:
    """Create a key; its secret is printed once (only a hash of it is stored)."""
    store = KeyStore(_settings(ctx).resolved_oversight_url)
    expiry = timedelta(days=expires_days) if expires_days is not None else None
    try:
        key, token = store.create(name, role, expiry)
    except ValueError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=2) from None
    console.print(f"created key {key.key_id} ({key.role}) for {key.name}")
    if key.expires_at:
        console.print(f"expires at {key.expires_at}")
    console.print("the key (shown once; send it as Authorization: Bearer <key>):")
    # The key alone on stdout, so that scripts can capture it.
    typer.echo(token)


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """Every key with its role and state (no secrets)."""
    table = Table("key id", "name", "role", "state", "created", "expires", "revoked")
    for key in KeyStore(_settings(ctx).resolved_oversight_url).list_keys():
        table.add_row(
            key.key_id,
            key.name,
            key.role,
            key.state(),
            key.created_at,
            key.expires_at or "",
            key.revoked_at or "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument()]) -> None:
    """Revoke a key at once (it is kept, so the audit log's key ids still name someone)."""
    try:
        key = KeyStore(_settings(ctx).resolved_oversight_url).revoke(key_id)
    except (KeyError, ValueError) as error:
        console.print(f"[red]error:[/red] {error.args[0]}")
        raise typer.Exit(code=2) from None
    console.print(f"revoked key {key.key_id} ({key.role}, {key.name}) at {key.revoked_at}")


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    expect: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH of a record noted earlier (catches records cut off the end)"),
    ] = None,
) -> None:
    """Walk the hash chain; exit 1 naming every edited, deleted or moved record."""
    expected = None
    if expect is not None:
        seq, _, digest = expect.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            console.print("[red]error:[/red] --expect takes SEQ:HASH (a 64-hex-digit hash)")
            raise typer.Exit(code=2)
        expected = (int(seq), digest)
    report = _ledger(ctx).verify(expected)
    for problem in report.problems:
        where = f"record {problem.seq}" if problem.seq else "chain"
        suffix = f" ({problem.record_id})" if problem.record_id else ""
        console.print(f"[red]{where}{suffix}:[/red] {problem.what}")
    state = "intact" if report.intact else f"BROKEN ({len(report.problems)} problems)"
    console.print(f"{report.records} records, chain {state}")
    console.print(f"head: {report.head_seq}:{report.head_hash}")
    if not report.intact:
        raise typer.Exit(code=1)


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option(help="JSON-lines file; default stdout")] = None,
) -> None:
    """Every record in chain order, as JSON lines, for an overseer (re-verifiable)."""
    ledger = _ledger(ctx)
    if out is None:
        written = ledger.export(sys.stdout)
    else:
        with out.open("w", encoding="utf-8") as stream:
            written = ledger.export(stream)
    report = ledger.verify()
    console.print(
        f"exported {written} records; chain {'intact' if report.intact else 'BROKEN'}; "
        f"head {report.head_seq}:{report.head_hash}"
    )


@audit_app.command("migrate")
def audit_migrate(ctx: typer.Context) -> None:
    """Move the JSON-lines log of earlier versions into the chain (the server also does)."""
    settings = _settings(ctx)
    moved = _ledger(ctx).migrate_jsonl(settings.legacy_audit_log)
    console.print(f"moved {moved} records from {settings.legacy_audit_log}")
