"""Per-article heads (ECHR): which articles a case is likely to see violated."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from casecast.models.outcome.learners import NBLogisticRegression

MIN_ARTICLE_CASES = 20


@dataclass(frozen=True)
class ArticleEstimate:
    article: str
    probability: float
    predicted: bool  # at or above the article's threshold


class ArticleHeads(BaseEstimator):
    """One logistic regression per article with at least ``min_cases`` cases (and at least
    five without), each with the cut-off of best F1 chosen out of ``n_folds`` folds. The
    outcome model fits them on the cases found in violation: P(article | violation).

    ``folds(has, n_folds)`` gives the folds (the stack's, so the seed is shared).
    """

    def __init__(
        self,
        C: float = 16.0,
        min_cases: int = MIN_ARTICLE_CASES,
        n_folds: int = 3,
        random_state: int = 0,
        n_jobs: int = 2,
    ) -> None:
        self.C = C
        self.min_cases = min_cases
        self.n_folds = n_folds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(
        self,
        text: sparse.csr_matrix,
        articles: Sequence[Sequence[str]],
        folds: Callable[[np.ndarray, int], list[tuple[Any, Any]]],
    ) -> ArticleHeads:
        counts = Counter(a for case in articles for a in set(case))
        self.labels_ = sorted(
            (a for a, n in counts.items() if self.min_cases <= n <= len(articles) - 5),
            key=article_order,
        )
        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(self._fit_one)(text, np.asarray([a in case for case in articles], int), folds)
            for a in self.labels_
        )
        self.thresholds_ = [threshold for threshold, _ in fitted]
        self.models_ = [model for _, model in fitted]
        return self

    def predict(self, text: sparse.csr_matrix) -> list[list[ArticleEstimate]]:
        """Per case, every modelled article with its probability and the thresholded call."""
        check_is_fitted(self, "models_")
        if not self.models_:
            return [[] for _ in range(text.shape[0])]
        probabilities = np.column_stack([m.predict_proba(text)[:, 1] for m in self.models_])
        return [
            [
                ArticleEstimate(article, round(float(p), 4), bool(p >= threshold))
                for article, p, threshold in zip(self.labels_, row, self.thresholds_, strict=True)
            ]
            for row in probabilities
        ]

    def _fit_one(
        self,
        text: sparse.csr_matrix,
        has: np.ndarray,
        folds: Callable[[np.ndarray, int], list[tuple[Any, Any]]],
    ) -> tuple[float, NBLogisticRegression]:
        oof = np.zeros(len(has))
        for fit_part, score_part in folds(has, self.n_folds):
            model = self._head().fit(text[fit_part], has[fit_part])
            oof[score_part] = model.predict_proba(text[score_part])[:, 1]
        return best_f1_threshold(has, oof), self._head().fit(text, has)

    def _head(self) -> NBLogisticRegression:
        return NBLogisticRegression(
            C=self.C, naive_bayes=False, class_weight=None, random_state=self.random_state
        )


def scale_articles(estimates: Sequence[ArticleEstimate], factor: float) -> list[ArticleEstimate]:
    """Each article's probability times ``factor`` (a head's P(article | violation) times the
    probability of a violation); the calls, made on the heads' own scale, stay."""
    return [replace(e, probability=round(min(1.0, e.probability * factor), 4)) for e in estimates]


def answer_articles(
    heads: Sequence[Sequence[ArticleEstimate]],
    proba: np.ndarray,
    classes: Sequence[Any],
    article_class: Any,
    given_outcome: bool,
) -> list[list[ArticleEstimate]]:
    """The article estimates an answer gives: heads of P(article | violation) times each
    case's violation probability (``given_outcome``), agreeing with the outcome decided."""
    decided = [classes[i] for i in proba.argmax(axis=1)]
    if given_outcome and article_class is not None:
        outcome = proba[:, list(classes).index(article_class)]
        heads = [scale_articles(row, p) for row, p in zip(heads, outcome, strict=True)]
    return [
        agree_with_verdict(row, str(label) == str(article_class), article_class)
        for row, label in zip(heads, decided, strict=True)
    ]


def articles_at(
    model: Any,
    estimates: Sequence[ArticleEstimate],
    probabilities: Mapping[str, float],
    restated: Mapping[str, float],
    label: Any,
) -> list[ArticleEstimate]:
    """A case's article estimates, as ``model`` (an outcome model) gave them for its own
    ``probabilities``, for the probabilities ``restated`` (another class mix) and the outcome
    ``label`` decided there: an article's probability follows its outcome's, and the calls
    agree with ``label``."""
    article_class = getattr(model, "article_class_", None)
    found = list(estimates)
    if found and article_class is not None and getattr(model, "articles_given_outcome_", False):
        before = probabilities[str(article_class)]
        found = scale_articles(found, restated[str(article_class)] / max(before, 1e-12))
    return agree_with_verdict(found, str(label) == str(article_class), article_class)


def agree_with_verdict(
    estimates: Sequence[ArticleEstimate], violation: bool, article_class: Any = True
) -> list[ArticleEstimate]:
    """One answer, not two that contradict each other: a case decided as a violation names
    at least its most probable article (a violation judgment always names one), and a case
    decided as none names no article; every article keeps its probability. A model that
    knows no outcome the articles go with (``article_class`` None) leaves them as they are."""
    if not estimates or article_class is None:
        return list(estimates)
    if not violation:
        return [replace(e, predicted=False) for e in estimates]
    if any(e.predicted for e in estimates):
        return list(estimates)
    likeliest = max(estimates, key=lambda e: e.probability)
    return [replace(e, predicted=e is likeliest) for e in estimates]


def best_f1_threshold(truth: np.ndarray, scores: np.ndarray) -> float:
    """The cut-off with the best F1 out of fold (0.5 when no case is positive)."""
    if truth.sum() == 0:
        return 0.5
    candidates = np.unique(np.round(scores, 3))
    best, best_f1 = 0.5, -1.0
    for threshold in candidates[(candidates > 0.02) & (candidates < 0.98)]:
        predicted = scores >= threshold
        tp = float((predicted & (truth == 1)).sum())
        f1 = 2 * tp / max(float(predicted.sum() + truth.sum()), 1.0)
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    return best


def article_order(article: str) -> tuple[int, str]:
    """Articles by the number after their last dash (P1-1 counts as 1), then by name."""
    digits = "".join(ch for ch in article.split("-")[-1] if ch.isdigit())
    return (int(digits) if digits else 10_000, article)
