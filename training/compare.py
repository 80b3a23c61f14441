"""`casecast compare` and the gates of `casecast promote`: two versions scored on the same
held-out cases of their temporal validations, every metric of the card with the paired
bootstrap interval of the difference, overall and per group.

A version is judged on the validation its training run recorded case by case (the model
fitted on the earlier years, scored on the later ones), never on cases it was fitted on:
the registered model itself was refitted on every year. Only the cases both validations
hold are compared.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from casecast.data.datasets import DatasetSpec
from casecast.models.registry import CHAMPION, ModelNotAvailableError
from casecast.training.metrics import ece_if_calibrated
from casecast.training.paired import (
    Difference,
    GroupComparison,
    compare_cases,
    draw_weights,
)
from casecast.training.scored import ScoredCases, scored_cases

MIN_SHARED_CASES = 30


@dataclass(frozen=True)
class VersionRef:
    """A version as the user named it, and what it resolved to."""

    asked: str
    version: str | None  # None for a bare run id
    run_id: str

    @property
    def label(self) -> str:
        return f"v{self.version}" if self.version else f"run {self.run_id[:8]}"


@dataclass
class Comparison:
    dataset: str
    champion: VersionRef
    challenger: VersionRef
    n_cases: int
    draws: int
    overall: list[Difference]
    ece_if_calibrated: dict[str, float]
    groups: list[GroupComparison] = field(default_factory=list)
    min_group_cases: int = 30
    reliability: dict[str, list[list[float]]] = field(default_factory=dict)
    main_metric: str = "macro_f1"

    def main_difference(self, group: GroupComparison) -> Difference | None:
        """The group's difference on the data set's main metric (None: too few to tell)."""
        return next((d for d in group.differences if d.metric == self.main_metric), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "champion": asdict(self.champion),
            "challenger": asdict(self.challenger),
            "n_cases": self.n_cases,
            "draws": self.draws,
            "overall": [asdict(d) for d in self.overall],
            "ece_if_calibrated": self.ece_if_calibrated,
            "min_group_cases": self.min_group_cases,
            "groups": [
                {
                    "kind": g.kind,
                    "group": g.group,
                    "n": g.n,
                    "differences": [asdict(d) for d in g.differences] or "too few to tell",
                }
                for g in self.groups
            ],
        }


def resolve_ref(name: str, asked: str) -> VersionRef:
    """A version number, an alias (``champion``, ``@previous``) or a run id, of ``name``."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    wanted = asked.removeprefix("@").removeprefix("v") if asked[:1] in "@v" else asked
    try:
        if wanted.isdigit():
            found = client.get_model_version(name, wanted)
        elif len(wanted) == 32 and all(c in "0123456789abcdef" for c in wanted):
            client.get_run(wanted)
            return VersionRef(asked, None, wanted)
        else:
            found = client.get_model_version_by_alias(name, wanted)
    except MlflowException as error:
        raise ModelNotAvailableError(f"{name} has no version {asked!r} ({error.message})") from None
    if found.run_id is None:
        raise ModelNotAvailableError(f"{name} version {found.version} names no training run")
    return VersionRef(asked, str(found.version), found.run_id)


def compare_versions(
    spec: DatasetSpec,
    champion: VersionRef,
    challenger: VersionRef,
    draws: int = 1000,
) -> Comparison:
    a = scored_cases(champion.run_id, f"{champion.label} ({champion.asked})")
    b = scored_cases(challenger.run_id, f"{challenger.label} ({challenger.asked})")
    if a.dataset != b.dataset or a.dataset != spec.name:
        raise ValueError(f"{champion.label} is of {a.dataset}, {challenger.label} of {b.dataset}")
    if a.classes != b.classes:
        raise ValueError(f"different classes: {list(a.classes)} and {list(b.classes)}")
    a, b = _shared(a, b)
    weights = draw_weights(len(a.case_ids), draws)
    comparison = Comparison(
        dataset=spec.name,
        champion=champion,
        challenger=challenger,
        n_cases=len(a.case_ids),
        draws=draws,
        overall=compare_cases(a, b, weights),
        ece_if_calibrated={
            champion.label: ece_if_calibrated(a.probabilities.max(axis=1))[0],
            challenger.label: ece_if_calibrated(b.probabilities.max(axis=1))[0],
        },
        min_group_cases=spec.file.gates.min_group_cases,
        reliability={champion.label: _reliability(a), challenger.label: _reliability(b)},
        main_metric=spec.file.gates.main_metric,
    )
    min_group_cases = comparison.min_group_cases
    for kind, values in a.groups.items():
        for group in sorted({v for v in values if v is not None}, key=str):
            positions = np.asarray([i for i, v in enumerate(values) if v == group])
            entry = GroupComparison(kind, str(group), len(positions))
            if len(positions) >= min_group_cases:
                sub_a, sub_b = a.subset(positions), b.subset(positions)
                entry.differences.extend(
                    compare_cases(sub_a, sub_b, draw_weights(len(positions), draws, seed=1))
                )
            comparison.groups.append(entry)
    return comparison


