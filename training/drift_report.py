"""The drift report as a table, a self-contained HTML page with plots, and an MLflow run."""

from __future__ import annotations

import base64
import html
import io
import math

import numpy as np

from casecast.training.drift import REPORT_HTML, REPORT_JSON, DriftReport


def rows(report: DriftReport) -> list[list[str]]:
    """The report as a table: check, figure, threshold, verdict."""
    rule = report.rule
    table = []
    if report.embedding is not None:
        e = report.embedding
        table.append(
            [
                "text embeddings (MMD²)",
                f"{e.mmd2:.4f}, p {e.p_value:.4f}",
                f"p < {rule.p_value}",
                _verdict(e.p_value < rule.p_value),
            ]
        )
    field_p = rule.p_value / max(len(report.fields), 1)
    for s in report.fields:
        table.append(
            [
                f"field {s.field} ({s.test})",
                f"{s.effect_name} {s.effect:.3f}, p {s.p_value:.2g}",
                f"≥ {rule.field_effect} and p < {field_p:.2g}",
                _verdict(s.p_value < field_p and s.effect >= rule.field_effect),
            ]
        )
    r = report.class_rates
    rate_text = ", ".join(
        f"{c} {a:.2f}→{b:.2f}" for c, a, b in zip(r.classes, r.reference, r.current, strict=True)
    )
    table.append(
        [
            "predicted class rates",
            f"{rate_text}; TV {r.total_variation:.3f}",
            f"TV ≥ {rule.class_rate}",
            _verdict(r.total_variation >= rule.class_rate and r.p_value < rule.p_value),
        ]
    )
    if report.class_mix is not None:
        m = report.class_mix
        mix_text = ", ".join(
            f"{c} {a:.2f}→{b:.2f}±{e:.2f}"
            for c, a, b, e in zip(m.classes, m.reference, m.estimated, m.error, strict=True)
        )
        table.append(
            [
                "estimated class mix",
                mix_text,
                f"> {rule.class_mix} beyond 2 s.e.",
                _verdict(m.shift > rule.class_mix),
            ]
        )
    return table


def _verdict(alarm: bool) -> str:
    return "DRIFT" if alarm else "ok"


def html_report(report: DriftReport) -> str:
    """A self-contained page: the verdicts, then a plot of each comparison."""
    head = "<tr><th>check</th><th>figure</th><th>alarms when</th><th>verdict</th></tr>"
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in rows(report)
    )
    verdict = (
        "<p><b>Drift past the thresholds:</b></p><ul>"
        + "".join(f"<li>{html.escape(a)}</li>" for a in report.alarms)
        + "</ul>"
        if report.alarms
        else "<p><b>No drift past the thresholds.</b></p>"
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    return (
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(report.dataset)}: drift</title>"
        f"<h1>{html.escape(report.dataset)}: {html.escape(report.current)} against "
        f"{html.escape(report.reference)}</h1>"
        f"<p>{report.current_cases} recent and {report.reference_cases} reference cases, "
        f"scored by {html.escape(report.model)}.</p>{verdict}"
        f"<table border=1>{head}{body}</table>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + f"<img alt='drift plots' src='data:image/png;base64,{_plots(report)}'>"
    )


def _plots(report: DriftReport) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = report.fields[:6]
    panels = 2 + len(shown)
    columns = 2
    lines = math.ceil(panels / columns)
    figure, axes = plt.subplots(lines, columns, figsize=(10, 3.2 * lines), squeeze=False)
    flat = list(axes.flat)
    axis = flat[0]
    if report.embedding is not None:
        axis.hist(report.embedding.null, bins=30, color="lightgrey", label="permutations")
        axis.axvline(report.embedding.mmd2, color="crimson", label="observed")
        axis.set_title(f"text embeddings: MMD², p {report.embedding.p_value:.3f}")
        axis.legend()
    else:
        axis.set_title("text embeddings: not compared")
    axis = flat[1]
    r = report.class_rates
    positions = np.arange(len(r.classes))
    axis.bar(positions - 0.2, r.reference, 0.4, label="reference, predicted")
    axis.bar(positions + 0.2, r.current, 0.4, label="recent, predicted")
    if report.class_mix is not None:
        m = report.class_mix
        axis.errorbar(
            positions + 0.2,
            m.estimated,
            yerr=np.multiply(m.error, 2),
            fmt="o",
            color="black",
            label="recent, estimated mix ±2 s.e.",
        )
    axis.set_xticks(positions, r.classes, rotation=20)
    axis.set_title("classes")
    axis.legend(fontsize=7)
    for axis, s in zip(flat[2:], shown, strict=False):
        if s.kind == "categorical":
            names = list(s.reference_shares)[:8]
            spots = np.arange(len(names))
            axis.bar(spots - 0.2, [s.reference_shares[n] for n in names], 0.4, label="reference")
            axis.bar(
                spots + 0.2, [s.current_shares.get(n, 0.0) for n in names], 0.4, label="recent"
            )
            axis.set_xticks(spots, [n[:14] for n in names], rotation=30, fontsize=7)
        else:
            keys = [k for k in ("p10", "median", "p90") if k in s.reference_shares]
            spots = np.arange(len(keys))
            axis.bar(spots - 0.2, [s.reference_shares[k] for k in keys], 0.4, label="reference")
            axis.bar(spots + 0.2, [s.current_shares.get(k, 0.0) for k in keys], 0.4, label="recent")
            axis.set_xticks(spots, keys)
        axis.set_title(f"{s.field}: {s.effect_name} {s.effect:.2f}, p {s.p_value:.2g}", fontsize=9)
        axis.legend(fontsize=7)
    for axis in flat[panels:]:
        axis.axis("off")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def log_report(report: DriftReport, experiment_id: str) -> str:
    """The report as an MLflow run of its own (figures as metrics, JSON and HTML)."""
    import mlflow

    from casecast.models.run_contract import DATASET_TAG, STAGE_TAG

    with mlflow.start_run(experiment_id=experiment_id, run_name=f"drift-{report.dataset}") as run:
        mlflow.set_tags({STAGE_TAG: "drift", DATASET_TAG: report.dataset})
        mlflow.log_params(
            {
                "reference": report.reference[:500],
                "current": report.current[:500],
                "model": report.model,
            }
        )
        metrics = {
            "drift_alarms": float(len(report.alarms)),
            "current_cases": float(report.current_cases),
            "class_rate_total_variation": report.class_rates.total_variation,
        }
        if report.embedding is not None:
            metrics.update(
                embedding_mmd2=report.embedding.mmd2, embedding_p_value=report.embedding.p_value
            )
        if report.class_mix is not None:
            metrics["class_mix_shift"] = report.class_mix.shift
        for s in report.fields:
            metrics[f"field_effect_{_metric_key(s.field)}"] = s.effect
        mlflow.log_metrics(metrics)
        mlflow.log_dict(report.as_dict(), REPORT_JSON)
        mlflow.log_text(html_report(report), REPORT_HTML)
        return str(run.info.run_id)


def _metric_key(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in name)
