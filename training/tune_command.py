"""`casecast tune`: search the outcome model's hyperparameters (``training/tune.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from casecast.data.datasets import get_dataset
from casecast.training.cli_common import DatasetOption, _fail, _settings
from casecast.training.progress import console


def tune(
    ctx: typer.Context,
    dataset: DatasetOption = "echr",
    trials: Annotated[int, typer.Option(min=1, help="trials to run now (a study resumes)")] = 20,
    metric: Annotated[
        str,
        typer.Option(help="trials maximise macro_f1, accuracy or roc_auc, or minimise brier"),
    ] = "macro_f1",
    study: Annotated[
        str | None, typer.Option(help="the study's name (default <dataset>-<metric>)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="the best configuration's file (default <home>/tuning/<study>.yaml)"),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="read only the first N cases of each split")
    ] = None,
    validation_from: Annotated[
        int | None,
        typer.Option(help="the held-out years `train` reports start here (data set default)"),
    ] = None,
    inner_from: Annotated[
        int | None,
        typer.Option(help="trials are scored on the years from this one to the validation year"),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="stop starting trials after this many seconds")
    ] = None,
    seed: Annotated[int, typer.Option(help="of the sampler")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Search the outcome model's hyperparameters with Optuna on an inner temporal
    validation (never the held-out years); write the best as a `train --config` file."""
    import optuna

    from casecast.training.tune import DIRECTIONS
    from casecast.training.tune import tune as run_tune

    if metric not in DIRECTIONS:
        _fail(ValueError(f"--metric must be one of {', '.join(DIRECTIONS)}, not {metric}"))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = _settings(ctx)
    spec = get_dataset(dataset, settings)
    try:
        result = run_tune(
            spec, settings, trials, metric, study, limit,  # type: ignore[arg-type]
            validation_from, inner_from, out, seed, timeout,
        )  # fmt: skip
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        _fail(error)
    if as_json:
        print(json.dumps(result.as_dict()))
        return
    table = Table("trial", metric, "parameters", title=f"study {result.study}: best five")
    ranked = sorted(
        (t for t in result.trials if t["value"] is not None),
        key=lambda t: t["value"],
        reverse=DIRECTIONS[metric] == "maximize",
    )
    for row in ranked[:5]:
        label = f"{row['trial']}{' (spec)' if row['baseline'] else ''}"
        shown = ", ".join(f"{k}={_short(v)}" for k, v in row["params"].items())
        table.add_row(label, f"{row['value']:.4f}", shown)
    console.print(table)
    baseline = "n/a" if result.baseline is None else f"{result.baseline:.4f}"
    console.print(
        f"{result.split.describe()}\n{metric}: best {result.best_value:.4f}, the spec's own "
        f"{baseline}; {result.trials_done} trials in the study ({result.failed_now} failed now)"
        f"\nwrote {result.config_path}: `casecast train --dataset {spec.name} --config "
        f"{result.config_path}`, then `casecast compare` it with the champion"
    )


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
