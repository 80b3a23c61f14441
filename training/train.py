"""`casecast train`: validate on later years, refit on all, log and register in MLflow."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from casecast.data.datasets import (
    DatasetSpec,
    get_dataset,
    load_corpus_with_report,
    reads_judges,
)
from casecast.data.schema import TEXT_COLUMN, Corpus, model_input
from casecast.models.outcome import CaseOutcomeClassifier
from casecast.models.pyfunc import article_dicts, log_outcome_model
from casecast.models.registry import (
    CHAMPION,
    ensure_experiment,
    promote,
    registered_model_name,
)
from casecast.models.run_contract import (
    CARD_ARTIFACT,
    CARD_MARKDOWN_ARTIFACT,
    DATA_FINGERPRINT_TAG,
    DATA_SOURCES_TAG,
    DATASET_TAG,
    INPUTS_TAG,
    JUDGE_FEATURES_TAG,
    READ_REPORT_ARTIFACT,
    RELIABILITY_ARTIFACT,
    REPRODUCE_ARTIFACT,
    SPEC_ARTIFACT,
    STAGE_TAG,
    TRAINING_IDS_ARTIFACT,
    VALIDATION_METRIC_PREFIX,
    VALIDATION_METRICS_ARTIFACT,
    VALIDATION_PREDICTIONS_ARTIFACT,
)
from casecast.models.settings import CasecastSettings
from casecast.training.fitting import (
    add_article_scores,
    at_estimated_mix,
    case_articles,
    embed_corpus,
    make_estimator,
    rows_where,
    temporal_split,
)
from casecast.training.metrics import (
    classification_report,
    reliability_figure,
)
from casecast.training.model_card import model_card
from casecast.training.progress import console
from casecast.training.run_record import RunArguments, run_record
from casecast.training.scored import validation_predictions
from casecast.training.versions import name_has_champion


@dataclass(frozen=True)
class TrainResult:
    model_name: str
    version: str
    run_id: str
    champion: bool
    validation: dict[str, Any]
    seconds: float  # the whole stage: validation fit, final fit, logging
    fit_seconds: float  # the registered model's own fit


def train(
    dataset: str,
    settings: CasecastSettings,
    limit_per_split: int | None = None,
    validation_from: int | None = None,
    make_champion: bool = False,
    splits: Sequence[Path] = (),
    expect_fingerprint: str | None = None,
    model_params: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Validate on later years, refit on all, log and register; champion if first or asked.

    Trains on the data set's default splits, or on ``splits`` when given; ``model_params``
    (a configuration's) over the spec's hyperparameters.
    """
    model_params = dict(model_params or {})
    started = time.perf_counter()
    spec = get_dataset(dataset)
    # The data first: a spec or an export that cannot be used leaves no trace in the store.
    corpus, read_reports = load_corpus_with_report(spec.name, settings, limit_per_split, splits)
    if expect_fingerprint is not None and corpus.fingerprint() != expect_fingerprint:
        raise ValueError(
            f"the data read now (fingerprint {corpus.fingerprint()}) is not what the run read "
            f"({expect_fingerprint}): its files changed or are elsewhere"
        )
    experiment_id = ensure_experiment(f"casecast-{spec.name}", settings)
    validation_from = validation_from or spec.validation_from
    frame = pd.DataFrame(model_input(corpus.records))
    labels = np.asarray(corpus.labels())
    earlier, later = temporal_split(corpus, validation_from)
    if not earlier.any() or not later.any():
        raise ValueError(f"no cases on one side of the temporal split at {validation_from}")
    name = registered_model_name(spec.name, spec.task)

    with mlflow.start_run(experiment_id=experiment_id, run_name=f"train-{spec.name}") as run:
        estimator = make_estimator(settings, spec, model_params)
        embed_corpus(estimator, frame)
        articles = case_articles(corpus, spec)
        console.print(f"validating on {int(later.sum())} cases from {validation_from} on")
        validator = make_estimator(settings, spec, model_params).fit(
            frame[earlier], labels[earlier], articles=rows_where(articles, earlier)
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
                               rows_where(articles, later) or [])  # fmt: skip
        mlflow.log_dict(
            validation_predictions(spec, corpus.subset(later), validator, details,
                                   rows_where(articles, later)),
            VALIDATION_PREDICTIONS_ARTIFACT,
        )  # fmt: skip
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
                          RELIABILITY_ARTIFACT, validator)  # fmt: skip
        mlflow.log_text(card.markdown, CARD_MARKDOWN_ARTIFACT)
        # Ids only (no text): lets `evaluate` tell when a split overlaps the training data.
        mlflow.log_text("\n".join(r.case_id for r in corpus.records), TRAINING_IDS_ARTIFACT)
        # What was read, and how: the spec as written and the account of every row.
        mlflow.log_text(spec.text or spec.path.read_text(encoding="utf-8"), SPEC_ARTIFACT)
        mlflow.log_dict({"files": [r.as_dict() for r in read_reports]}, READ_REPORT_ARTIFACT)
        arguments = RunArguments(spec.name, str(spec.path), limit_per_split, validation_from,
                                 tuple(str(p) for p in splits), model_params)  # fmt: skip
        mlflow.log_dict(run_record(spec, settings, arguments), REPRODUCE_ARTIFACT)
        mlflow.log_dict(card.card.model_dump(mode="json"), CARD_ARTIFACT)
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

    champion = not name_has_champion(name)
    if make_champion and not champion:
        champion = _passes_gates(spec, name, version)
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


