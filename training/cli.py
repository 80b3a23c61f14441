"""The `casecast` command line: data, train, tune, evaluate, index, models, compare,
promote, rollback, drift, serve, up, keys, audit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from casecast.data.datasets import get_dataset
from casecast.models.settings import CasecastSettings
from casecast.training.cli_common import (
    DatasetOption,
    _dataset_names,
    _fail,
    _register_given,
    _settings,
)
from casecast.training.data_commands import data_app
from casecast.training.drift_command import drift
from casecast.training.model_commands import compare, promote, rollback
from casecast.training.oversight import audit_app, keys_app
from casecast.training.progress import console
from casecast.training.tune_command import tune

app = typer.Typer(
    help="casecast: outcome predictions and similar precedents from past decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
for command in (compare, promote, rollback, drift, tune):
    app.command()(command)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")


LimitOption = Annotated[
    int | None, typer.Option(help="read only the first N cases of each split (quick trials, tests)")
]
FullOption = Annotated[
    bool, typer.Option("--full", help="embed every passage of every case (slow on CPU)")
]
SERVER_FACTORY = "casecast.serving.app:create_app"
# The figures `casecast models` tabulates, in its columns' order.
_TABLE_FIGURES = ("macro_f1", "accuracy", "majority_accuracy", "roc_auc", "ece")


@app.callback()
def main(ctx: typer.Context) -> None:
    """Read the settings once and point MLflow at their store, for whichever command runs."""
    from casecast.data.datasets import forget_given
    from casecast.models.registry import configure_tracking

    forget_given()  # specs given by path or recorded: this command's own
    settings = CasecastSettings()
    console.print(f"[dim]casecast home: {settings.home}[/dim]")
    configure_tracking(settings)
    ctx.obj = settings


@app.command()
def train(
    ctx: typer.Context,
    dataset: DatasetOption = "echr",
    limit: LimitOption = None,
    full: FullOption = False,
    validation_from: Annotated[
        int | None, typer.Option(help="first year of the temporal validation (data set default)")
    ] = None,
    promote: Annotated[bool, typer.Option(help="make the new version champion")] = False,
    split: Annotated[
        list[Path] | None, typer.Option(help="train on these split files instead of the defaults")
    ] = None,
    from_run: Annotated[
        str | None,
        typer.Option(help="rerun a recorded training run (its spec, arguments and settings)"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="hyperparameters over the spec's (a file `casecast tune` wrote)"),
    ] = None,
) -> None:
    """Train with a temporal validation; log and register in MLflow."""
    from casecast.training.train import summary
    from casecast.training.train import train as run_train
    from casecast.training.train_config import read_config

    if from_run is not None:
        _rerun(ctx, from_run, promote)
        return
    try:
        params = read_config(config, dataset).model_params if config else None
        result = run_train(
            dataset, _settings(ctx, full), limit, validation_from, promote, split or (),
            model_params=params,
        )  # fmt: skip
    except (FileNotFoundError, ValueError, KeyError) as error:
        _fail(error)
    console.print(summary(result))
    _register_given(ctx)


def _rerun(ctx: typer.Context, run_id: str, promote: bool) -> None:
    """Train again as the run did; say whether its validation figures came out the same."""
    from casecast.training.reproduce import rerun
    from casecast.training.train import summary

    try:
        again = rerun(run_id, _settings(ctx), promote)
    except (FileNotFoundError, ValueError, KeyError) as error:
        _fail(error)
    console.print(f"{summary(again.result)}\n{again.verdict(run_id)}")
    if again.differ:
        raise typer.Exit(code=1)


@app.command()
def evaluate(
    ctx: typer.Context,
    split: Annotated[Path, typer.Option(help="a split file in the data set's format")],
    dataset: DatasetOption = "echr",
    model_uri: Annotated[str | None, typer.Option(help="default: the champion")] = None,
    limit: LimitOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    log: Annotated[bool, typer.Option(help="log the evaluation as an MLflow run")] = True,
) -> None:
    """Score a registered model on any split file; report metrics beside the majority class."""
    from casecast.models.registry import ModelNotAvailableError
    from casecast.training.evaluate import evaluate as run_evaluate

    try:
        report = run_evaluate(dataset, split, _settings(ctx), model_uri, limit, log)
    except (FileNotFoundError, ValueError, KeyError, ModelNotAvailableError) as error:
        _fail(error)
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    for key, value in report.items():
        console.print(
            f"{key:>20}: {value:.4f}" if isinstance(value, float) else f"{key:>20}: {value}"
        )


@app.command()
def index(
    ctx: typer.Context,
    dataset: DatasetOption = "echr",
    limit: LimitOption = None,
    full: FullOption = False,
    fusion: Annotated[
        bool,
        typer.Option(
            help="fit hybrid search's ranker on earlier years' queries (else rank by RRF)"
        ),
    ] = True,
) -> None:
    """Build the precedent index (reusing cached embeddings) and make it current."""
    from casecast.training.index import index as run_index

    try:
        manifest = run_index(dataset, _settings(ctx, full), limit, fuse=fusion)
    except (FileNotFoundError, ValueError, KeyError) as error:
        _fail(error)
    ranked = f"hybrid ranked by {manifest.fusion}" if manifest.fusion else "hybrid ranked by RRF"
    console.print(
        f"index {manifest.version}: {manifest.n_cases} cases, {manifest.n_chunks} passages at "
        f"{manifest.directory(ctx.obj.index_dir)}; {ranked}"
    )
    _register_given(ctx)


@app.command("evaluate-retrieval")
def evaluate_retrieval(
    ctx: typer.Context,
    dataset: DatasetOption = "echr",
    queries_from: Annotated[
        int | None, typer.Option(help="first year of the query cases (default: latest years)")
    ] = None,
    n_queries: Annotated[int, typer.Option(help="query cases to sample")] = 200,
    limit: LimitOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    log: Annotated[bool, typer.Option(help="log the evaluation as an MLflow run")] = True,
) -> None:
    """nDCG@10 and recall@100 of semantic, keyword and hybrid search on the current index."""
    from casecast.models.precedents import IndexUnavailableError
    from casecast.training.retrieval import evaluate_retrieval as run
    from casecast.training.retrieval import report_lines

    try:
        report = run(dataset, _settings(ctx), queries_from, n_queries, limit, log)
    except (FileNotFoundError, ValueError, KeyError, IndexUnavailableError) as error:
        _fail(error)
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return
    for line in report_lines(report):
        console.print(line)


@app.command()
def models(
    dataset: DatasetOption = "echr",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON array")] = False,
) -> None:
    """Every registered version with its validation figures, to compare before promoting."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from casecast.models.registry import ModelNotAvailableError
    from casecast.training.model_card import score_text
    from casecast.training.versions import validated_alike, version_table

    try:
        rows = version_table(dataset)
    except (KeyError, ModelNotAvailableError) as error:
        _fail(error)
    if as_json:
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    # Fits 80 columns: a narrower table would truncate the figures it is for.
    table = Table("v", "aliases", "from", "n", "macro-F1", "acc.", "majority", "AUC", "ECE",
                  "data", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  collapse_padding=True)  # fmt: skip
    for row in rows:
        table.add_row(
            row["version"],
            ", ".join(row["aliases"]),
            str(row["validation_from"] or "?"),
            str(row["n_validation"] or "?"),
            *(score_text(row[key]) for key in _TABLE_FIGURES),
            (row["data_fingerprint"] or "?")[:8],
        )
    out = Console()  # the table is this command's answer: stdout, unlike progress messages
    out.print(table)
    out.print("from: first year of the validation cases; majority: accuracy of always answering "
              "the most frequent outcome; data: fingerprint of the training data")  # fmt: skip
    if not validated_alike(*rows):
        out.print("versions validated on different years or data do not compare directly")


