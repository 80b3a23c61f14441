"""`casecast evaluate`: score a registered model on any split file of its data set's format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from casecast.data.datasets import (
    get_dataset,
    read_split,
)
from casecast.data.schema import model_input
from casecast.models.pyfunc import OutcomeModel
from casecast.models.registry import (
    alias_uri,
    ensure_experiment,
    load_pyfunc,
    registered_model_name,
    run_text,
)
from casecast.models.run_contract import TRAINING_IDS_ARTIFACT
from casecast.models.settings import CasecastSettings
from casecast.training.fitting import (
    add_article_scores,
    at_estimated_mix,
    case_articles,
    embed_corpus,
    file_stem,
)
from casecast.training.metrics import (
    classification_report,
    reliability_figure,
)
from casecast.training.model_card import model_card
from casecast.training.progress import console


def evaluate(
    dataset: str,
    split: Path,
    settings: CasecastSettings,
    model_uri: str | None = None,
    limit: int | None = None,
    log_run: bool = True,
) -> dict[str, Any]:
    """Score a registered model on any split file of the data set's format."""
    spec = get_dataset(dataset)
    uri = model_uri or alias_uri(registered_model_name(spec.name, spec.task))
    model, info = load_pyfunc(uri)
    python_model: OutcomeModel = model.unwrap_python_model()
    python_model.use_embedding_cache(settings.embedding_cache_dir)
    corpus = read_split(spec, split, settings, limit)
    frame = pd.DataFrame(model_input(corpus.records))
    embed_corpus(python_model.estimator, frame)
    predicted = model.predict(frame)
    classes = [str(c) for c in python_model.estimator.classes_]
    probabilities = predicted[[f"p_{c}" for c in classes]].to_numpy()
    report = classification_report(corpus.labels(), probabilities, classes, spec.positive_class)
    report.update(at_estimated_mix(python_model.estimator, corpus.labels(), probabilities,
                                   spec.positive_class))  # fmt: skip
    articles = case_articles(corpus, spec)
    if articles is not None and "articles" in predicted:
        # The served answer's own article calls, not a second pass over the estimator.
        add_article_scores(report, list(predicted["articles"]),
                           python_model.estimator.article_labels, articles)  # fmt: skip
    report.update(
        dataset=spec.name,
        split=str(split),
        split_fingerprint=corpus.fingerprint(),
        model_uri=uri,
        model_name=info.name,
        model_version=info.version,
    )
    figure = reliability_figure(corpus.labels(), probabilities, classes, spec.positive_class,
                                f"{info.name} v{info.version} on {Path(split).name}")  # fmt: skip
    card = model_card(spec, f"{info.name} v{info.version} on {Path(split).name}", corpus,
                      probabilities, classes, report, "reliability.png",
                      python_model.estimator)  # fmt: skip
    card_dir = settings.home / "cards" / f"{info.name}-v{info.version}-{file_stem(split)}"
    card_dir.mkdir(parents=True, exist_ok=True)
    figure.savefig(card_dir / "reliability.png", dpi=120)
    (card_dir / "model_card.md").write_text(card.markdown)
    report["model_card"] = str(card_dir / "model_card.md")
    trained_on = run_text(info.run_id, TRAINING_IDS_ARTIFACT)
    if trained_on is not None:
        overlap = len({r.case_id for r in corpus.records} & set(trained_on.split()))
        report["n_in_training_data"] = overlap
        if overlap:
            console.print(f"[yellow]warning:[/yellow] {overlap} of {len(corpus)} cases in "
                          f"{Path(split).name} were in {info.name} v{info.version}'s training "
                          "data: these figures are not a held-out estimate")  # fmt: skip
    report["groups"] = card.card.model_dump(mode="json")["groups"]
    if log_run:
        experiment_id = ensure_experiment(f"casecast-{spec.name}", settings)
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"evaluate-{Path(split).name}"):
            mlflow.set_tags(
                {
                    "stage": "evaluate",
                    "model_uri": uri,
                    "model_version": info.version,
                    "split": str(split),
                    "split_fingerprint": report["split_fingerprint"],
                }
            )
            mlflow.log_metrics(
                {
                    k: v
                    for k, v in report.items()
                    if isinstance(v, float | int) and not isinstance(v, bool)
                }
            )
            mlflow.log_artifacts(str(card_dir), "model_card")
    return report
