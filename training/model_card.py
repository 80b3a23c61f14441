"""Model cards: what a model was trained on, how it scores beside the majority baseline, and
how it scores per group of cases.

Groups may use fields that models may not read (formation, importance): a card describes
decisions, it does not predict them. Groups smaller than ``MIN_GROUP`` are shown and marked,
never hidden, since their figures are too noisy to compare.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from data import scotus
from data.schema import CaseRecord
from training.metrics import classification_report

MIN_GROUP = 30
GroupOf = Callable[[CaseRecord], str | None]


def _decade(record: CaseRecord) -> str | None:
    return f"{record.decision_year // 10 * 10}s" if record.decision_year else None


GROUPS: dict[str, dict[str, GroupOf]] = {
    "echr": {
        "respondent state": lambda r: r.parties[0] if r.parties else None,
        "formation": lambda r: r.court,
        "importance": lambda r: r.metadata.get("importance"),
        "decade": _decade,
    },
    "scotus": {
        # The SCDB code the model reads, named; Oyez's own label where SCDB has none.
        "issue area": lambda r: (
            scotus.ISSUE_AREAS.get(r.inputs.get("issueArea") or "")
            or r.metadata.get("issue_area")
            or None
        ),
        "term decade": _decade,
    },
    "ru": {"proceeding": lambda r: r.court, "decade": _decade},
}
# The input field a group kind is formed from, where it is one, with the names of coded
# values: the server finds the group of a request's own value (ECHR: its first respondent
# state, as the group is formed) and says how the model did on such cases.
GROUP_FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    "echr": {"respondent": {"group": "respondent state"}},
    "scotus": {"issueArea": {"group": "issue area", "values": scotus.ISSUE_AREAS}},
    "ru": {"proceeding": {"group": "proceeding"}},
}


def group_metrics(
    dataset: str,
    records: Sequence[CaseRecord],
    truth: Sequence[str],
    probabilities: np.ndarray,
    classes: Sequence[str],
    positive: str | None,
) -> dict[str, list[dict[str, Any]]]:
    """Per group kind, one row per group value: n, accuracy beside the group's own majority
    outcome, macro-F1, ROC-AUC (None when the group holds one outcome), calibration, and a
    flag if too few.

    The group's majority is what always answering its most frequent outcome would score: a
    model close to it tells the group's cases apart little, however good its overall figure.
    Calibration per group: a model can be calibrated overall yet promise one state's
    applicants more (or less) than that state's cases bear out. Binary tasks give the mean
    predicted probability of ``positive`` beside its observed rate; every task the group's ECE.
    """
    truth_arr = np.asarray(truth)
    column = list(classes).index(positive) if positive is not None else None
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, group_of in GROUPS.get(dataset, {}).items():
        members: dict[str, list[int]] = defaultdict(list)
        for i, record in enumerate(records):
            members[str(group_of(record) or "unknown")].append(i)
        rows = []
        for value, rows_of in sorted(members.items(), key=lambda kv: -len(kv[1])):
            scores = classification_report(
                truth_arr[rows_of], probabilities[rows_of], classes, positive
            )
            rows.append({
                "group": value,
                "n": len(rows_of),
                "accuracy": round(scores["accuracy"], 4),
                "majority_accuracy": round(scores["majority_accuracy"], 4),
                "macro_f1": round(scores["macro_f1"], 4),
                "roc_auc": None if scores["roc_auc"] is None else round(scores["roc_auc"], 4),
                "mean_probability": None
                if column is None
                else round(float(probabilities[rows_of, column].mean()), 4),
                "observed_rate": None
                if scores["positive_rate"] is None
                else round(scores["positive_rate"], 4),
                "ece": round(scores["ece"], 4),
                "too_few": len(rows_of) < MIN_GROUP,
            })  # fmt: skip
        out[kind] = rows
    return out


def render_card(
    title: str, about: dict[str, Any], report: dict[str, Any], groups: dict[str, list[dict]],
    reliability_png: str, positive: str | None = None,
) -> str:  # fmt: skip
    """The card as Markdown (``positive``: the binary task's scored class, if any)."""
    lines = [f"# {title}", "", "Advice under human control: estimates from past published "
             "decisions, not legal advice.", "", "## Model and data", ""]  # fmt: skip
    lines += [f"- **{key}**: {value}" for key, value in about.items()]
    lines += ["", "## Scores", "", "| metric | model | majority class |", "| --- | --- | --- |"]
    for key in ("macro_f1", "accuracy"):
        lines.append(f"| {key} | {report[key]:.4f} | {report[f'majority_{key}']:.4f} |")
    for key in ("roc_auc", "brier", "ece"):
        value = report.get(key)
        lines.append(f"| {key} | {score_text(value, places=4)} | |")
    if "estimated_class_mix" in report:
        mix = ", ".join(f"{c} {share:.0%}" for c, share in report["estimated_class_mix"].items())
        lines += ["", f"Class mix of these cases estimated from the model's decisions (no labels "
                  f"read): {mix} (standard error {report['class_mix_error']:.2f}). "
                  "Probabilities restated for that mix: Brier "
                  f"{report['brier_at_estimated_mix']:.4f}, ECE "
                  f"{report['ece_at_estimated_mix']:.4f} (decisions unchanged)."]  # fmt: skip
    elif "class_mix_error" in report:
        lines += ["", "The class mix of these cases cannot be read from the model's "
                  f"decisions (standard error {report['class_mix_error']:.2f}: they differ too "
                  "little by true class, or the cases are too few); probabilities are not "
                  "restated."]  # fmt: skip
    if "articles" in report:
        articles = report["articles"]
        lines += ["", "## Violated articles", "",
                  f"Micro-F1 {articles['micro_f1']:.4f}, macro-F1 {articles['macro_f1']:.4f} "
                  f"(always the most frequent article: micro-F1 "
                  f"{articles['most_frequent_micro_f1']:.4f}).", "",
                  "| article | cases | F1 |", "| --- | --- | --- |"]  # fmt: skip
        lines += [
            f"| {label} | {row['support']} | {row['f1']:.3f} |"
            for label, row in articles["per_label"].items()
        ]
    lines += ["", f"n = {report['n']}; majority class: {report['majority_class']}.", "",
              f"![reliability diagram]({reliability_png})", "", "## Per group", "",
              f"Groups with fewer than {MIN_GROUP} cases are marked: their figures are noise. "
              "Group majority: the accuracy of always answering the group's most frequent "
              "outcome, known only in hindsight; a model near it tells that group's cases "
              "apart little, whatever its overall score."]  # fmt: skip
    if positive:
        lines += [f"Predicted / observed: the mean predicted probability of {positive} beside "
                  "the group's share of it; far apart, the model promises that group's cases "
                  "more or less than they bore out."]  # fmt: skip
    lines.append("")
    for kind, rows in groups.items():
        header = "| group | n | accuracy | group majority | macro-F1 | ROC-AUC | ECE |"
        header += " predicted / observed |" if positive else ""
        lines += [f"### {kind}", "", header + " note |",
                  "| --- " * header.count("|") + "|"]  # fmt: skip
        for r in rows:
            line = (
                f"| {r['group']} | {r['n']} | {r['accuracy']:.3f} | {r['majority_accuracy']:.3f}"
                f" | {r['macro_f1']:.3f} | {score_text(r['roc_auc'])} | {r['ece']:.3f} |"
            )
            if positive:
                line += f" {r['mean_probability']:.2f} / {r['observed_rate']:.2f} |"
            lines.append(line + f" {'too few cases' if r['too_few'] else ''} |")
        lines.append("")
    return "\n".join(lines)


def score_text(value: float | None, places: int = 3) -> str:
    """A score for a table, or "n/a" where it is undefined (one class only)."""
    return "n/a" if value is None else f"{value:.{places}f}"