def summary(result: TrainResult) -> str:
    """The one line a training ends with."""
    v = result.validation
    auc = "n/a (one class)" if v["roc_auc"] is None else f"{v['roc_auc']:.3f}"
    return (
        f"registered {result.model_name} v{result.version}"
        f"{' @champion' if result.champion else ''} in {result.seconds:.0f}s "
        f"(final fit {result.fit_seconds:.0f}s); validation "
        f"macro-F1 {v['macro_f1']:.3f} (majority {v['majority_macro_f1']:.3f}), "
        f"ROC-AUC {auc}, ECE {v['ece']:.3f} (calibrated would show "
        f"{v['ece_if_calibrated']:.3f}) on {v['n']} cases"
        + (
            f"; violated articles micro-F1 {v['article_micro_f1']:.3f}"
            if "article_micro_f1" in v
            else ""
        )
    )


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
        embedding_model=estimator.embedder_.model,
        embedding_backend=estimator.embedder_.backend_,
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
            STAGE_TAG: "train",
            DATASET_TAG: spec.name,
            DATA_FINGERPRINT_TAG: corpus.fingerprint(),
            DATA_SOURCES_TAG: ";".join(corpus.sources),
            INPUTS_TAG: "text," + ",".join([*estimator.categorical, *estimator.numeric]),
            JUDGE_FEATURES_TAG: str(reads_judges(spec, settings)).lower(),
        }
    )
    mlflow.log_metrics(
        {
            f"{VALIDATION_METRIC_PREFIX}{k}": v
            for k, v in validation.items()
            if isinstance(v, float | int) and not isinstance(v, bool)
        }
    )
    mlflow.log_dict(validation, VALIDATION_METRICS_ARTIFACT)
    mlflow.log_figure(
        reliability_figure(
            val_labels,
            val_proba,
            list(estimator.classes_),
            spec.positive_class,
            f"temporal validation ({validation_from}+)",
        ),
        RELIABILITY_ARTIFACT,
    )


def _example_inputs(frame: pd.DataFrame) -> dict[str, Any]:
    """Typical structured inputs for the logged example (the most common value of each)."""
    example: dict[str, Any] = {}
    for column in frame.columns.drop(TEXT_COLUMN):
        mode = frame[column].dropna().mode()
        value = mode.iloc[0] if len(mode) else None
        example[column] = value.item() if isinstance(value, np.generic) else value
    return example


def _passes_gates(spec: DatasetSpec, name: str, version: str) -> bool:
    """`train --promote`: the new version becomes champion only through the gates."""
    from casecast.training.compare import resolve_ref
    from casecast.training.gates import failed_gates

    failed, _ = failed_gates(spec, resolve_ref(name, CHAMPION), resolve_ref(name, version))
    for line in failed:
        console.print(f"[red]{line}[/red]", highlight=False)
    if failed:
        console.print(
            f"v{version} registered, not champion: `casecast promote --force` to override"
        )
    return not failed
