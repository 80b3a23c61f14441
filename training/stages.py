"""The pipeline stages: train, evaluate, index, promote. Each reads inputs, writes to MLflow."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from data.datasets import (
    DatasetSpec,
    get_dataset,
    load_corpus,
    model_fields,
    read_split,
    reads_judges,
)
from data.schema import TEXT_COLUMN, Corpus, model_input
from features.chunking import ParagraphChunker
from features.embedding import SentenceEmbedder
from models.class_mix import MAX_MIX_ERROR
from models.outcome import CaseOutcomeClassifier
from models.precedents import IndexManifest, build_index
from models.pyfunc import OutcomeModel, article_dicts, log_outcome_model
from models.registry import (
    CHAMPION,
    ModelNotAvailableError,
    ModelVersionInfo,
    alias_uri,
    ensure_experiment,
    list_versions,
    load_pyfunc,
    pair_index_with_champion,
    promote,
    registered_model_name,
    resolve_version,
    run_text,
)
from models.settings import CasecastSettings
from training.metrics import (
    calibration_scores,
    classification_report,
    multilabel_report,
    reliability_figure,
)
from training.model_card import GROUP_FIELDS, group_metrics, render_card
from training.progress import console, progress_bar

TRAINING_IDS = "training_case_ids.txt"


@dataclass(frozen=True)
class TrainResult:
    model_name: str
    version: str
    run_id: str
    champion: bool
    validation: dict[str, Any]
    seconds: float  # the whole stage: validation fit, final fit, logging
    fit_seconds: float  # the registered model's own fit


def make_embedder(settings: CasecastSettings) -> SentenceEmbedder:
    return SentenceEmbedder(
        model=settings.embedding_model,
        batch_size=settings.embedding_batch_size,
        cache_dir=settings.embedding_cache_dir,
        device=settings.embedding_device,
    )


def make_estimator(settings: CasecastSettings, spec: DatasetSpec) -> CaseOutcomeClassifier:
    """The outcome model for a data set: its pre-decision fields, the configured embedder."""
    categorical, numeric = model_fields(spec, settings)
    estimator = CaseOutcomeClassifier(
        embedder=make_embedder(settings),
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap=settings.chunk_overlap,
        max_chunks_per_case=settings.max_chunks_per_case,
        categorical=categorical,
        numeric=numeric,
        time_column=spec.time_field,
    )
    return estimator.set_params(**spec.model_params)


def case_articles(corpus: Corpus, spec: DatasetSpec) -> list[tuple[str, ...]] | None:
    """The violated articles of each case, for data sets with a per-article task."""
    return [o.violated for o in corpus.outcomes] if spec.per_article else None


def add_article_scores(
    report: dict[str, Any],
    predictions: Sequence[Sequence[dict[str, Any]]],
    labels: Sequence[str],
    truth: Sequence[Sequence[str]],
) -> None:
    """Score per-article predictions (as the model answers them) into ``report``."""
    predicted = [[a["article"] for a in row if a["predicted"]] for row in predictions]
    report["articles"] = multilabel_report(truth, predicted, list(labels))
    report["article_micro_f1"] = report["articles"]["micro_f1"]
    report["article_macro_f1"] = report["articles"]["macro_f1"]


def _rows(values: list[Any] | None, mask: np.ndarray) -> list[Any] | None:
    return None if values is None else [v for v, keep in zip(values, mask, strict=True) if keep]


def embed_corpus(estimator: CaseOutcomeClassifier, frame: pd.DataFrame) -> None:
    """Fill the embedding cache for every case once, with a progress bar."""
    with progress_bar("embedding passages") as (advance, set_total):
        estimator.prepare(frame, progress=advance, on_total=set_total)


def temporal_split(corpus: Corpus, validation_from: int) -> tuple[np.ndarray, np.ndarray]:
    years = np.asarray([r.decision_year or 0 for r in corpus.records])
    return years < validation_from, years >= validation_from


def train(
    dataset: str,
    settings: CasecastSettings,
    limit_per_split: int | None = None,
    validation_from: int | None = None,
    make_champion: bool = False,
    splits: Sequence[Path] = (),
) -> TrainResult:
    """Validate on later years, refit on all, log and register; champion if first or asked.

    Trains on the data set's default splits, or on ``splits`` when given.
    """
    started = time.perf_counter()
    spec = get_dataset(dataset)
    experiment_id = ensure_experiment(f"casecast-{spec.name}", settings)
    corpus = load_corpus(spec.name, settings, limit_per_split, splits)
    validation_from = validation_from or spec.validation_from
    frame = pd.DataFrame(model_input(corpus.records))
    labels = np.asarray(corpus.labels())
    earlier, later = temporal_split(corpus, validation_from)
    if not earlier.any() or not later.any():
        raise ValueError(f"no cases on one side of the temporal split at {validation_from}")
    name = registered_model_name(spec.name, spec.task)

    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{spec.name}") as run:
        estimator = make_estimator(settings, spec)
        embed_corpus(estimator, frame)
        articles = case_articles(corpus, spec)
        console.print(f"validating on {int(later.sum())} cases from {validation_from} on")
        validator = make_estimator(settings, spec).fit(
            frame[earlier], labels[earlier], articles=_rows(articles, earlier)
        )
        details = validator.predict_details(frame[later])
        val_proba = details.probabilities
        validation = classification_report(
            labels[later], val_proba, list(validator.classes_), spec.positive_class
        )
        validation.update(
            at_estimated_mix(validator, labels[later], val_proba, spec.positive_class)
        )
        if details.articles is not None:
            add_article_scores(validation, article_dicts(details.articles),
                               validator.article_labels,
                               _rows(articles, later) or [])  # fmt: skip
        console.print("refitting on all cases")
        fit_started = time.perf_counter()
        estimator.fit(frame, labels, articles=articles)
        fit_seconds = time.perf_counter() - fit_started
        _log_training_run(
            spec,
            settings,
            corpus,
            estimator,
            validation,
            earlier,
            later,
            validation_from,
            labels[later],
            val_proba,
        )
        held_out = corpus.subset(later)
        card = model_card(spec, f"{name} — temporal validation ({validation_from}+)",
                          held_out, val_proba, list(validator.classes_), validation,
                          "validation/reliability.png", validator)  # fmt: skip
        mlflow.log_text(card["markdown"], "model_card.md")
        # Ids only (no text): lets `evaluate` tell when a split overlaps the training data.
        mlflow.log_text("\n".join(r.case_id for r in corpus.records), TRAINING_IDS)
        mlflow.log_dict(card["json"], "model_card.json")
        info = log_outcome_model(
            estimator,
            name="model",
            registered_model_name=name,
            example_inputs=_example_inputs(frame),
        )
        version = str(info.registered_model_version)
        mlflow.log_metrics(
            {"train_seconds": time.perf_counter() - started, "fit_seconds": fit_seconds}
        )

    champion = make_champion or not _has_champion(name)
    if champion:
        promote(name, version)
    return TrainResult(
        name,
        version,
        run.info.run_id,
        champion,
        validation,
        time.perf_counter() - started,
        fit_seconds,
    )


def evaluate(
    dataset: str,
    split: Path,
    settings: CasecastSettings,
    model_uri: str | None = None,
    limit: int | None = None,
    log_run: bool = True,
) -> dict[str, Any]:
    """Score a registered model on any split file of the data set's format."""
    spec = get_dataset(dataset)
    uri = model_uri or alias_uri(registered_model_name(spec.name, spec.task))
    model, info = load_pyfunc(uri)
    python_model: OutcomeModel = model.unwrap_python_model()
    python_model.use_embedding_cache(settings.embedding_cache_dir)
    corpus = read_split(spec, split, settings, limit)
    frame = pd.DataFrame(model_input(corpus.records))
    embed_corpus(python_model.estimator, frame)
    predicted = model.predict(frame)
    classes = [str(c) for c in python_model.estimator.classes_]
    probabilities = predicted[[f"p_{c}" for c in classes]].to_numpy()
    report = classification_report(corpus.labels(), probabilities, classes, spec.positive_class)
    report.update(at_estimated_mix(python_model.estimator, corpus.labels(), probabilities,
                                   spec.positive_class))  # fmt: skip
    articles = case_articles(corpus, spec)
    if articles is not None and "articles" in predicted:
        # The served answer's own article calls, not a second pass over the estimator.
        add_article_scores(report, [json.loads(a) for a in predicted["articles"]],
                           python_model.estimator.article_labels, articles)  # fmt: skip
    report.update(
        dataset=spec.name,
        split=str(split),
        split_fingerprint=corpus.fingerprint(),
        model_uri=uri,
        model_name=info.name,
        model_version=info.version,
    )
    figure = reliability_figure(corpus.labels(), probabilities, classes, spec.positive_class,
                                f"{info.name} v{info.version} on {Path(split).name}")  # fmt: skip
    card = model_card(spec, f"{info.name} v{info.version} on {Path(split).name}", corpus,
                      probabilities, classes, report, "reliability.png",
                      python_model.estimator)  # fmt: skip
    card_dir = settings.home / "cards" / f"{info.name}-v{info.version}-{_stem(split)}"
    card_dir.mkdir(parents=True, exist_ok=True)
    figure.savefig(card_dir / "reliability.png", dpi=120)
    (card_dir / "model_card.md").write_text(card["markdown"])
    report["model_card"] = str(card_dir / "model_card.md")
    trained_on = run_text(info.run_id, TRAINING_IDS)
    if trained_on is not None:
        overlap = len({r.case_id for r in corpus.records} & set(trained_on.split()))
        report["n_in_training_data"] = overlap
        if overlap:
            console.print(f"[yellow]warning:[/yellow] {overlap} of {len(corpus)} cases in "
                          f"{Path(split).name} were in {info.name} v{info.version}'s training "
                          "data: these figures are not a held-out estimate")  # fmt: skip
    report["groups"] = card["json"]["groups"]
    if log_run:
        experiment_id = ensure_experiment(f"casecast-{spec.name}", settings)
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"evaluate-{Path(split).name}"):
            mlflow.set_tags(
                {
                    "stage": "evaluate",
                    "model_uri": uri,
                    "model_version": info.version,
                    "split": str(split),
                    "split_fingerprint": report["split_fingerprint"],
                }
            )
            mlflow.log_metrics(
                {
                    k: v
                    for k, v in report.items()
                    if isinstance(v, float | int) and not isinstance(v, bool)
                }
            )
            mlflow.log_artifacts(str(card_dir), "model_card")
    return report


