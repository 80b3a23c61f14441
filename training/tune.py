"""`casecast tune`: the outcome model's hyperparameters searched with Optuna.

Only the cases before the data set's validation year are read: each trial fits on the
earlier of them and is scored on their latest years (the inner validation), so the years
that `train` reports as held out never steer the search. The first trial is the spec's own
configuration, the baseline every other is measured against. Every trial is a nested
MLflow run under one tuning run; the study lives in the home (resumable: the same study
name goes on where it stopped). The best configuration is written as a file that
`casecast train --config` reads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import mlflow
import numpy as np
import optuna
import pandas as pd
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

from casecast.data.datasets import DatasetSpec, load_corpus_with_report
from casecast.data.schema import Corpus, model_input
from casecast.models.registry import ensure_experiment
from casecast.models.run_contract import DATA_FINGERPRINT_TAG, DATASET_TAG, STAGE_TAG
from casecast.models.settings import CasecastSettings
from casecast.training.fitting import embed_corpus, make_estimator, temporal_split
from casecast.training.metrics import classification_report
from casecast.training.progress import console, progress_bar
from casecast.training.train_config import TrainConfig, write_config

Metric = Literal["macro_f1", "accuracy", "roc_auc", "brier"]
DIRECTIONS: dict[str, Literal["maximize", "minimize"]] = {
    "macro_f1": "maximize", "accuracy": "maximize", "roc_auc": "maximize", "brier": "minimize",
}  # fmt: skip
# The share of the tuning cases (the latest years) that the inner validation scores.
INNER_SHARE = 0.2
STUDY_TAG, TRIAL_TAG = "optuna_study", "optuna_trial"
TUNING_FOLDER = "tuning"

# The hyperparameters searched: each base learner's and the meta learner's penalty, the
# trees' size, class balancing. What decides the embedding (chunking, the encoder) is a
# setting, not searched: every trial reads the same cached passages.
SEARCH_SPACE: dict[str, BaseDistribution] = {
    "text_C": FloatDistribution(0.25, 32.0, log=True),
    "paragraph_C": FloatDistribution(0.1, 10.0, log=True),
    "embedding_C": FloatDistribution(1e-3, 1.0, log=True),
    "char_C": FloatDistribution(0.25, 32.0, log=True),
    "meta_C": FloatDistribution(0.01, 10.0, log=True),
    "tree_estimators": IntDistribution(100, 600, step=50),
    "class_weight": CategoricalDistribution(["balanced", None]),
}
# A learner the configuration switches off (its size 0) makes its own penalty moot.
_SWITCHED_OFF_BY = {"char_C": "char_features", "tree_estimators": "tree_features"}


def search_space(base: Mapping[str, Any]) -> dict[str, BaseDistribution]:
    """``SEARCH_SPACE`` less what ``base`` (the spec's hyperparameters) switches off."""
    return {
        name: distribution
        for name, distribution in SEARCH_SPACE.items()
        if base.get(_SWITCHED_OFF_BY.get(name, ""), 1) != 0
    }


@dataclass(frozen=True)
class InnerSplit:
    """The tuning cases (before ``validation_from``) cut at ``inner_from``."""

    validation_from: int
    inner_from: int
    fit: np.ndarray  # masks over the tuning cases
    score: np.ndarray

    @property
    def scored_years(self) -> str:
        last = self.validation_from - 1
        return str(last) if last == self.inner_from else f"{self.inner_from}–{last}"

    def describe(self) -> str:
        return (
            f"fit on {int(self.fit.sum())} cases before {self.inner_from}, scored on "
            f"{int(self.score.sum())} of {self.scored_years} "
            f"(the years from {self.validation_from} stay held out)"
        )


def tuning_cases(corpus: Corpus, validation_from: int) -> Corpus:
    """The cases tuning may read: those decided before the validation year, nothing later."""
    earlier, _ = temporal_split(corpus, validation_from)
    if not earlier.any():
        raise ValueError(f"no cases before {validation_from} to tune on")
    return corpus.subset(earlier)


def inner_split(
    years: np.ndarray, validation_from: int, inner_from: int | None = None
) -> InnerSplit:
    """Cut the tuning cases' years; by default where the latest ``INNER_SHARE`` begins."""
    candidates = sorted(set(years.tolist()) - {min(years.tolist())})
    if not candidates:
        raise ValueError(
            f"the cases before {validation_from} are all of one year: no inner validation "
            "to tune on (give more cases, or an earlier --validation-from)"
        )
    if inner_from is None:
        inner_from = min(candidates, key=lambda y: abs(float((years >= y).mean()) - INNER_SHARE))
    elif not min(years.tolist()) < inner_from < validation_from:
        raise ValueError(
            f"--inner-from {inner_from} must be after the first tuning year "
            f"({min(years.tolist())}) and before the validation year ({validation_from})"
        )
    return InnerSplit(validation_from, inner_from, years < inner_from, years >= inner_from)


@dataclass
class TuneResult:
    study: str
    metric: str
    split: InnerSplit
    baseline: float | None  # the spec's own configuration (trial 0)
    best_value: float
    best_params: dict[str, Any]
    trials_done: int  # in the study, all calls together
    trials_now: int  # in this call
    failed_now: int
    config_path: Path
    run_id: str
    seconds: float
    trials: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "metric": self.metric,
            "inner_from": self.split.inner_from,
            "validation_from": self.split.validation_from,
            "n_fit": int(self.split.fit.sum()),
            "n_score": int(self.split.score.sum()),
            "baseline": self.baseline,
            "best_value": self.best_value,
            "best_params": self.best_params,
            "trials_done": self.trials_done,
            "trials_now": self.trials_now,
            "failed_now": self.failed_now,
            "config": str(self.config_path),
            "run_id": self.run_id,
            "seconds": round(self.seconds, 1),
            "trials": self.trials,
        }


