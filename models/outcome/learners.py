"""The base learners of the stack, each a scikit-learn classifier over one matrix."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from lightgbm import LGBMClassifier
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_selection import chi2
from sklearn.linear_model import LogisticRegression
from sklearn.utils import Tags
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

FLOOR = 1e-6  # the least probability a learner's score is computed from
DENSE_TREE_CELLS = 250_000_000  # 1 GB of float32: above it the tree learner reads sparse input
# liblinear draws from one process-wide random generator (scikit-learn's ``newrand``), and
# every liblinear fit reseeds it, primal ones too: a fit beside another in a second thread
# would depend on thread timing (seen as 1e-5 differences under a loaded CPU).
_LIBLINEAR = threading.Lock()


class _WrappedClassifier(ClassifierMixin, BaseEstimator):
    """A fitted ``model_`` that reads each input through ``_input`` (sparse input welcome)."""

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        return self.model_.predict_proba(self._input(X))

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _input(self, X: Any) -> Any:
        return X


class NBLogisticRegression(_WrappedClassifier):
    """Logistic regression, on binary tasks over naive-Bayes-weighted columns (NBSVM).

    The weights are the log-count ratios of Wang & Manning (2012): each column scaled by how
    much more often it is present in positive cases. ``naive_bayes=False`` (or more than two
    classes) fits a plain logistic regression. Binary tasks use liblinear, in its dual form on
    sparse input (as many columns as rows or more), where it reaches the primal optimum
    sooner; more classes use multinomial lbfgs.
    """

    def __init__(
        self,
        C: float = 1.0,
        naive_bayes: bool = True,
        class_weight: str | None = "balanced",
        max_iter: int = 5000,
        random_state: int | None = 0,
    ) -> None:
        self.C = C
        self.naive_bayes = naive_bayes
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> NBLogisticRegression:
        X, y = validate_data(self, X, y, accept_sparse="csr")
        self.classes_ = unique_labels(y)
        binary = len(self.classes_) == 2
        self.nb_weights_ = None
        if self.naive_bayes and binary:
            self.nb_weights_ = _log_count_ratios(X, y == self.classes_[1])
        self.model_ = LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            solver="liblinear" if binary else "lbfgs",
            dual=binary and sparse.issparse(X),
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        fit_linear(self.model_, self._input(X), y)
        self.n_iter_ = self.model_.n_iter_
        return self

    def _input(self, X: Any) -> Any:
        """``X`` with its columns weighted (binary tasks)."""
        if self.nb_weights_ is None:
            return X
        if sparse.issparse(X):
            return sparse.csr_matrix(X.multiply(self.nb_weights_))
        return X * self.nb_weights_


class ChiSquaredTrees(_WrappedClassifier):
    """Gradient-boosted trees (LightGBM) on the ``n_columns`` columns most associated with
    the outcome (chi-squared, on the training cases only).

    Trees combine words non-linearly, which the linear text learners cannot. Input must be
    non-negative (TF-IDF weights); TF-IDF needs few bins (``max_bin``).
    """

    def __init__(
        self,
        n_columns: int = 20_000,
        n_estimators: int = 300,
        learning_rate: float = 0.1,
        num_leaves: int = 15,
        max_bin: int = 15,
        min_child_samples: int = 20,
        colsample_bytree: float = 0.3,
        subsample: float = 0.8,
        random_state: int | None = 0,
    ) -> None:
        self.n_columns = n_columns
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_bin = max_bin
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.subsample = subsample
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> ChiSquaredTrees:
        X, y = validate_data(self, X, y, accept_sparse="csr")
        check_non_negative(X, "ChiSquaredTrees.fit")
        self.classes_ = unique_labels(y)
        association = np.nan_to_num(chi2(X, y)[0])
        self.columns_ = np.sort(np.argsort(-association, kind="stable")[: self.n_columns])
        self.model_ = LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            max_bin=self.max_bin,
            min_child_samples=self.min_child_samples,
            colsample_bytree=self.colsample_bytree,
            subsample=self.subsample,
            subsample_freq=1,
            random_state=self.random_state,
            n_jobs=1,  # the stack runs learners side by side instead
            verbose=-1,
        ).fit(self._input(X), y)
        return self

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # chi-squared needs counts or weights
        return tags

    def _input(self, X: Any) -> Any:
        """The chosen columns, dense while that stays small (LightGBM bins dense input ~2x
        faster)."""
        part = X[:, self.columns_].astype(np.float32)
        if not sparse.issparse(part):
            return part
        return part.toarray() if part.shape[0] * part.shape[1] <= DENSE_TREE_CELLS else part


def fit_linear(model: LogisticRegression, X: Any, y: np.ndarray) -> LogisticRegression:
    """Fit, one liblinear fit at a time (see ``_LIBLINEAR``)."""
    if model.solver != "liblinear":
        return model.fit(X, y)
    with _LIBLINEAR:
        return model.fit(X, y)


def class_scores(model: Any, X: Any, n_classes: int) -> np.ndarray:
    """A learner's scores as the meta learner reads them, for classes coded 0..n_classes-1.

    Binary: the log-odds; more classes: centred log-probabilities over all classes. A fold
    may miss a rare class: its column then holds the floor probability.
    """
    log_proba = np.full((X.shape[0], n_classes), np.log(FLOOR))
    if X.shape[0]:
        log_proba[:, model.classes_] = np.log(np.maximum(model.predict_proba(X), FLOOR))
    if n_classes == 2:
        return (log_proba[:, 1] - log_proba[:, 0])[:, None]
    return log_proba - log_proba.mean(axis=1, keepdims=True)


def _log_count_ratios(X: Any, positive: np.ndarray) -> np.ndarray:
    present = (X > 0).astype(np.float32)
    in_positive = np.asarray(present[positive].sum(axis=0)).ravel() + 1.0
    in_negative = np.asarray(present[~positive].sum(axis=0)).ravel() + 1.0
    ratio = (in_positive / in_positive.sum()) / (in_negative / in_negative.sum())
    return np.log(ratio).astype(np.float32)