def at_estimated_mix(
    estimator: CaseOutcomeClassifier,
    y_true: Sequence[str],
    probabilities: np.ndarray,
    positive: str | None,
    max_error: float = MAX_MIX_ERROR,
) -> dict[str, Any]:
    """Calibration of the probabilities restated for the split's own class mix.

    The mix is estimated from the model's decisions alone, never the labels, as a court
    could for a batch of new cases; the decisions (macro-F1, accuracy) do not change. Where
    the estimate is too uncertain to use (a share's standard error above ``max_error``)
    only that error is reported.
    """
    estimate = estimator.estimate_class_mix(probabilities)
    if estimate is None:
        return {}
    mix, error = estimate
    if error.max() > max_error:
        return {"class_mix_error": float(error.max())}
    classes = [str(c) for c in estimator.classes_]
    restated = estimator.at_class_mix(probabilities, mix)
    scores = calibration_scores(y_true, restated, classes, positive)
    return {
        "estimated_class_mix": {
            c: round(float(share), 4) for c, share in zip(classes, mix, strict=True)
        },
        "class_mix_error": float(error.max()),
        "ece_at_estimated_mix": scores["ece"],
        "brier_at_estimated_mix": scores["brier"],
    }


def summary(result: TrainResult) -> str:
    """The one line a training ends with."""
    v = result.validation
    auc = "n/a (one class)" if v["roc_auc"] is None else f"{v['roc_auc']:.3f}"
    return (
        f"registered {result.model_name} v{result.version}"
        f"{' @champion' if result.champion else ''} in {result.seconds:.0f}s "
        f"(final fit {result.fit_seconds:.0f}s); validation "
        f"macro-F1 {v['macro_f1']:.3f} (majority {v['majority_macro_f1']:.3f}), "
        f"ROC-AUC {auc}, ECE {v['ece']:.3f} on {v['n']} cases"
        + (
            f"; violated articles micro-F1 {v['article_micro_f1']:.3f}"
            if "article_micro_f1" in v
            else ""
        )
    )


