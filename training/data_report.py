"""`casecast data validate` as tables people read."""

from __future__ import annotations

from rich.table import Table

from casecast.data.validate import ValidationReport
from casecast.training.progress import console


def print_validation(report: ValidationReport) -> None:
    rows = report.rows
    console.print(f"[bold]{report.dataset}[/bold]: {', '.join(report.files)}")
    console.print(rows.summary())
    for reason, examples in rows.examples.items():
        for example in examples:
            console.print(f"  [yellow]{reason}[/yellow] {example}")
    console.print(
        f"duplicates: {report.duplicate_ids} with an id seen before, "
        f"{report.duplicate_texts} with a text seen before"
    )
    for example in report.duplicate_examples:
        console.print(f"  {example}")
    if report.years:
        console.print(f"decisions from {min(report.years)} to {max(report.years)}")
    classes = list(report.labels)
    table = Table("year", "decisions", *classes, title="decisions and labels per year")
    for year, counts in report.labels_per_year.items():
        total = sum(counts.values())
        shares = [f"{counts.get(c, 0) / total:.0%}" for c in classes]
        table.add_row(str(year), str(total), *shares)
    table.add_row(
        "all", str(sum(report.labels.values())), *(str(report.labels[c]) for c in classes)
    )
    console.print(table)
    for pattern, changed in report.masks_applied.items():
        console.print(f"mask {pattern} changed {changed} texts", markup=False)
    if not report.suspects:
        console.print(
            f"no leakage suspect (majority label {report.majority_rate:.0%}; phrases judged "
            f"on {report.phrase_sample} texts)"
        )
        return
    title = "leakage suspects: each predicts the label almost on its own"
    suspects = Table("kind", "name", "alone right", "covers", "what to do", title=title)
    for s in report.suspects:
        advice = f"{s.advice}\nmask: {s.mask}" if s.mask else s.advice
        suspects.add_row(s.kind, s.name, f"{s.accuracy:.3f}", f"{s.coverage:.0%}", advice)
    console.print(suspects)
    console.print(f"(majority label alone: {report.majority_rate:.3f})")
