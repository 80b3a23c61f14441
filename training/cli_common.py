"""What every command of the CLI shares: the settings it runs with, how it fails, and the
data set it names (by name or by a spec file's path)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casecast.data.datasets import DATASETS
from casecast.models.settings import CasecastSettings
from casecast.training.progress import console


def _dataset_name(ctx: typer.Context, value: str | None) -> str | None:
    """A data set's name; a spec file's path is read (and known by its name from then on in
    this process: the commands that succeed register it in the home)."""
    from casecast.data.datasets import use_spec_file
    from casecast.data.spec import SpecError

    if value is None or not value.endswith((".yaml", ".yml")):
        return value
    try:
        spec = use_spec_file(Path(value))
    except SpecError as error:
        raise typer.BadParameter(str(error)) from None
    _GIVEN_SPECS.append(spec.path)
    return spec.name


def _dataset_names(ctx: typer.Context, values: list[str] | None) -> list[str] | None:
    """``_dataset_name`` of each value of a repeated option."""
    return None if values is None else [str(_dataset_name(ctx, value)) for value in values]


_GIVEN_SPECS: list[Path] = []


def _register_given(ctx: typer.Context) -> None:
    """Register the specs given by path, once the command using them succeeded."""
    from casecast.data.datasets import register

    for path in _GIVEN_SPECS:
        spec = register(path, _settings(ctx))
        console.print(f"[dim]{spec.name} registered: `--dataset {spec.name}` from now on[/dim]")
    _GIVEN_SPECS.clear()


def _settings(ctx: typer.Context, full: bool = False) -> CasecastSettings:
    """The settings the callback read; ``full`` embeds every passage."""
    settings: CasecastSettings = ctx.obj
    return settings.model_copy(update={"max_chunks_per_case": 0}) if full else settings


def _fail(error: Exception) -> None:
    console.print(f"[red]error:[/red] {error}")
    raise typer.Exit(code=2)


DatasetOption = Annotated[
    str,
    typer.Option(
        "--dataset",
        "-d",
        help=f"a data set's name ({', '.join(DATASETS)} or one registered), or a spec file",
        callback=_dataset_name,
    ),
]