def index(
    dataset: str, settings: CasecastSettings, limit_per_split: int | None = None
) -> IndexManifest:
    """Build (or reuse) the precedent index of the data set's training splits; the champion
    built from the same data and encoder is tagged with the index version it goes with."""
    spec = get_dataset(dataset)
    corpus = load_corpus(spec.name, settings, limit_per_split)
    embedder = make_embedder(settings).fit()
    chunker = ParagraphChunker(settings.chunk_tokens, settings.chunk_overlap).fit()
    with progress_bar("indexing passages") as (advance, set_total):
        manifest = build_index(
            corpus,
            embedder,
            chunker,
            settings.max_chunks_per_case,
            settings.index_dir,
            progress=advance,
            on_total=set_total,
            language=spec.language,
        )
    directory = manifest.directory(settings.index_dir)
    experiment_id = ensure_experiment(f"casecast-{spec.name}", settings)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"index-{spec.name}") as run:
        mlflow.set_tags(
            {
                "stage": "index",
                "index_version": manifest.version,
                "data_fingerprint": manifest.data_fingerprint,
            }
        )
        mlflow.log_params(
            {
                "embedding_model_id": manifest.embedding_model_id,
                "chunk_tokens": manifest.chunk_tokens,
                "chunk_overlap": manifest.chunk_overlap,
                "max_chunks_per_case": manifest.max_chunks_per_case,
            }
        )
        mlflow.log_metrics(
            {
                "n_cases": manifest.n_cases,
                "n_chunks": manifest.n_chunks,
                "index_bytes": _folder_bytes(directory),
            }
        )
        mlflow.log_dict(asdict(manifest), "index/manifest.json")
        mlflow.log_artifacts(str(directory), "index/files")
    pair_index_with_champion(_model_name(dataset), manifest, run.info.run_id)
    return manifest


