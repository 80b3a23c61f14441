"""The stack: base learners scored out of fold, and a meta learner over their scores and the
structured fields."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from casecast.models.outcome.features import CaseMatrices
from casecast.models.outcome.learners import ChiSquaredTrees, NBLogisticRegression, class_scores

PARAGRAPH_POOLINGS = ("mean", "max", "min", "std", "q90", "q10")


class HoldoutSplit(NamedTuple):
    """Row numbers of all earlier cases and of the latest ones (the calibration hold-out)."""

    earlier: np.ndarray
    holdout: np.ndarray


class OutOfFold(NamedTuple):
    """What fitting the stack leaves for its calibration."""

    scores: np.ndarray  # every training case's base scores, out of fold
    holdout_scores: np.ndarray | None  # the hold-out's, by learners of the earlier cases


@dataclass
class BaseLearners:
    """One fit of the base learners (per fold, for the hold-out, and the final one)."""

    text: NBLogisticRegression
    paragraphs: NBLogisticRegression
    embedding: NBLogisticRegression | None = None
    trees: ChiSquaredTrees | None = None
    characters: NBLogisticRegression | None = None


class StackedCaseClassifier(BaseEstimator):
    """Base learners on each view of a case, a class-balanced logistic meta learner on top.

    * ``text``: whole-text TF-IDF logistic regression (naive-Bayes weights on binary tasks);
    * ``paragraphs``: the same per paragraph, its scores pooled per case (mean, max, min,
      spread, deciles: one damning paragraph matters even in a long judgment);
    * ``embedding``: logistic regression on the pooled passage vectors (``use_embeddings``);
    * ``text_trees``: LightGBM on the ``tree_features`` TF-IDF columns most associated with
      the outcome (0 leaves it out; ``tree_params`` passes more LightGBM settings);
    * ``text_characters``: logistic regression on character n-grams, when the matrices have
      them.

    Targets are class codes 0..K-1. The meta learner is class-balanced (``class_weight``) so
    that 0.5 stays the balanced threshold whatever the class mix of later years.
    """

    def __init__(
        self,
        text_C: float = 4.0,
        paragraph_C: float = 1.0,
        embedding_C: float = 0.01,
        char_C: float = 4.0,
        meta_C: float = 1.0,
        tree_features: int = 20_000,
        tree_estimators: int = 300,
        tree_params: Mapping[str, Any] | None = None,
        use_embeddings: bool = True,
        class_weight: str | None = "balanced",
        n_folds: int = 5,
        random_state: int = 0,
        n_jobs: int = 2,
    ) -> None:
        self.text_C = text_C
        self.paragraph_C = paragraph_C
        self.embedding_C = embedding_C
        self.char_C = char_C
        self.meta_C = meta_C
        self.tree_features = tree_features
        self.tree_estimators = tree_estimators
        self.tree_params = tree_params
        self.use_embeddings = use_embeddings
        self.class_weight = class_weight
        self.n_folds = n_folds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, m: CaseMatrices, target: np.ndarray) -> StackedCaseClassifier:
        self.fit_out_of_fold(m, target)
        return self

    def fit_out_of_fold(
        self, m: CaseMatrices, target: np.ndarray, holdout: HoldoutSplit | None = None
    ) -> OutOfFold:
        """Fit, returning the out-of-fold scores and, given a ``holdout`` split, the hold-out's
        scores by base learners fitted on the earlier cases alone (the calibration's input).

        Every base fit runs in ``n_jobs`` threads: liblinear and LightGBM release the GIL.
        """
        self.n_classes_ = len(np.unique(target))
        folds = self.folds(target)
        if holdout is not None:
            folds.append((holdout.earlier, holdout.holdout))

        def fit_on(rows: np.ndarray | None) -> BaseLearners:
            return self.fit_base(m if rows is None else m.take(rows), target, rows)

        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(fit_on)(rows) for rows in [*(fit_part for fit_part, _ in folds), None]
        )
        self.base_ = fitted[-1]
        blocks = [
            self.score_block(base, m.take(score_part))
            for base, (_, score_part) in zip(fitted[:-1], folds, strict=True)
        ]
        holdout_scores = blocks.pop() if holdout is not None else None
        scores = np.zeros((len(target), blocks[0].shape[1]))
        for block, (_, score_part) in zip(blocks, folds[: len(blocks)], strict=True):
            scores[score_part] = block
        self.meta_scaler_, self.meta_model_ = self.fit_meta(scores, m.structured, target)
        return OutOfFold(scores, holdout_scores)

    def predict_log_proba(self, m: CaseMatrices) -> np.ndarray:
        check_is_fitted(self, "meta_model_")
        return self.meta_log_proba(
            self.meta_scaler_, self.meta_model_, self.score_block(self.base_, m), m.structured
        )

    def fit_base(
        self, m: CaseMatrices, target: np.ndarray, rows: np.ndarray | None = None
    ) -> BaseLearners:
        """The base learners fitted on ``m``'s cases (``target[rows]`` when rows are given)."""
        if rows is not None:
            target = target[rows]
        learners = BaseLearners(
            text=self._linear(self.text_C).fit(m.text, target),
            paragraphs=self._linear(self.paragraph_C).fit(m.paragraphs, target[m.paragraph_owner]),
        )
        if self.use_embeddings:
            learners.embedding = self._linear(self.embedding_C, naive_bayes=False).fit(
                m.embeddings, target
            )
        if self.tree_features:
            trees = ChiSquaredTrees(
                n_columns=self.tree_features,
                n_estimators=self.tree_estimators,
                random_state=self.random_state,
                **(self.tree_params or {}),
            )
            learners.trees = trees.fit(m.text, target)
        if m.characters is not None:
            learners.characters = self._linear(self.char_C, naive_bayes=False).fit(
                m.characters, target
            )
        return learners

    def base_scores(self, base: BaseLearners, m: CaseMatrices) -> dict[str, np.ndarray]:
        """Each base learner's scores for ``m``'s cases, in the meta learner's column order."""
        k = self.n_classes_
        scores = {"text": class_scores(base.text, m.text, k)}
        paragraph_scores = class_scores(base.paragraphs, m.paragraphs, k)
        scores["paragraphs"] = pool_by_owner(paragraph_scores, m.paragraph_owner, len(m))
        if base.embedding is not None:
            scores["embedding"] = class_scores(base.embedding, m.embeddings, k)
        if base.trees is not None:
            scores["text_trees"] = class_scores(base.trees, m.text, k)
        if base.characters is not None and m.characters is not None:
            scores["text_characters"] = class_scores(base.characters, m.characters, k)
        return scores

    def score_block(self, base: BaseLearners, m: CaseMatrices) -> np.ndarray:
        return np.hstack(list(self.base_scores(base, m).values()))

    def fit_meta(
        self, scores: np.ndarray, structured: np.ndarray, target: np.ndarray
    ) -> tuple[StandardScaler, LogisticRegression]:
        scaler = StandardScaler().fit(scores)
        meta = LogisticRegression(C=self.meta_C, class_weight=self.class_weight, max_iter=5000)
        return scaler, meta.fit(_meta_input(scaler, scores, structured), target)

    @staticmethod
    def meta_log_proba(
        scaler: StandardScaler, meta: LogisticRegression, scores: np.ndarray, structured: Any
    ) -> np.ndarray:
        return meta.predict_log_proba(_meta_input(scaler, scores, structured))

    def score_names(self, class_names: list[str]) -> list[str]:
        """The meta learner's score columns, named ``<learner>:<class>``."""
        check_is_fitted(self, "base_")
        names = class_names if self.n_classes_ > 2 else ["score"]
        out = [f"text:{s}" for s in names]
        out += [f"paragraphs_{p}:{s}" for s in names for p in PARAGRAPH_POOLINGS]
        for learner, name in (
            (self.base_.embedding, "embedding"),
            (self.base_.trees, "text_trees"),
            (self.base_.characters, "text_characters"),
        ):
            if learner is not None:
                out += [f"{name}:{s}" for s in names]
        return out

    def folds(self, target: np.ndarray, n_folds: int | None = None) -> list[tuple[Any, Any]]:
        """Stratified folds where every class has a case in each, else plain ones."""
        smallest = min(Counter(target.tolist()).values())
        n_splits = max(2, min(n_folds or self.n_folds, len(target) // 2))
        index = np.zeros(len(target))
        if smallest >= n_splits:
            splitter: Any = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
            return list(splitter.split(index, target))
        return list(KFold(n_splits, shuffle=True, random_state=self.random_state).split(index))

    def _linear(self, C: float, naive_bayes: bool = True) -> NBLogisticRegression:
        return NBLogisticRegression(
            C=C,
            naive_bayes=naive_bayes,
            class_weight="balanced" if self.class_weight == "balanced" else None,
            random_state=self.random_state,
        )


def _meta_input(scaler: StandardScaler, scores: np.ndarray, structured: np.ndarray) -> np.ndarray:
    """The meta learner's input, built one way for fitting, calibrating and predicting."""
    return np.hstack([scaler.transform(scores), structured])


def pool_by_owner(scores: np.ndarray, owner: np.ndarray, n_cases: int) -> np.ndarray:
    """Per case and score column: mean, max, min, spread and deciles of its paragraphs."""
    out = np.zeros((n_cases, scores.shape[1] * len(PARAGRAPH_POOLINGS)))
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(n_cases + 1))
    for case in range(n_cases):
        part = scores[order[bounds[case] : bounds[case + 1]]]
        if len(part) == 0:
            continue
        stats = [
            part.mean(axis=0),
            part.max(axis=0),
            part.min(axis=0),
            part.std(axis=0),
            np.quantile(part, 0.9, axis=0),
            np.quantile(part, 0.1, axis=0),
        ]
        out[case] = np.stack(stats, axis=1).ravel()  # column-major: score, then pooling
    return out