def storage_url(settings: CasecastSettings) -> str:
    folder = settings.home / TUNING_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'optuna.db').resolve()}"


def open_study(
    name: str, settings: CasecastSettings, metric: str, identity: dict[str, Any], seed: int
) -> optuna.Study:
    """The study of that name in the home (created, or resumed when it tuned the same
    thing: same data, split, metric and space); ``ValueError`` when it tuned another."""
    storage = storage_url(settings)
    known = {s.study_name: s for s in optuna.get_all_study_summaries(storage)}
    if name in known:
        recorded = known[name].user_attrs
        differ = sorted(k for k in identity if recorded.get(k) != identity[k])
        if differ:
            shown = ", ".join(f"{k}: {recorded.get(k)!r} then, {identity[k]!r} now" for k in differ)
            raise ValueError(
                f"study {name} tuned something else ({shown}): name a new one with --study"
            )
    # Seeded by how far the study got, so a resumed study does not replay its first trials.
    done = known[name].n_trials if name in known else 0
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction=DIRECTIONS[metric],
        sampler=optuna.samplers.TPESampler(seed=seed + done),
        load_if_exists=True,
    )
    for key, value in identity.items():
        study.set_user_attr(key, value)
    return study


def tune(
    spec: DatasetSpec,
    settings: CasecastSettings,
    trials: int,
    metric: Metric = "macro_f1",
    study_name: str | None = None,
    limit_per_split: int | None = None,
    validation_from: int | None = None,
    inner_from: int | None = None,
    config_path: Path | None = None,
    seed: int = 0,
    timeout: float | None = None,
) -> TuneResult:
    """Run ``trials`` more trials of the study; write the best configuration so far."""
    if trials < 1:
        raise ValueError("--trials must be at least 1")
    started = time.perf_counter()
    validation_from = validation_from or spec.validation_from
    corpus, _ = load_corpus_with_report(spec.name, settings, limit_per_split)
    cases = tuning_cases(corpus, validation_from)
    years = np.asarray([r.decision_year or 0 for r in cases.records])
    split = inner_split(years, validation_from, inner_from)
    labels = np.asarray(cases.labels())
    if len(set(labels[split.fit].tolist())) < 2:
        raise ValueError(f"the cases before {split.inner_from} have one outcome class only")
    frame = pd.DataFrame(model_input(cases.records))
    base = dict(spec.model_params)
    space = search_space(make_estimator(settings, spec).get_params(deep=False))
    name = study_name or f"{spec.name}-{metric}"
    identity = {
        "dataset": spec.name, "data_fingerprint": cases.fingerprint(), "metric": metric,
        "validation_from": validation_from, "inner_from": split.inner_from,
        "space": sorted(space), "embedding_model": settings.embedding_model,
    }  # fmt: skip
    study = open_study(name, settings, metric, identity, seed)
    if not study.trials:  # the baseline first: the spec's own configuration
        defaults = make_estimator(settings, spec).get_params(deep=False)
        study.enqueue_trial({k: defaults[k] for k in space}, user_attrs={"baseline": True})
    config_path = config_path or settings.home / TUNING_FOLDER / f"{name}.yaml"
    experiment_id = ensure_experiment(f"casecast-{spec.name}", settings)
    console.print(f"tuning {spec.name}: {split.describe()}")
    embed_corpus(make_estimator(settings, spec), frame)

    def score(params: Mapping[str, Any]) -> dict[str, Any]:
        estimator = make_estimator(settings, spec, params)
        estimator.fit(frame[split.fit], labels[split.fit])
        probabilities = estimator.predict_proba(frame[split.score])
        return classification_report(
            labels[split.score], probabilities, list(estimator.classes_), spec.positive_class
        )

    failed = 0
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"tune-{name}") as parent:
        mlflow.set_tags({
            STAGE_TAG: "tune", DATASET_TAG: spec.name, STUDY_TAG: name,
            DATA_FINGERPRINT_TAG: cases.fingerprint(),
        })  # fmt: skip
        mlflow.log_params({
            "metric": metric, "trials": trials, "seed": seed, "study": name,
            "validation_from": validation_from, "inner_from": split.inner_from,
            "n_fit": int(split.fit.sum()), "n_score": int(split.score.sum()),
            "space": json.dumps({k: repr(v) for k, v in space.items()}),
            "base_params": json.dumps(base, default=str),
        })  # fmt: skip
        deadline = None if timeout is None else time.monotonic() + timeout
        with progress_bar("trials", total=trials) as (advance, _):
            for _ in range(trials):
                if deadline is not None and time.monotonic() > deadline:
                    break
                failed += not _run_trial(study, space, name, metric, score, experiment_id)
                advance(1)
        done = [t for t in study.trials if t.state == TrialState.COMPLETE]
        if not done:
            raise RuntimeError(f"every trial of study {name} failed: see its MLflow runs")
        baseline = next((t.value for t in done if t.user_attrs.get("baseline")), None)
        best = study.best_trial
        best_value = float(best.value or 0.0)  # a complete trial has a value
        best_params = {**base, **best.params}
        provenance = {
            "study": name, "trial": best.number, "metric": metric,
            "value": best_value, "baseline": baseline,
            "inner_validation": split.scored_years,
            "trials": len(done), "tuning_run": parent.info.run_id,
        }  # fmt: skip
        write_config(
            config_path,
            TrainConfig(dataset=spec.name, model_params=best_params, tuned=provenance),
            f"written by casecast tune: study {name}, best of {len(done)} trials; "
            f"`casecast train --dataset {spec.name} --config {config_path.name}`",
        )
        table = trials_table(study)
        mlflow.log_artifact(str(config_path), "tune")
        mlflow.log_dict({"trials": table}, "tune/trials.json")
        mlflow.log_metrics(
            {f"best_{metric}": best_value, "trials_done": len(done)}
            | ({f"baseline_{metric}": float(baseline)} if baseline is not None else {})
        )
    return TuneResult(
        study=name, metric=metric, split=split, baseline=baseline,
        best_value=best_value, best_params=best_params,
        trials_done=len(done), trials_now=trials, failed_now=failed,
        config_path=config_path, run_id=parent.info.run_id,
        seconds=time.perf_counter() - started, trials=table,
    )  # fmt: skip