def _shared(a: ScoredCases, b: ScoredCases) -> tuple[ScoredCases, ScoredCases]:
    """Both on the cases both validations hold, in the same order."""
    position_b = {case_id: i for i, case_id in enumerate(b.case_ids)}
    shared = [(i, position_b[c]) for i, c in enumerate(a.case_ids) if c in position_b]
    if len(shared) < MIN_SHARED_CASES:
        raise ValueError(
            f"the two validations share {len(shared)} held-out cases (at least "
            f"{MIN_SHARED_CASES} are needed): were they validated from the same year, on the "
            "same data set?"
        )
    mine, theirs = zip(*shared, strict=True)
    return a.subset(np.asarray(mine)), b.subset(np.asarray(theirs))


def _reliability(cases: ScoredCases, bins: int = 10) -> list[list[float]]:
    """(mean confidence, accuracy, cases) per confidence bin, for the diagram."""
    confidence = cases.probabilities.max(axis=1)
    correct = cases.probabilities.argmax(axis=1) == cases.labels
    edges = np.linspace(0, 1, bins + 1)
    found = []
    for low, high in itertools.pairwise(edges):
        inside = (confidence >= low) & ((confidence < high) | (high == 1.0))
        if inside.any():
            found.append(
                [float(confidence[inside].mean()), float(correct[inside].mean()), int(inside.sum())]
            )
    return found


def rows(comparison: Comparison) -> list[list[str]]:
    """The table `casecast compare` prints: metric, both figures, difference, interval."""
    table = []
    for d in comparison.overall:
        table.append(
            [
                d.metric,
                f"{d.champion:.3f}",
                f"{d.challenger:.3f}",
                f"{d.difference:+.3f}",
                f"[{d.low:+.3f}, {d.high:+.3f}]",
            ]
        )
    labels = list(comparison.ece_if_calibrated)
    table.append(
        ["ece if calibrated", *(f"{comparison.ece_if_calibrated[k]:.3f}" for k in labels), "", ""]
    )
    return table


def html_report(comparison: Comparison) -> str:
    """A self-contained page: the table, the groups, both reliability diagrams."""
    head = [
        "metric",
        comparison.champion.label,
        comparison.challenger.label,
        "difference",
        "95% interval",
    ]
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in rows(comparison)
    )
    group_rows = "".join(
        f"<tr><td>{html.escape(g.kind)}</td><td>{html.escape(g.group)}</td><td>{g.n}</td><td>"
        + (html.escape(_main(comparison, g)) if g.differences else "too few to tell")
        + "</td></tr>"
        for g in comparison.groups
    )
    a, b, n = comparison.champion.label, comparison.challenger.label, comparison.n_cases
    group_head = "<tr><th>kind</th><th>group</th><th>cases</th><th>main metric [95%]</th></tr>"
    image = f"data:image/png;base64,{_diagram(comparison)}"
    return (
        f"<!doctype html><meta charset='utf-8'><title>{comparison.dataset}: {a} vs {b}</title>"
        f"<h1>{comparison.dataset}: {b} against {a}</h1>"
        f"<p>{n} held-out cases both validations hold; intervals: paired bootstrap, "
        f"{comparison.draws} draws.</p><table border=1><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + f"</tr>{body}</table>"
        f"<h2>Groups (at least {comparison.min_group_cases} cases to tell)</h2>"
        f"<table border=1>{group_head}{group_rows}</table>"
        f"<h2>Reliability</h2><img alt='reliability diagrams' src='{image}'>"
    )


def _main(comparison: Comparison, group: GroupComparison) -> str:
    d = comparison.main_difference(group)
    return (
        "no figure"
        if d is None
        else f"{d.metric} {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
    )


def _diagram(comparison: Comparison) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", label="calibrated")
    for label, points in comparison.reliability.items():
        if points:
            confidence, accuracy, _ = zip(*points, strict=True)
            axis.plot(confidence, accuracy, marker="o", label=label)
    axis.set_xlabel("confidence (top class)")
    axis.set_ylabel("accuracy")
    axis.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def log_comparison(comparison: Comparison) -> None:
    """The comparison as JSON and HTML on the challenger's training run."""
    from mlflow import MlflowClient

    client = MlflowClient()
    stem = f"compare/vs-{comparison.champion.label.replace(' ', '-')}"
    client.log_dict(comparison.challenger.run_id, comparison.as_dict(), f"{stem}.json")
    client.log_text(comparison.challenger.run_id, html_report(comparison), f"{stem}.html")


__all__ = ["CHAMPION", "Comparison", "VersionRef", "compare_versions", "resolve_ref"]
