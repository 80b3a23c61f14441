"""`casecast compare`, `casecast promote` (through the gates) and `casecast rollback`."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from casecast.data.datasets import get_dataset
from casecast.models.oversight.audit import AuditEntry
from casecast.models.registry import CHAMPION, PREVIOUS, ModelNotAvailableError
from casecast.models.settings import CasecastSettings
from casecast.training.cli_common import DatasetOption, _fail, _settings
from casecast.training.progress import console
from casecast.training.versions import model_name

if TYPE_CHECKING:
    from casecast.training.compare import VersionRef

# Tags a forced promotion leaves on the model version.
FORCED_BY_TAG, FORCED_REASON_TAG, FAILED_GATES_TAG = "forced_by", "forced_reason", "failed_gates"


def compare(
    ctx: typer.Context,
    champion: Annotated[str, typer.Argument(help="version, alias (champion) or run id")],
    challenger: Annotated[str, typer.Argument(help="version, alias or run id")],
    dataset: DatasetOption = "echr",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    report: Annotated[Path | None, typer.Option(help="write the HTML report here")] = None,
    draws: Annotated[int, typer.Option(min=100, help="bootstrap draws")] = 1000,
) -> None:
    """Two versions on the same held-out cases: each figure, the difference and its paired
    bootstrap 95% interval, overall and per group; logged on the challenger's run."""
    from casecast.training.compare import compare_versions, html_report, log_comparison, rows

    spec = get_dataset(dataset, _settings(ctx))
    try:
        name = model_name(spec.name)
        a, b = (_ref(name, v) for v in (champion, challenger))
        comparison = compare_versions(spec, a, b, draws)
    except (ModelNotAvailableError, ValueError) as error:
        _fail(error)
    log_comparison(comparison)
    if report is not None:
        report.write_text(html_report(comparison), encoding="utf-8")
    if as_json:
        print(json.dumps(comparison.as_dict(), indent=1))
        return
    table = Table(
        "metric",
        a.label,
        b.label,
        "difference",
        "95% interval",
        title=f"{spec.name}: {comparison.n_cases} held-out cases",
    )
    for row in rows(comparison):
        table.add_row(*row)
    console.print(table)
    few = [g for g in comparison.groups if not g.differences]
    for group in comparison.groups:
        d = comparison.main_difference(group)
        if d is not None:
            console.print(
                f"  {group.kind}={group.group} ({group.n}): {d.metric} "
                f"{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
            )
    console.print(
        f"{len(few)} groups with fewer than {comparison.min_group_cases} cases: too few to tell"
    )


def promote(
    ctx: typer.Context,
    version: Annotated[str, typer.Option(help="registered version to make champion")],
    dataset: DatasetOption = "echr",
    force: Annotated[bool, typer.Option(help="promote past failed gates (needs --reason)")] = False,
    reason: Annotated[str | None, typer.Option(help="why a forced promotion is right")] = None,
) -> None:
    """Make a version champion if it passes the gates against the champion (the old one
    becomes `previous`); `--force --reason` records an override."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from casecast.models.registry import promote as move_alias
    from casecast.training.gates import failed_gates
    from casecast.training.versions import promotion_summary, version_rows

    if force and not (reason and reason.strip()):
        _fail(ValueError('--force needs --reason "...": the override is recorded'))
    settings = _settings(ctx)
    spec = get_dataset(dataset, settings)
    name = model_name(spec.name)
    try:
        challenger = _ref(name, version)
        champion = _current(name)
    except ModelNotAvailableError as error:
        _fail(error)
    failed: list[str] = []
    if champion is not None and champion.version != challenger.version:
        failed, comparison = failed_gates(spec, champion, challenger)
        if comparison is not None:
            n = comparison.n_cases
            console.print(f"{challenger.label} against champion {champion.label} on {n} cases")
        for line in failed:
            console.print(f"[red]{line}[/red]", highlight=False)
        if failed and not force:
            console.print(f"{len(failed)} gate(s) failed: @champion stays {champion.label}")
            raise typer.Exit(code=1)
    try:
        old = move_alias(name, str(challenger.version))
    except MlflowException as error:
        _fail(error)
    who = getpass.getuser()
    if failed:
        client = MlflowClient()
        for key, value in (
            (FORCED_BY_TAG, who),
            (FORCED_REASON_TAG, reason or ""),
            (FAILED_GATES_TAG, json.dumps(failed)[:4900]),
        ):
            client.set_model_version_tag(name, str(challenger.version), key, value)
    _audit(
        settings,
        spec.name,
        name,
        str(challenger.version),
        "promote",
        who,
        {"previous": old, "forced": bool(failed), "reason": reason, "failed_gates": failed},
    )
    console.print(
        f"v{challenger.version} is champion"
        + (f"; v{old} is previous" if old else "")
        + (" (forced past failed gates; recorded)" if failed else "")
    )
    if old and old != str(challenger.version):
        console.print(promotion_summary(*version_rows(spec.name, [str(challenger.version), old])))


def rollback(ctx: typer.Context, dataset: DatasetOption = "echr") -> None:
    """Move `champion` back to the `previous` version (and `previous` to the one replaced);
    a running server follows within its reload interval."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    settings = _settings(ctx)
    spec = get_dataset(dataset, settings)
    name = model_name(spec.name)
    client = MlflowClient()
    try:
        previous = client.get_model_version_by_alias(name, PREVIOUS).version
        current = client.get_model_version_by_alias(name, CHAMPION).version
    except MlflowException:
        _fail(
            ValueError(
                f"{name} has no @{PREVIOUS} to roll back to (nothing was promoted over a champion)"
            )
        )
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_registered_model_alias(name, PREVIOUS, current)
    _audit(
        settings,
        spec.name,
        name,
        str(previous),
        "rollback",
        getpass.getuser(),
        {"replaced": str(current)},
    )
    console.print(f"v{previous} is champion again; v{current} is previous")


def _ref(name: str, asked: str) -> VersionRef:
    from casecast.training.compare import resolve_ref

    return resolve_ref(name, asked)


def _current(name: str) -> VersionRef | None:
    from casecast.training.compare import resolve_ref

    try:
        return resolve_ref(name, CHAMPION)
    except ModelNotAvailableError:
        return None


def _audit(
    settings: CasecastSettings,
    dataset: str,
    name: str,
    version: str,
    action: str,
    who: str,
    summary: dict[str, Any],
) -> None:
    """A promotion or rollback in the audit chain, beside the predictions it changes."""
    from casecast.models.oversight.audit import AuditLedger

    key = settings.audit_hmac_key
    ledger = AuditLedger(settings.resolved_oversight_url, key.get_secret_value() if key else None)
    ledger.append(
        AuditEntry(
            kind="promotion",
            summary={"action": action, "by": who, **summary},
            endpoint=f"cli:{action}",
            dataset=dataset,
            model_name=name,
            model_version=version,
        )
    )
