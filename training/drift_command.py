"""`casecast drift`: recent cases against the training data; non-zero past the thresholds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from casecast.data.datasets import get_dataset
from casecast.models.registry import ModelNotAvailableError, ensure_experiment
from casecast.training.cli_common import DatasetOption, _fail, _settings
from casecast.training.progress import console

# A scheduler tells "drifted" (1) from "could not tell" (2, bad input or no cases).
DRIFTED_EXIT = 1


def drift(
    ctx: typer.Context,
    dataset: DatasetOption = "echr",
    since: Annotated[
        datetime | None,
        typer.Option(help="recent cases: predictions the server recorded since (default 30 days)"),
    ] = None,
    cases: Annotated[
        list[Path] | None,
        typer.Option(help="recent cases: a file of them, in the data set's format"),
    ] = None,
    years: Annotated[
        str | None, typer.Option(help="recent cases: the data set's own, e.g. 2011:2013")
    ] = None,
    reference_years: Annotated[
        str, typer.Option(help="the reference: the data set's cases of these years (:2010)")
    ] = ":",
    control: Annotated[
        bool, typer.Option(help="no-shift control: two random halves of the reference")
    ] = False,
    model_uri: Annotated[str | None, typer.Option(help="default: the champion")] = None,
    max_cases: Annotated[
        int | None, typer.Option(min=10, help="cases a side (default: the spec's drift.max_cases)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    report: Annotated[Path | None, typer.Option(help="write the HTML report here")] = None,
    log: Annotated[bool, typer.Option(help="log the report as an MLflow run")] = True,
    seed: Annotated[int, typer.Option(help="of the samples and permutations")] = 0,
) -> None:
    """Do recent cases still look like the training data? Texts' embeddings, each field,
    the predicted class rates and the estimated class mix; exits 1 past the spec's
    thresholds (`drift:`), 2 when it cannot tell."""
    from casecast.training.drift import RecentCases, measure_drift, parse_years, since_default
    from casecast.training.drift_report import html_report, log_report, rows

    settings = _settings(ctx)
    spec = get_dataset(dataset, settings)
    sources = [since is not None, bool(cases), years is not None, control]
    if sum(sources) > 1:
        _fail(ValueError("choose one of --since, --cases, --years and --control"))
    try:
        moment = since or since_default(datetime.now(UTC))
        recent = RecentCases(
            since=moment if moment.tzinfo else moment.replace(tzinfo=UTC),
            cases=tuple(cases or ()),
            years=parse_years(years) if years is not None else None,
            control=control,
        )
        measured = measure_drift(
            spec, settings, recent, parse_years(reference_years), model_uri, seed, max_cases
        )
    except (ModelNotAvailableError, ValueError, FileNotFoundError, KeyError) as error:
        _fail(error)
    if log:
        log_report(measured, ensure_experiment(f"casecast-{spec.name}", settings))
    if report is not None:
        report.write_text(html_report(measured), encoding="utf-8")
    if as_json:
        print(json.dumps(measured.as_dict(), indent=1, ensure_ascii=False))
    else:
        table = Table(
            "check",
            "figure",
            "alarms when",
            "verdict",
            title=f"{measured.current} ({measured.current_cases}) against "
            f"{measured.reference} ({measured.reference_cases})",
        )
        for row in rows(measured):
            table.add_row(*row)
        console.print(table)
        for note in measured.notes:
            console.print(f"[dim]note: {note}[/dim]")
        console.print(
            "[red]drift past the thresholds[/red]"
            if measured.alarms
            else "no drift past the thresholds"
        )
    if measured.alarms:
        raise typer.Exit(code=DRIFTED_EXIT)
