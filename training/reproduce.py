"""`casecast train --from-run`: a recorded training run (``training/run_record.py``, the spec
as it was, the data's fingerprint) run again, and whether its figures came out the same."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casecast.data.datasets import use_spec_text
from casecast.models.run_contract import (
    DATA_FINGERPRINT_TAG,
    REPRODUCE_ARTIFACT,
    SPEC_ARTIFACT,
    VALIDATION_METRIC_PREFIX,
)
from casecast.models.settings import CasecastSettings
from casecast.training.train import train


@dataclass(frozen=True)
class Rerun:
    """A recorded run made ready to run again."""

    run_id: str
    dataset: str
    settings: CasecastSettings
    limit_per_split: int | None
    validation_from: int | None
    splits: tuple[Path, ...]
    fingerprint: str | None
    model_params: dict[str, Any]
    metrics: dict[str, float]
    record: dict[str, Any]


def prepare_rerun(run_id: str, settings: CasecastSettings) -> Rerun:
    """The run's record, its spec known again as it was, and this machine's settings with
    the recorded ones that change the result; ``KeyError`` if the run recorded none."""
    import mlflow

    client = mlflow.MlflowClient()
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException as error:
        raise KeyError(f"no run {run_id} in {settings.resolved_tracking_uri}") from error
    with tempfile.TemporaryDirectory() as scratch:
        try:
            record_path = client.download_artifacts(run_id, REPRODUCE_ARTIFACT, scratch)
            spec_file = client.download_artifacts(run_id, SPEC_ARTIFACT, scratch)
        except (OSError, mlflow.exceptions.MlflowException) as error:
            raise KeyError(
                f"run {run_id} recorded no {REPRODUCE_ARTIFACT}: too old to rerun"
            ) from error
        record = json.loads(Path(record_path).read_text(encoding="utf-8"))
        spec_text = Path(spec_file).read_text(encoding="utf-8")
    arguments = record["arguments"]
    # Relative source paths resolve against the folder the spec was in.
    spec = use_spec_text(spec_text, Path(arguments["spec_path"]))
    return Rerun(
        run_id=run_id,
        dataset=spec.name,
        settings=settings.model_copy(update=record["settings"]),
        limit_per_split=arguments["limit_per_split"],
        validation_from=arguments["validation_from"],
        splits=tuple(Path(p) for p in arguments["splits"]),
        fingerprint=run.data.tags.get(DATA_FINGERPRINT_TAG),
        model_params=arguments.get("model_params") or {},
        metrics={
            k.removeprefix(VALIDATION_METRIC_PREFIX): v
            for k, v in run.data.metrics.items()
            if k.startswith(VALIDATION_METRIC_PREFIX)
        },
        record=record,
    )


def compare_metrics(
    recorded: dict[str, float], rerun: dict[str, Any]
) -> list[tuple[str, float, float]]:
    """(metric, recorded, rerun) for each recorded validation metric that differs."""
    differ = []
    for name, value in sorted(recorded.items()):
        again = rerun.get(name)
        if isinstance(again, int | float) and abs(float(again) - value) > 1e-9:
            differ.append((name, value, float(again)))
    return differ


@dataclass(frozen=True)
class RerunOutcome:
    result: Any  # the new run's TrainResult
    differ: list[tuple[str, float, float]]  # validation figures that came out otherwise
    compared: int
    code: str  # the recorded run's commit (or package version)

    def verdict(self, run_id: str) -> str:
        if not self.differ:
            return f"same {self.compared} validation figures as run {run_id} ({self.code})"
        return "; ".join(f"{n}: {a:.6f} in run {run_id}, {b:.6f} now" for n, a, b in self.differ)


def rerun(run_id: str, settings: CasecastSettings, promote: bool = False) -> RerunOutcome:
    """Train again from a run's record, on the same data (checked by its fingerprint)."""
    again = prepare_rerun(run_id, settings)
    result = train(
        again.dataset, again.settings, again.limit_per_split, again.validation_from,
        promote, again.splits, expect_fingerprint=again.fingerprint,
        model_params=again.model_params,
    )  # fmt: skip
    code = again.record["code"]
    return RerunOutcome(
        result,
        compare_metrics(again.metrics, result.validation),
        len(again.metrics),
        str(code.get("git_commit") or code.get("package_version")),
    )