PublicDemoOption = Annotated[
    bool,
    typer.Option(
        help="answer predictions, searches and cases without an API key (records, feedback "
        "and administration still need one)"
    ),
]


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    public_demo: PublicDemoOption = False,
    datasets: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            "-d",
            help="data set (name or spec file) to serve, repeat for several; "
            "default CASECAST_DATASETS",
            callback=_dataset_names,
        ),
    ] = None,
) -> None:
    """Serve the API and page (uvicorn, factory mode: the server loads models by URI)."""
    _register_given(ctx)  # the server process finds them by name
    run_server(_settings(ctx), host, port, public_demo, datasets)


def run_server(
    settings: CasecastSettings,
    host: str,
    port: int,
    public_demo: bool,
    datasets: list[str] | None = None,
) -> None:
    """Start the server by its import string with the settings this command resolved: the
    server reads the environment only for what the command line left unsaid."""
    import functools

    import uvicorn
    from uvicorn.importer import import_from_string

    overrides: dict[str, Any] = {**settings.model_dump(), "public_demo": public_demo}
    if datasets:
        overrides["datasets"] = datasets
    factory = functools.partial(import_from_string(SERVER_FACTORY), overrides=overrides)
    uvicorn.run(factory, factory=True, host=host, port=port, log_level="info")


