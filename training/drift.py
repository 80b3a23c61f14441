"""`casecast drift`: do recent cases still look like the training data?

Recent cases are what the service recorded with each prediction (the fields the model read,
its probabilities and the text's embedding: no text), or a file of new cases, or some years
of the data set itself; the reference is the data set's own cases (all, or some years). The
champion scores both; the report compares the texts' embeddings, each structured field, the
predicted class rates and the class mix estimated from the probabilities, against the
spec's thresholds (`drift:`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from casecast.data.datasets import DatasetSpec, model_fields
from casecast.data.schema import Corpus, model_input
from casecast.data.spec import DriftRule
from casecast.models.outcome import CaseOutcomeClassifier
from casecast.models.oversight.observations import Observation
from casecast.models.settings import CasecastSettings
from casecast.training.drift_stats import (
    ClassMixShift,
    EmbeddingShift,
    FieldShift,
    RateShift,
    categorical_shift,
    class_mix_shift,
    class_rate_shift,
    mmd_test,
    numeric_shift,
)
from casecast.training.fitting import embed_corpus

REPORT_JSON = "drift/report.json"
REPORT_HTML = "drift/report.html"


@dataclass(frozen=True)
class DriftSample:
    """Cases as drift compares them: fields, the model's probabilities, text embeddings."""

    description: str
    fields: pd.DataFrame  # the model's structured inputs, one row per case
    probabilities: np.ndarray  # (cases, classes), in the model's class order
    vectors: np.ndarray | None  # (cases, dimension); None when nothing recorded one
    labels: list[str] | None = None  # known outcomes (the data set's own cases)

    def __len__(self) -> int:
        return len(self.probabilities)


@dataclass(frozen=True)
class DriftReport:
    dataset: str
    model: str
    reference: str
    current: str
    reference_cases: int
    current_cases: int
    rule: DriftRule
    embedding: EmbeddingShift | None
    fields: list[FieldShift]
    class_rates: RateShift
    class_mix: ClassMixShift | None
    alarms: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "model": self.model,
            "reference": self.reference,
            "current": self.current,
            "reference_cases": self.reference_cases,
            "current_cases": self.current_cases,
            "thresholds": self.rule.model_dump(),
            "embedding": None if self.embedding is None else self.embedding.as_dict(),
            "fields": [f.as_dict() for f in self.fields],
            "class_rates": self.class_rates.as_dict(),
            "class_mix": None if self.class_mix is None else self.class_mix.as_dict(),
            "alarms": self.alarms,
            "notes": self.notes,
            "drifted": bool(self.alarms),
        }


def parse_years(text: str) -> tuple[int | None, int | None]:
    """``2011:2013``, ``:2010``, ``2011:`` or ``2012``: the years from and to, inclusive."""
    first, sep, last = text.partition(":")
    try:
        low = int(first) if first.strip() else None
        high = (int(last) if last.strip() else None) if sep else low
    except ValueError:
        raise ValueError(f"years must read like 2011:2013, :2010 or 2012, got {text!r}") from None
    if low is not None and high is not None and low > high:
        raise ValueError(f"the years {text!r} run backwards")
    return low, high


def in_years(corpus: Corpus, years: tuple[int | None, int | None]) -> np.ndarray:
    low, high = years
    found = np.asarray([r.decision_year or 0 for r in corpus.records])
    return (found >= (low or -math.inf)) & (found <= (high or math.inf))


def describe_years(years: tuple[int | None, int | None]) -> str:
    low, high = years
    if low is None and high is None:
        return "all years"
    if low == high:
        return f"{low}"
    return f"{low or '…'}–{high or '…'}"


def corpus_sample(
    estimator: CaseOutcomeClassifier,
    corpus: Corpus,
    description: str,
    max_cases: int,
    seed: int,
) -> DriftSample:
    """At most ``max_cases`` of the corpus (drawn at random), scored by the model."""
    if len(corpus) > max_cases:
        picks = np.sort(np.random.default_rng(seed).choice(len(corpus), max_cases, replace=False))
        corpus = corpus.subset(picks.tolist())
    frame = pd.DataFrame(model_input(corpus.records))
    embed_corpus(estimator, frame)
    details = estimator.predict_details(frame, vectors=True)
    return DriftSample(description, frame, details.probabilities, details.vectors, corpus.labels())


