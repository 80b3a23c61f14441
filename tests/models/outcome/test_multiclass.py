"""The same estimator on a multi-class task: Russian decisions' sanction types."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax

from casecast.data.datasets import get_dataset
from casecast.data.schema import model_input
from casecast.features.embedding import SentenceEmbedder
from casecast.models.outcome import CaseOutcomeClassifier, FieldEffect
from casecast.training.metrics import classification_report
from casecast.training.model_card import ruled_out
from tests.cases import read_cases, source_file


@pytest.fixture(scope="module")
def corpus():
    path = source_file("ru")
    if not path.is_file():
        pytest.skip("Russian data not found")
    # The file holds administrative rulings first, then criminal judgments: take both.
    return read_cases("ru", path, limit=1000).subset(range(0, 990, 6))


@pytest.fixture(scope="module")
def fitted(corpus, embedding_cache):
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
        allowed_outcomes=spec.allowed_outcomes,
    ).fit(frame[~held_out], labels[~held_out])
    return estimator, frame, labels, held_out


def test_multiclass_probabilities_reasons_and_report(fitted):
    spec = get_dataset("ru")
    estimator, frame, labels, held_out = fitted
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


def test_no_probability_for_an_outcome_the_code_does_not_allow(fitted):
    """Administrative rulings cannot imprison, criminal judgments cannot order administrative
    arrest: the learners give such outcomes some probability, the model none."""
    estimator, frame, _, held_out = fitted
    classes = list(estimator.classes_)
    cases = frame[held_out]
    matrices = estimator.features_.transform(estimator.prepare(cases))
    log_proba = estimator.stack_.predict_log_proba(matrices)
    calibration = estimator.calibration_
    learned = calibration.transform(log_proba) if calibration else softmax(log_proba, axis=1)
    served = estimator.predict_proba(cases)
    administrative = (cases["proceeding"] == "administrative").to_numpy()
    criminal = (cases["proceeding"] == "criminal").to_numpy()
    assert administrative.sum() > 10 and criminal.sum() > 10
    prison = [classes.index(c) for c in ("imprisonment", "suspended_imprisonment")]
    arrest = classes.index("administrative_arrest")
    assert (learned[np.ix_(administrative, prison)] > 0).all()
    assert (learned[criminal, arrest] > 0).all()
    assert (served[np.ix_(administrative, prison)] == 0).all()
    assert (served[criminal, arrest] == 0).all()
    assert np.allclose(served.sum(axis=1), 1)
    # What the law allows keeps its order: the same ratios between the allowed classes.
    fine = classes.index("fine")
    ratio = learned[criminal, fine] / learned[criminal, prison[0]]
    assert np.allclose(served[criminal, fine] / served[criminal, prison[0]], ratio)
    # A case whose kind of proceeding is not stated may end any way.
    unstated = estimator.predict_proba(cases.assign(proceeding=None))
    assert (unstated > 0).all()
    # The model card says what is ruled out.
    assert ruled_out(estimator) == (
        "proceeding=administrative: imprisonment, suspended_imprisonment; "
        "proceeding=criminal: administrative_arrest"
    )