def promote_version(dataset: str, version: str) -> str | None:
    return promote(_model_name(dataset), version)


# What `casecast models` shows of each version's training run, to compare before promoting.
_VERSION_FIGURES = ("macro_f1", "accuracy", "majority_accuracy", "roc_auc", "brier", "ece")


def version_table(dataset: str) -> list[dict[str, Any]]:
    """Every registered version of a data set's model with its temporal validation figures.

    Figures compare only between versions validated from the same year on the same data
    (``validation_from`` and ``data_fingerprint`` equal); the table shows both to tell.
    """
    return [_version_row(info) for info in list_versions(_model_name(dataset))]


def version_rows(dataset: str, versions: Sequence[str]) -> list[dict[str, Any]]:
    """``version_table``'s rows for the given versions only: one registry and run read each."""
    name = _model_name(dataset)
    return [_version_row(resolve_version(f"models:/{name}/{number}")) for number in versions]


def _version_row(info: ModelVersionInfo) -> dict[str, Any]:
    validated, n_validation = (info.params.get(k) for k in ("validation_from", "n_validation"))
    return {
        "version": info.version,
        "aliases": list(info.aliases),
        "validation_from": int(validated) if validated else None,
        "n_validation": int(n_validation) if n_validation else None,
        **{key: info.metrics.get(f"val_{key}") for key in _VERSION_FIGURES},
        "data_fingerprint": info.tags.get("data_fingerprint"),
        "embedding_model_id": info.params.get("embedding_model_id"),
    }


def has_champion(dataset: str) -> bool:
    return _has_champion(_model_name(dataset))


def _model_name(dataset: str) -> str:
    """The data set's registered model name."""
    spec = get_dataset(dataset)
    return registered_model_name(spec.name, spec.task)


def _has_champion(name: str) -> bool:
    try:
        resolve_version(alias_uri(name, CHAMPION))
    except ModelNotAvailableError:
        return False
    return True


