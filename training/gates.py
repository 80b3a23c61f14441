"""The gates a challenger passes before it becomes champion, judged on the comparison's
paired intervals: refused where it is, with 95% confidence, worse than the champion by more
than the spec's tolerance on the main metric, on calibration (ECE), or on the main metric
of any group with enough cases."""

from __future__ import annotations

from dataclasses import dataclass

from casecast.data.datasets import DatasetSpec
from casecast.data.spec import Gates
from casecast.models.registry import ModelNotAvailableError
from casecast.training.compare import Comparison, VersionRef, compare_versions
from casecast.training.paired import Difference


@dataclass(frozen=True)
class Gate:
    name: str  # "macro_f1", "ece", "macro_f1 in respondent state=TUR"
    tolerance: float
    difference: Difference

    @property
    def passed(self) -> bool:
        return self.difference.worse_by_at_least <= self.tolerance

    def describe(self) -> str:
        d = self.difference
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"{verdict} {self.name}: {d.challenger:.3f} against {d.champion:.3f} "
            f"({d.difference:+.3f}, 95% [{d.low:+.3f}, {d.high:+.3f}]; worse by at least "
            f"{d.worse_by_at_least:.3f}, tolerance {self.tolerance:.3f})"
        )


def judge(comparison: Comparison, gates: Gates) -> list[Gate]:
    by_metric = {d.metric: d for d in comparison.overall}
    judged = [
        Gate(gates.main_metric, gates.main, by_metric[gates.main_metric]),
        Gate("ece", gates.calibration, by_metric["ece"]),
    ]
    for group in comparison.groups:
        for d in group.differences:
            if d.metric == gates.main_metric and d.low == d.low:  # NaN: a group of one class
                judged.append(Gate(f"{d.metric} in {group.kind}={group.group}", gates.group, d))
    return judged


def failed_gates(
    spec: DatasetSpec, champion: VersionRef, challenger: VersionRef
) -> tuple[list[str], Comparison | None]:
    """Each failed gate, described; versions that cannot be compared fail as such."""
    try:
        comparison = compare_versions(spec, champion, challenger)
    except (ModelNotAvailableError, ValueError) as error:
        return [f"FAILED comparable: {error}"], None
    return [g.describe() for g in judge(comparison, spec.file.gates) if not g.passed], comparison