def observed_sample(
    observations: Sequence[Observation], classes: Sequence[str], description: str
) -> tuple[DriftSample, list[str]]:
    """What the service recorded, as a sample; notes on what could not be compared."""
    notes = []
    probabilities = np.asarray(
        [[o.probabilities.get(c, 0.0) for c in classes] for o in observations], dtype=float
    )
    versions = sorted({o.model_version for o in observations}, key=lambda v: (len(v), v))
    if len(versions) > 1:
        notes.append(f"the recent predictions come from versions {', '.join(versions)}")
    vectors = [o.vector for o in observations if o.vector is not None]
    dimensions = {len(v) for v in vectors}
    stacked = None
    if len(vectors) >= 2 and len(dimensions) == 1:
        stacked = np.vstack(vectors)
    elif vectors:
        notes.append("the recorded text embeddings differ in size (encoders changed): not compared")
    if len(vectors) < len(observations):
        notes.append(
            f"{len(observations) - len(vectors)} recorded prediction(s) carry no embedding"
        )
    frame = pd.DataFrame([o.fields for o in observations])
    return DriftSample(description, frame, probabilities, stacked), notes


def random_halves(sample: DriftSample, seed: int) -> tuple[DriftSample, DriftSample]:
    """The no-shift control: one sample cut into two random halves."""
    order = np.random.default_rng(seed).permutation(len(sample))
    halves = []
    for name, rows in (("first", order[: len(order) // 2]), ("second", order[len(order) // 2 :])):
        halves.append(
            DriftSample(
                f"{sample.description}, {name} random half",
                sample.fields.iloc[rows].reset_index(drop=True),
                sample.probabilities[rows],
                None if sample.vectors is None else sample.vectors[rows],
                None if sample.labels is None else [sample.labels[i] for i in rows],
            )
        )
    return halves[0], halves[1]


def detect_drift(
    spec: DatasetSpec,
    settings: CasecastSettings,
    estimator: CaseOutcomeClassifier,
    model: str,
    reference: DriftSample,
    current: DriftSample,
    notes: Sequence[str] = (),
    seed: int = 0,
    rule: DriftRule | None = None,
) -> DriftReport:
    """Every comparison, and the alarms the thresholds (default: the spec's) raise."""
    rule = rule or spec.file.drift
    if len(current) < rule.min_cases:
        raise ValueError(
            f"{current.description}: {len(current)} case(s), fewer than the {rule.min_cases} "
            f"a verdict needs (drift.min_cases in the {spec.name} spec)"
        )
    if len(reference) < rule.min_cases:
        raise ValueError(f"{reference.description}: only {len(reference)} case(s)")
    notes = list(notes)
    classes = [str(c) for c in estimator.classes_]
    alarms: list[str] = []

    embedding = None
    if reference.vectors is not None and current.vectors is not None:
        if reference.vectors.shape[1] == current.vectors.shape[1]:
            ref_v, cur_v = (
                _at_most(v, rule.max_cases, seed) for v in (reference.vectors, current.vectors)
            )
            embedding = mmd_test(ref_v, cur_v, rule.permutations, seed)
            if embedding.p_value < rule.p_value:
                alarms.append(
                    f"text embeddings shifted: MMD² {embedding.mmd2:.4f}, "
                    f"permutation p {embedding.p_value:.4f} < {rule.p_value}"
                )
        else:
            notes.append("the model's encoder differs from the recorded embeddings': not compared")
    else:
        notes.append("no text embeddings on one side: the texts were not compared")

    categorical, numeric = model_fields(spec, settings)
    shifts = []
    for name in [*categorical, *numeric]:
        if name == spec.time_field:
            continue  # time always moves on: not drift
        ref_values = _column(reference.fields, name)
        cur_values = _column(current.fields, name)
        test = categorical_shift if name in categorical else numeric_shift
        shifts.append(test(name, ref_values, cur_values))
    field_p = rule.p_value / max(len(shifts), 1)  # Bonferroni over the fields
    for s in shifts:
        if s.p_value < field_p and s.effect >= rule.field_effect:
            alarms.append(
                f"field {s.field} shifted: {s.effect_name} {s.effect:.3f} ≥ "
                f"{rule.field_effect}, {s.test} p {s.p_value:.2g} < {field_p:.2g}"
            )

    rates = class_rate_shift(classes, reference.probabilities, current.probabilities)
    if rates.total_variation >= rule.class_rate and rates.p_value < rule.p_value:
        alarms.append(
            f"predicted class rates moved: total variation {rates.total_variation:.3f}"
            f" ≥ {rule.class_rate}, p {rates.p_value:.2g}"
        )

    mix = class_mix_shift(
        estimator, classes, reference.probabilities, current.probabilities, reference.labels
    )
    if mix is None:
        notes.append("the model has no calibration hold-out: no class mix estimate")
    elif mix.shift > rule.class_mix:
        alarms.append(
            f"estimated class mix moved by {mix.shift:.3f} beyond two standard "
            f"errors (> {rule.class_mix})"
        )
    return DriftReport(
        spec.name,
        model,
        reference.description,
        current.description,
        len(reference),
        len(current),
        rule,
        embedding,
        shifts,
        rates,
        mix,
        alarms,
        notes,
    )


def _at_most(vectors: np.ndarray, limit: int, seed: int) -> np.ndarray:
    if len(vectors) <= limit:
        return vectors
    return vectors[np.sort(np.random.default_rng(seed).choice(len(vectors), limit, replace=False))]


def _column(frame: pd.DataFrame, name: str) -> list[object]:
    return frame[name].tolist() if name in frame else [None] * len(frame)


def since_default(now: datetime, days: int = 30) -> datetime:
    from datetime import timedelta

    return now - timedelta(days=days)


@dataclass(frozen=True)
class RecentCases:
    """Which cases are the recent ones: exactly one of these (or the recorded predictions
    since ``since``)."""

    since: datetime | None = None  # predictions the service recorded from then on
    cases: Sequence[Any] = ()  # files of new cases, in the data set's format
    years: tuple[int | None, int | None] | None = None  # the data set's own cases
    control: bool = False  # two random halves of the reference: must not alarm


def measure_drift(
    spec: DatasetSpec,
    settings: CasecastSettings,
    recent: RecentCases,
    reference_years: tuple[int | None, int | None] = (None, None),
    model_uri: str | None = None,
    seed: int = 0,
    max_cases: int | None = None,
) -> DriftReport:
    """Load the model and the cases, score both sides and compare them (at most
    ``max_cases`` a side, default the spec's)."""
    from casecast.data.datasets import load_corpus_with_report
    from casecast.models.oversight.observations import ObservationStore
    from casecast.models.pyfunc import OutcomeModel
    from casecast.models.registry import alias_uri, load_pyfunc, registered_model_name

    uri = model_uri or alias_uri(registered_model_name(spec.name, spec.task))
    model, info = load_pyfunc(uri)
    python_model: OutcomeModel = model.unwrap_python_model()
    python_model.use_embedding_cache(settings.embedding_cache_dir)
    estimator = python_model.estimator
    label = f"{info.name} v{info.version}"
    rule = spec.file.drift
    if max_cases is not None:
        rule = rule.model_copy(update={"max_cases": max_cases})

    observed: list[Observation] = []
    if recent.since is not None and not (recent.cases or recent.years or recent.control):
        observed = ObservationStore(settings.resolved_oversight_url).since(spec.name, recent.since)
        observed = [o for o in observed if o.model_name == info.name]
        if not observed:
            raise ValueError(
                f"no prediction of {info.name} recorded since {recent.since:%Y-%m-%d %H:%M} "
                "(the server records them unless CASECAST_OBSERVE_PREDICTIONS is off): "
                "choose an earlier --since, or give --cases"
            )
    corpus, _ = load_corpus_with_report(spec.name, settings)
    reference_corpus = corpus.subset(in_years(corpus, reference_years).tolist())
    reference_text = f"{spec.name} cases, {describe_years(reference_years)}"
    if not len(reference_corpus):
        raise ValueError(f"no {spec.name} case in {describe_years(reference_years)}")
    notes: list[str] = []
    if recent.control:
        whole = corpus_sample(estimator, reference_corpus, reference_text, 2 * rule.max_cases, seed)
        reference, current = random_halves(whole, seed)
    else:
        reference = corpus_sample(estimator, reference_corpus, reference_text, rule.max_cases, seed)
        if observed:
            current, notes = observed_sample(
                observed,
                [str(c) for c in estimator.classes_],
                f"predictions recorded since {recent.since:%Y-%m-%d}",
            )
        elif recent.cases:
            new, _ = load_corpus_with_report(spec.name, settings, None, recent.cases)
            names = ", ".join(str(p) for p in recent.cases)
            current = corpus_sample(estimator, new, f"cases in {names}", rule.max_cases, seed)
        elif recent.years is not None:
            chosen = corpus.subset(in_years(corpus, recent.years).tolist())
            current = corpus_sample(
                estimator,
                chosen,
                f"{spec.name} cases, {describe_years(recent.years)}",
                rule.max_cases,
                seed,
            )
        else:
            raise ValueError("say which cases are recent: --since, --cases, --years or --control")
    return detect_drift(spec, settings, estimator, label, reference, current, notes, seed, rule)