def _log_training_run(
    spec: DatasetSpec,
    settings: CasecastSettings,
    corpus: Corpus,
    estimator: CaseOutcomeClassifier,
    validation: dict[str, Any],
    earlier: np.ndarray,
    later: np.ndarray,
    validation_from: int,
    val_labels: np.ndarray,
    val_proba: np.ndarray,
) -> None:
    params = {k: v for k, v in estimator.get_params(deep=False).items() if k != "embedder"}
    params.update(
        dataset=spec.name,
        task=spec.task,
        embedding_model=settings.embedding_model,
        embedding_model_id=estimator.embedder_.model_id_,
        embedding_max_seq_length=estimator.embedder_.max_seq_length_,
        validation_from=validation_from,
        n_train_validation=int(earlier.sum()),
        n_validation=int(later.sum()),
        n_cases=len(corpus),
        n_features=len(estimator.get_feature_names_out()),
    )
    mlflow.log_params(params)
    mlflow.set_tags(
        {
            "stage": "train",
            "dataset": spec.name,
            "data_fingerprint": corpus.fingerprint(),
            "data_sources": ";".join(corpus.sources),
            "inputs": "text," + ",".join([*estimator.categorical, *estimator.numeric]),
            "judge_features": str(reads_judges(spec, settings)).lower(),
        }
    )
    mlflow.log_metrics(
        {
            f"val_{k}": v
            for k, v in validation.items()
            if isinstance(v, float | int) and not isinstance(v, bool)
        }
    )
    mlflow.log_dict(validation, "validation/metrics.json")
    mlflow.log_figure(
        reliability_figure(
            val_labels,
            val_proba,
            list(estimator.classes_),
            spec.positive_class,
            f"temporal validation ({validation_from}+)",
        ),
        "validation/reliability.png",
    )


def model_card(
    spec: DatasetSpec,
    title: str,
    corpus: Corpus,
    probabilities: np.ndarray,
    classes: list[str],
    report: dict[str, Any],
    reliability_png: str,
    estimator: CaseOutcomeClassifier,
) -> dict[str, Any]:
    """The card as Markdown and as JSON (what `/v1/model` serves)."""
    judge_read = bool(spec.judge_field and spec.judge_field in estimator.categorical)
    groups = group_metrics(
        spec.name, corpus.records, corpus.labels(), probabilities, classes, spec.positive_class
    )
    about = {
        "data set": spec.description,
        "task": f"{spec.task}: {', '.join(classes)}",
        "inputs": "text, " + ", ".join([*estimator.categorical, *estimator.numeric]),
        "judge identity": "read (CASECAST_JUDGE_FEATURES opt-in)" if judge_read else "not read",
        "calibration": "none (too few cases)"
        if estimator.calibration_ is None
        else f"temperature {estimator.calibration_.temperature_:.2f} fitted on the latest "
        f"{estimator.calibration_.holdout_cases_} training cases "
        f"(from {estimator.calibration_.holdout_from_ or 'the end of the file'})",
        "cases scored": report["n"],
        "data fingerprint": corpus.fingerprint(),
    }
    keys = ("n", "macro_f1", "accuracy", "roc_auc", "brier", "ece", "majority_class",
            "majority_macro_f1", "majority_accuracy")  # fmt: skip
    scores = {k: report[k] for k in keys}
    if "articles" in report:
        scores.update(
            article_micro_f1=report["articles"]["micro_f1"],
            article_macro_f1=report["articles"]["macro_f1"],
            article_most_frequent_micro_f1=report["articles"]["most_frequent_micro_f1"],
        )
    return {
        "markdown": render_card(title, about, report, groups, reliability_png, spec.positive_class),
        "json": {
            "title": title,
            "about": about,
            "scores": scores,
            "groups": groups,
            "group_fields": GROUP_FIELDS.get(spec.name, {}),
            "positive_class": spec.positive_class,
        },
    }


def _stem(path: Path) -> str:
    return Path(path).name.split(".")[0]


def _example_inputs(frame: pd.DataFrame) -> dict[str, Any]:
    """Typical structured inputs for the logged example (the most common value of each)."""
    example: dict[str, Any] = {}
    for column in frame.columns.drop(TEXT_COLUMN):
        mode = frame[column].dropna().mode()
        value = mode.iloc[0] if len(mode) else None
        example[column] = value.item() if isinstance(value, np.generic) else value
    return example


def _folder_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