@app.command()
def up(
    ctx: typer.Context,
    dataset: DatasetOption = "echr",
    full: FullOption = False,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    limit: LimitOption = None,
    public_demo: Annotated[
        bool,
        typer.Option(help="on this machine, answer the page without a key (as `serve` does)"),
    ] = True,
    background_full: Annotated[
        bool,
        typer.Option(
            help="serve the quick index first and embed every passage in the background; "
            "the full index replaces it when built"
        ),
    ] = True,
) -> None:
    """The main job: find or fetch data, train if no champion, build the index, serve."""
    from casecast.training.index import index as run_index
    from casecast.training.train import summary
    from casecast.training.train import train as run_train
    from casecast.training.versions import has_champion

    started = time.perf_counter()
    settings = _settings(ctx, full)
    spec = get_dataset(dataset)
    try:
        spec.default_splits(settings.resolved_data_dir())
    except ValueError:
        console.print(f"{dataset} data not found in {settings.resolved_data_dir()}: fetching")
        spec.fetch(settings)
    if has_champion(dataset):
        console.print(f"champion for {dataset} found: not retraining (run `casecast train`)")
    else:
        console.print(summary(run_train(dataset, settings, limit)))
    quick_first = settings.max_chunks_per_case != 0 and background_full
    # The quick index serves first; its ranker would delay it, and the full index has one.
    run_index(dataset, settings, limit, fuse=not quick_first)
    _register_given(ctx)  # a spec given by path: known by name to what runs next
    background = None
    if quick_first:
        background = _serve_full_profile(dataset, ctx, limit)
    console.print(
        f"ready in {time.perf_counter() - started:.0f}s; serving on http://{host}:{port}"
        f" (API docs at /docs)"
    )
    if not public_demo:
        console.print("API keys: `casecast keys create --name NAME --role judge`")
    try:
        run_server(settings, host, port, public_demo, [dataset])
    finally:
        if background is not None and background.poll() is None:
            background.terminate()  # the next `casecast up` resumes it from the cache
            background.wait(timeout=30)


def _serve_full_profile(
    dataset: str, ctx: typer.Context, limit: int | None
) -> subprocess.Popen[bytes] | None:
    """Serve the full profile (every passage embedded) when it is built; else start building
    it in the background: the quick index answers meanwhile, and the server swaps the full
    one in when its build makes it CURRENT."""
    from casecast.training.index import full_profile_log, full_profile_version, start_full_profile
    from casecast.training.index import index as run_index

    settings = _settings(ctx, full=True)
    version, built = full_profile_version(dataset, settings, limit)
    if built:
        run_index(dataset, settings, limit)
        console.print(f"serving the full profile's index {version}")
        return None
    child = start_full_profile(dataset, settings, limit)
    console.print(
        f"embedding every passage in the background (pid {child.pid}, progress in /health, "
        f"log {full_profile_log(settings, dataset)}); the quick index serves "
        "until it is done"
    )
    return child


if __name__ == "__main__":  # `python -m casecast.training.cli`, as the background build runs it
    app()
