"""The same estimator on a multi-class task: Russian decisions' sanction types."""

import numpy as np
import pandas as pd
import pytest

from data import ru
from data.datasets import get_dataset
from data.schema import model_input
from data.settings import DataSettings
from features.embedding import SentenceEmbedder
from models.outcome import CaseOutcomeClassifier, FieldEffect
from training.metrics import classification_report


@pytest.fixture(scope="module")
def corpus():
    path = DataSettings().resolved_data_dir() / ru.FOLDER / ru.FILE
    if not path.is_file():
        pytest.skip("Russian data not found")
    # The file holds administrative rulings first, then criminal judgments: take both.
    return ru.read_split(path, limit=1000).subset(range(0, 990, 6))


def test_multiclass_probabilities_reasons_and_report(corpus, embedding_cache):
    spec = get_dataset("ru")
    frame = pd.DataFrame(model_input(corpus.records))
    labels = np.asarray(corpus.labels())
    # Every 4th case held out: the file is grouped by proceeding, so a tail split would
    # hold out criminal cases only.
    held_out = np.arange(len(labels)) % 4 == 0
    estimator = CaseOutcomeClassifier(
        embedder=SentenceEmbedder(cache_dir=embedding_cache),
        categorical=spec.categorical,
        numeric=spec.numeric,
    ).fit(frame[~held_out], labels[~held_out])
    assert len(estimator.classes_) >= 4
    proba = estimator.predict_proba(frame[held_out])
    assert proba.shape == (held_out.sum(), len(estimator.classes_))
    assert np.allclose(proba.sum(axis=1), 1)
    report = classification_report(labels[held_out], proba, list(estimator.classes_), None)
    assert report["macro_f1"] > report["majority_macro_f1"]
    assert report["positive_rate"] is None and 0 <= report["brier"] <= 2
    reasons = estimator.explain(frame[130:131])[0]
    fields = [r for r in reasons if isinstance(r, FieldEffect)]
    assert {r.field for r in fields} <= {*spec.categorical, *spec.numeric}
    # Years read as 2014, not 2014.0.
    assert all(not isinstance(r.value, float) for r in fields)