def _run_trial(
    study: optuna.Study,
    space: dict[str, BaseDistribution],
    name: str,
    metric: str,
    score: Callable[[Mapping[str, Any]], dict[str, Any]],
    experiment_id: str,
) -> bool:
    """One trial as a nested run; a trial whose fit fails is recorded failed, not fatal."""
    trial = study.ask(space)
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"trial-{trial.number}", nested=True
    ):
        mlflow.set_tags({STAGE_TAG: "tune-trial", STUDY_TAG: name, TRIAL_TAG: trial.number})
        mlflow.log_params({k: str(v) for k, v in trial.params.items()})
        try:
            report = score(trial.params)
        except (ValueError, ArithmeticError, MemoryError) as error:
            mlflow.set_tag("error", str(error)[:5000])
            study.tell(trial, state=TrialState.FAIL)
            console.print(f"[yellow]trial {trial.number} failed:[/yellow] {error}")
            return False
        value = report.get(metric)
        mlflow.log_metrics(
            {
                f"inner_{k}": float(v)
                for k, v in report.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
        )
        if value is None:  # e.g. ROC-AUC of a one-class inner validation
            study.tell(trial, state=TrialState.FAIL)
            return False
        study.tell(trial, float(value))
        return True


def trials_table(study: optuna.Study) -> list[dict[str, Any]]:
    return [
        {
            "trial": t.number,
            "state": t.state.name,
            "value": t.value,
            "baseline": bool(t.user_attrs.get("baseline")),
            "params": t.params,
        }
        for t in study.trials
    ]
