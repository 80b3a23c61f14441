"""How a data set's outcome model is built and scored, shared by the train and evaluate stages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casecast.data.datasets import (
    DatasetSpec,
    model_fields,
    track_record_params,
)
from casecast.data.schema import Corpus
from casecast.features.embedding import SentenceEmbedder
from casecast.models.class_mix import MAX_MIX_ERROR
from casecast.models.outcome import CaseOutcomeClassifier
from casecast.models.settings import CasecastSettings
from casecast.training.metrics import (
    calibration_scores,
    multilabel_report,
)
from casecast.training.progress import progress_bar


def make_embedder(settings: CasecastSettings, spec: DatasetSpec) -> SentenceEmbedder:
    """The data set's encoder (or the configured one) with the shared cache."""
    return SentenceEmbedder(
        model=settings.embedding_model_for(spec.embedding_model),
        batch_size=settings.embedding_batch_size,
        cache_dir=settings.embedding_cache_dir,
        device=settings.embedding_device,
    )


def make_estimator(
    settings: CasecastSettings, spec: DatasetSpec, params: Mapping[str, Any] | None = None
) -> CaseOutcomeClassifier:
    """The outcome model for a data set: its pre-decision fields, the configured embedder,
    the spec's hyperparameters and over them ``params`` (a configuration's, a trial's)."""
    categorical, numeric = model_fields(spec, settings)
    estimator = CaseOutcomeClassifier(
        embedder=make_embedder(settings, spec),
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap=settings.chunk_overlap,
        max_chunks_per_case=settings.max_chunks_per_case,
        categorical=categorical,
        numeric=numeric,
        time_column=spec.time_field,
        language=spec.language,
        stemmer=spec.stemmer,
        allowed_outcomes=spec.allowed_outcomes or None,
        track_record=track_record_params(spec, settings),
    )
    return estimator.set_params(**{**spec.model_params, **(params or {})})


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


def rows_where(values: list[Any] | None, mask: np.ndarray) -> list[Any] | None:
    return None if values is None else [v for v, keep in zip(values, mask, strict=True) if keep]


def embed_corpus(estimator: CaseOutcomeClassifier, frame: pd.DataFrame) -> None:
    """Fill the embedding cache for every case once, with a progress bar."""
    with progress_bar("embedding passages") as (advance, set_total):
        estimator.prepare(frame, progress=advance, on_total=set_total)


def temporal_split(corpus: Corpus, validation_from: int) -> tuple[np.ndarray, np.ndarray]:
    years = np.asarray([r.decision_year or 0 for r in corpus.records])
    return years < validation_from, years >= validation_from


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


def file_stem(path: Path) -> str:
    return Path(path).name.split(".")[0]
