"""`casecast data ...`: find, download, validate and register data sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from casecast.data.datasets import get_dataset
from casecast.training.cli_common import _fail, _settings
from casecast.training.progress import console

data_app = typer.Typer(
    help="Find, download, validate and register data sets.", no_args_is_help=True
)


@data_app.command("fetch")
def data_fetch(
    ctx: typer.Context, dataset: Annotated[str, typer.Argument(help="data set name")]
) -> None:
    """Download a data set's public release into the data dir (in the shared format)."""
    settings = _settings(ctx)
    try:
        written = get_dataset(dataset).fetch(settings)
    except (KeyError, OSError, ValueError) as error:
        _fail(error)
    for path in written:
        console.print(f"wrote {path}")


@data_app.command("where")
def data_where(ctx: typer.Context) -> None:
    """Print the data dir in use and which data sets it holds."""
    settings = _settings(ctx)
    root = settings.resolved_data_dir()
    console.print(f"data dir: {root}")
    from casecast.data.datasets import known

    for name, path in known(settings).items():
        try:
            spec = get_dataset(name, settings)
            spec.default_splits(root)
            present = "found"
        except (KeyError, ValueError) as error:
            present = f"missing ({error})" if isinstance(error, ValueError) else "spec gone"
        console.print(f"  {name}: {present} ({path})")


@data_app.command("validate")
def data_validate(
    ctx: typer.Context,
    spec_file: Annotated[str, typer.Argument(help="a spec file, or a known data set's name")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    strict: Annotated[
        bool, typer.Option(help="exit non-zero when there are leakage suspects")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="stop after N kept rows (a first look)")
    ] = None,
) -> None:
    """Check a court's export against its spec before any training: rows read, kept and why
    not, duplicates, years, label balance, leakage suspects. Writes nothing."""
    from casecast.data.datasets import spec_path
    from casecast.data.sources import SourceError
    from casecast.data.spec import SpecError, load_spec
    from casecast.data.validate import validate
    from casecast.training.data_report import print_validation

    settings = _settings(ctx)
    try:
        path = spec_path(spec_file, settings)
        spec = load_spec(path)
        report = validate(spec, path.parent, settings.resolved_data_dir(), limit=limit)
    except (SpecError, SourceError, KeyError) as error:
        if as_json:
            print(json.dumps({"error": str(error).strip("'\"")}, ensure_ascii=False))
            raise typer.Exit(code=2) from None
        _fail(error)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        print_validation(report)
    if strict and report.suspects:
        raise typer.Exit(code=1)


@data_app.command("add")
def data_add(
    ctx: typer.Context, spec_file: Annotated[Path, typer.Argument(help="a data-set spec file")]
) -> None:
    """Register a spec: its data set is known by name from now on (`--dataset NAME`)."""
    from casecast.data.datasets import register
    from casecast.data.spec import SpecError

    try:
        spec = register(spec_file, _settings(ctx))
    except SpecError as error:
        _fail(error)
    console.print(f"registered {spec.name} ({spec.description}) from {spec.path}")


@data_app.command("prepare")
def data_prepare(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="a data set's name or a spec file")],
) -> None:
    """Write the data set's cases in canonical form (Parquet shards in the home), streaming
    the export; training reads them while the spec and the files stay the same."""
    from casecast.data.canonical import prepare
    from casecast.data.datasets import reads_judges, spec_path
    from casecast.data.sources import SourceError
    from casecast.data.spec import SpecError

    settings = _settings(ctx)
    try:
        spec = get_dataset(str(spec_path(dataset, settings)), settings)
        data_dir = settings.resolved_data_dir()
        done = prepare(spec.file, spec.text, spec.default_splits(data_dir), spec.folder,
                       data_dir, settings.home, reads_judges(spec, settings))  # fmt: skip
    except (SpecError, SourceError, KeyError, ValueError) as error:
        _fail(error)
    console.print(
        f"{done.report.summary()}\n{done.cases} cases in {done.shards} shards at {done.folder}"
    )
