"""Model cards: what a model was trained on, how it scores beside the majority baseline, and
how it scores per group of cases.

Groups may use fields that models may not read (formation, importance): a card describes
decisions, it does not predict them. Groups smaller than ``MIN_GROUP`` are shown and marked,
never hidden, since their figures are too noisy to compare.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from casecast.data.datasets import DatasetSpec
from casecast.data.schema import CaseRecord, Corpus
from casecast.models.card import CardGroupField, CardScores, GroupScores, OutcomeModelCard
from casecast.models.outcome import CaseOutcomeClassifier
from casecast.training.metrics import classification_report

MIN_GROUP = 30


class CardOutput(NamedTuple):
    """A model card as people read it (Markdown) and as serving reads it (typed)."""

    markdown: str
    card: OutcomeModelCard


def group_metrics(
    spec: DatasetSpec,
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
    for kind, group_of in spec.groups.items():
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
    if report.get("ece_if_calibrated") is not None:
        lines += ["", f"On {report['n']} cases a perfectly calibrated model would show an ECE of "
                  f"{report['ece_if_calibrated']:.4f} from sampling alone (90% of such samples "
                  f"below {report['ece_if_calibrated_90']:.4f}): an ECE that close is no "
                  "evidence of miscalibration."]  # fmt: skip
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


def model_card(
    spec: DatasetSpec,
    title: str,
    corpus: Corpus,
    probabilities: np.ndarray,
    classes: list[str],
    report: dict[str, Any],
    reliability_png: str,
    estimator: CaseOutcomeClassifier,
) -> CardOutput:
    """The card as Markdown and as the typed record `/v1/model` serves."""
    judge_read = bool(spec.judge_field and spec.judge_field in estimator.categorical)
    groups = group_metrics(
        spec, corpus.records, corpus.labels(), probabilities, classes, spec.positive_class
    )
    excluded = ruled_out(estimator)
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
    if excluded:
        about["outcomes the law rules out"] = excluded
    records = track_records_read(estimator)
    if records:
        about["track records (earlier decisions only)"] = records
    keys = ("n", "macro_f1", "accuracy", "roc_auc", "brier", "ece", "ece_if_calibrated",
            "majority_class", "majority_macro_f1", "majority_accuracy")  # fmt: skip
    scores = {k: report[k] for k in keys}
    if "articles" in report:
        scores.update(
            article_micro_f1=report["articles"]["micro_f1"],
            article_macro_f1=report["articles"]["macro_f1"],
            article_most_frequent_micro_f1=report["articles"]["most_frequent_micro_f1"],
        )
    card = OutcomeModelCard(
        title=title,
        about=about,
        scores=CardScores(**scores),
        groups={kind: [GroupScores(**row) for row in rows] for kind, rows in groups.items()},
        group_fields={
            name: CardGroupField(group=grouping.group, values=dict(grouping.values))
            for name, grouping in spec.group_fields.items()
        },
        positive_class=spec.positive_class,
    )
    markdown = render_card(title, about, report, groups, reliability_png, spec.positive_class)
    return CardOutput(markdown, card)


def track_records_read(estimator: CaseOutcomeClassifier) -> str:
    """The records of earlier decisions the model reads, in words ("" if none)."""
    rule = estimator.track_record or {}
    parts = []
    if rule.get("keys"):
        groups = ", ".join(" and ".join(key) or "the whole court" for key in rule["keys"])
        parts.append(
            f"outcome rates of earlier decisions per {groups} (over {rule.get('window', 10):g} "
            f"years, half-weight after {rule.get('half_life', 4):g})"
        )
    panel = rule.get("panel")
    if panel:
        until = (
            f"; votes up to {panel['until']}: later cases use those" if panel.get("until") else ""
        )
        parts.append(f"{panel.get('label', 'the bench')}'s earlier votes{until}")
    return "; ".join(parts)


def ruled_out(estimator: CaseOutcomeClassifier) -> str:
    """The classes each field value rules out, as the model applies them ("" if none)."""
    rules = getattr(estimator, "allowed_outcomes_", None)
    if rules is None:
        return ""
    excluded = rules.ruled_out(estimator.classes_)
    return "; ".join(f"{name}: {', '.join(classes)}" for name, classes in excluded.items())
