"""The stack's base learners follow scikit-learn's rules and learn what they say."""

import numpy as np
from scipy import sparse
from sklearn.utils.estimator_checks import parametrize_with_checks

from casecast.models.outcome.learners import ChiSquaredTrees, NBLogisticRegression, class_scores


@parametrize_with_checks([NBLogisticRegression(), ChiSquaredTrees(n_columns=5, n_estimators=10)])
def test_scikit_learn_conventions(estimator, check):
    check(estimator)


def _words(n_cases: int = 200, seed: int = 0) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Presence of 50 words; word 0 appears in most positive cases and few negative ones."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_cases)
    X = (rng.random((n_cases, 50)) < 0.2).astype(float)
    X[:, 0] = rng.random(n_cases) < np.where(y == 1, 0.8, 0.1)
    return sparse.csr_matrix(X), y


def test_naive_bayes_weights_favour_the_word_that_marks_the_class():
    X, y = _words()
    model = NBLogisticRegression(C=1.0).fit(X, y)
    assert model.nb_weights_ is not None and model.nb_weights_.shape == (50,)
    assert model.nb_weights_[0] == model.nb_weights_.max() > 1.0
    assert model.model_.dual  # sparse binary input: liblinear's dual form
    plain = NBLogisticRegression(naive_bayes=False).fit(X, y)
    assert plain.nb_weights_ is None
    assert plain.score(X, y) > 0.75 and model.score(X, y) > 0.75


def test_more_classes_fit_a_multinomial_model_without_weights():
    X, y = _words()
    y3 = np.where(X[:, 1].toarray().ravel() > 0, 2, y)
    model = NBLogisticRegression().fit(X, y3)
    assert model.nb_weights_ is None and model.model_.solver == "lbfgs"
    assert model.predict_proba(X).shape == (200, 3)


def test_trees_read_only_the_columns_most_tied_to_the_outcome():
    X, y = _words()
    trees = ChiSquaredTrees(n_columns=3, n_estimators=20).fit(X, y)
    assert len(trees.columns_) == 3 and 0 in trees.columns_
    assert trees.score(X, y) > 0.75


def test_class_scores_are_log_odds_or_centred_log_probabilities_with_a_floor():
    X, y = _words()
    binary = NBLogisticRegression().fit(X, y)
    p = binary.predict_proba(X[:5])
    np.testing.assert_allclose(class_scores(binary, X[:5], 2)[:, 0], np.log(p[:, 1] / p[:, 0]))
    # A learner that saw classes 0 and 2 of three: class 1's column gets the floor.
    keep = y == 0
    y02 = np.where(keep, 0, 2)
    partial = NBLogisticRegression().fit(X, y02)
    scores = class_scores(partial, X[:4], 3)
    assert scores.shape == (4, 3) and np.allclose(scores.sum(axis=1), 0)
    assert (scores[:, 1] < scores[:, 0]).all() and (scores[:, 1] < scores[:, 2]).all()
