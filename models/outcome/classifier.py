"""The outcome classifier: raw cases (facts text + structured inputs) in, probabilities out.

One estimator owns every step from text to probability, so the object that is evaluated is
the object that is logged to MLflow and served. It composes the pieces of this package:
``CasePreparer`` (paragraphs, passages, vectors), ``CaseFeatures`` (matrices),
``StackedCaseClassifier`` (base learners and meta learner), ``TemperatureCalibrator`` (fitted
on the latest training cases as scored by a stack of the earlier ones), ``ArticleHeads``
(ECHR) and ``OcclusionExplainer`` (reasons). ``docs/decisions.md`` records why each is so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from casecast.features.embedding import SentenceEmbedder
from casecast.features.pooling import pool
from casecast.models.class_mix import ClassMix
from casecast.models.outcome.allowed import AllowedOutcomes
from casecast.models.outcome.articles import (
    ArticleEstimate,
    ArticleHeads,
    answer_articles,
)
from casecast.models.outcome.calibration import TemperatureCalibrator, latest_holdout, time_order
from casecast.models.outcome.cases import CasePreparer, PreparedCases, input_frame
from casecast.models.outcome.explain import Effect, OcclusionExplainer
from casecast.models.outcome.features import CaseFeatures, CaseMatrices, record_fields
from casecast.models.outcome.stack import StackedCaseClassifier

# Bumped when a fitted model's attributes change meaning: a model pickled by another format
# is refused at load time with what to do, instead of failing on its first prediction.
FORMAT_VERSION = 3  # 3: the text language (section parser) and word stemmer


@dataclass
class OutcomeDetails:
    """Everything one pass over a batch of cases gives."""

    probabilities: np.ndarray  # (cases, classes), columns in ``classes_`` order
    reasons: list[list[Effect]] | None  # per case, when asked
    articles: list[list[ArticleEstimate]] | None  # per case, for models with article heads
    vectors: np.ndarray | None = None  # (cases, dimension) text embeddings, when asked


class CaseOutcomeClassifier(ClassifierMixin, BaseEstimator):
    """Stacked text learners and the structured fields, calibrated on later cases.

    Passages: ``chunk_tokens``/``chunk_overlap``, ``max_chunks_per_case`` embedded per case
    (0 = all). Fields: ``categorical``, ``numeric``; ``time_column`` orders cases for the
    calibration hold-out (the latest ``calibration_fraction``; row order when unset). Text
    features: ``tfidf_max_features`` (whole texts), ``paragraph_tfidf_max_features``,
    ``char_features`` (0 = no character learner), ``stemmer`` (a Snowball algorithm for the
    words); ``language`` of the texts: sections that state the outcome are taken out of
    texts in languages that have a section parser (Russian). Learners: the ``*_C`` penalties,
    ``tree_features`` (0 = no trees), ``tree_estimators`` and further LightGBM settings in
    ``tree_params``; ``article_C`` for the article heads. ``allowed_outcomes`` ({field:
    {value: classes}}) names the classes the law allows a case with that value (a kind of
    proceeding); the others get no probability. ``track_record`` ({keys, window, half_life,
    shrinkage, panel}) adds the outcome rates of earlier decisions per group of cases and, with
    ``panel`` ({reader, path, seats, keys}), the bench members' earlier votes, as fields
    (``casecast.features.track_record``). ``n_jobs`` workers fit side by side.
    """

    def __init__(
        self,
        embedder: SentenceEmbedder | None = None,
        chunk_tokens: int = 128,
        chunk_overlap: int = 16,
        max_chunks_per_case: int = 2,
        categorical: Sequence[str] = ("respondent",),
        numeric: Sequence[str] = ("year",),
        time_column: str | None = "year",
        tfidf_max_features: int = 200_000,
        paragraph_tfidf_max_features: int = 300_000,
        text_C: float = 4.0,
        paragraph_C: float = 1.0,
        embedding_C: float = 0.01,
        meta_C: float = 1.0,
        tree_features: int = 20_000,
        tree_estimators: int = 300,
        tree_params: Mapping[str, Any] | None = None,
        char_features: int = 200_000,
        char_C: float = 4.0,
        article_C: float = 32.0,
        use_embeddings: bool = True,
        language: str = "en",
        stemmer: str | None = None,
        class_weight: str | None = "balanced",
        n_folds: int = 5,
        calibration_fraction: float = 0.2,
        allowed_outcomes: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
        track_record: Mapping[str, Any] | None = None,
        random_state: int = 0,
        n_jobs: int = 2,
    ) -> None:
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.chunk_overlap = chunk_overlap
        self.max_chunks_per_case = max_chunks_per_case
        self.categorical = categorical
        self.numeric = numeric
        self.time_column = time_column
        self.tfidf_max_features = tfidf_max_features
        self.paragraph_tfidf_max_features = paragraph_tfidf_max_features
        self.text_C = text_C
        self.paragraph_C = paragraph_C
        self.embedding_C = embedding_C
        self.meta_C = meta_C
        self.tree_features = tree_features
        self.tree_estimators = tree_estimators
        self.tree_params = tree_params
        self.char_features = char_features
        self.char_C = char_C
        self.article_C = article_C
        self.use_embeddings = use_embeddings
        self.language = language
        self.stemmer = stemmer
        self.class_weight = class_weight
        self.n_folds = n_folds
        self.calibration_fraction = calibration_fraction
        self.allowed_outcomes = allowed_outcomes
        self.track_record = track_record
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- learning ---------------------------------------------------------------------------

    def fit(
        self,
        X: pd.DataFrame,
        y: Sequence[Any] | np.ndarray,
        articles: Sequence[Sequence[str]] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> CaseOutcomeClassifier:
        """Fit the stack and its calibration; ``articles`` (a list per case) adds article heads."""
        frame = self._frame(X)
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise ValueError("training needs at least two outcome classes")
        if articles is not None and len(articles) != len(labels):
            raise ValueError("articles needs one list of articles per case")
        self.preparer_ = self._preparer().fit()
        cases = self.preparer_.transform(frame, progress)
        self.features_ = CaseFeatures(
            categorical=self.categorical,
            numeric=self.numeric,
            text_max_features=self.tfidf_max_features,
            paragraph_max_features=self.paragraph_tfidf_max_features,
            char_features=self.char_features,
            stemmer=self.stemmer,
            track_record=self.track_record,
            time_column=self.time_column,
            n_jobs=self.n_jobs,
        )
        matrices = self.features_.fit_transform(cases, labels, self._panel_votes())
        self.allowed_outcomes_ = AllowedOutcomes.from_rules(
            self.allowed_outcomes or {}, self.features_, self.classes_
        )
        target = np.searchsorted(self.classes_, labels)
        self.stack_ = StackedCaseClassifier(
            text_C=self.text_C,
            paragraph_C=self.paragraph_C,
            embedding_C=self.embedding_C,
            char_C=self.char_C,
            meta_C=self.meta_C,
            tree_features=self.tree_features,
            tree_estimators=self.tree_estimators,
            tree_params=self.tree_params,
            use_embeddings=self.use_embeddings,
            class_weight=self.class_weight,
            n_folds=self.n_folds,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message=".*least populated class.*")
            self._fit_stack_and_calibration(matrices, target, cases.inputs)
            self.articles_ = None
            self.article_class_ = None
            if articles is not None:
                # The outcome of the cases that name articles (ECHR: violation). The heads
                # learn which articles such a case names, P(article | that outcome), on its
                # cases alone; an article's probability is that times the outcome's.
                named = [label for label, found in zip(labels, articles, strict=True) if found]
                self.article_class_ = max(set(named), key=named.count) if named else None
                rows = np.flatnonzero(labels == self.article_class_)
                self.articles_ = ArticleHeads(
                    C=self.article_C, random_state=self.random_state, n_jobs=self.n_jobs
                ).fit(matrices.text[rows], [articles[int(i)] for i in rows], self.stack_.folds)
                self.articles_given_outcome_ = True
        self.n_features_in_ = frame.shape[1]
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.format_version_ = FORMAT_VERSION
        return self

    def _fit_stack_and_calibration(
        self, matrices: CaseMatrices, target: np.ndarray, inputs: pd.DataFrame
    ) -> None:
        """The stack, and a temperature learnt on the latest cases as scored by a stack of
        the earlier ones (base learners of the earlier cases, a meta learner refitted on the
        earlier cases' out-of-fold scores), so the hold-out is scored as later cases will be.
        """
        order = time_order(inputs, self.time_column)
        holdout = latest_holdout(target, order, self.calibration_fraction, len(self.classes_))
        scores, holdout_scores = self.stack_.fit_out_of_fold(matrices, target, holdout)
        self.calibration_ = None
        if holdout is None or holdout_scores is None:
            return
        earlier, later = holdout
        scaler, meta = self.stack_.fit_meta(
            scores[earlier], matrices.structured[earlier], target[earlier]
        )
        log_proba = self.stack_.meta_log_proba(
            scaler, meta, holdout_scores, matrices.structured[later]
        )
        first = None
        if self.time_column and self.time_column in inputs:
            when = pd.to_numeric(inputs[self.time_column], errors="coerce").iloc[later].min()
            first = None if pd.isna(when) else int(when)
        n_classes = len(self.classes_)
        decisions = self.allowed_outcomes_.apply(
            softmax(log_proba, axis=1), matrices.structured[later]
        ).argmax(axis=1)
        self.calibration_ = TemperatureCalibrator(balanced=self._balanced).fit(
            log_proba,
            target[later],
            training_mix=np.bincount(target, minlength=n_classes) / len(target),
            holdout_from=first,
            decisions=decisions,
        )

    def _panel_votes(self) -> pd.DataFrame | None:
        panel = (self.track_record or {}).get("panel")
        if not panel:
            return None
        from casecast.data.votes import read_votes

        return read_votes(panel["reader"], panel["path"])

    def add_decisions(
        self, X: pd.DataFrame, y: Sequence[Any] | np.ndarray
    ) -> CaseOutcomeClassifier:
        """Newer labelled decisions into the track records: later cases' record features
        count them (a case's own time and later ones never); nothing is refitted."""
        check_is_fitted(self, "stack_")
        self.features_.add_decisions(self._frame(X), np.asarray(y))
        return self

    # -- inference --------------------------------------------------------------------------

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "stack_")
        return self._proba(self.features_.transform(self.prepare(X)))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predict_details(
        self, X: pd.DataFrame, explain: bool = False, top_k: int = 3, vectors: bool = False
    ) -> OutcomeDetails:
        """Probabilities, reasons (when asked), article estimates (when modelled) and each
        case's text embedding (when asked: the mean of its embedded passages' vectors, what
        drift monitoring compares) from one pass: the text is split, embedded and vectorised
        once, as serving needs."""
        check_is_fitted(self, "stack_")
        cases = self.prepare(X)
        matrices = self.features_.transform(cases)
        proba = self._proba(matrices)
        reasons = None
        if explain:
            explainer = OcclusionExplainer(
                self.features_,
                self._proba,
                (*self.categorical, *self.numeric),
                [str(c) for c in self.classes_],
            )
            reasons = [explainer.explain(cases, i, proba[i], top_k) for i in range(len(proba))]
        articles = None
        if self.articles_:
            articles = answer_articles(
                self.articles_.predict(matrices.text),
                proba,
                list(self.classes_),
                getattr(self, "article_class_", None),
                getattr(self, "articles_given_outcome_", False),
            )
        case_vectors = pool(cases.vectors, cases.dimension, ("mean",)) if vectors else None
        return OutcomeDetails(proba, reasons, articles, case_vectors)

    def explain(self, X: pd.DataFrame, top_k: int = 3) -> list[list[Effect]]:
        """For each case, the passages and fields that moved its predicted class the most."""
        reasons = self.predict_details(X, explain=True, top_k=top_k).reasons
        return reasons if reasons is not None else []

    def prepare(
        self,
        X: pd.DataFrame,
        progress: Callable[[int], None] | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> PreparedCases:
        """Split, chunk and embed (only the passages the budget allows), reading the cache.

        Callable before ``fit`` too: training embeds the whole corpus once, with a progress
        bar, before the temporal split fits on parts of it.
        """
        preparer = getattr(self, "preparer_", None) or self._preparer().fit()
        return preparer.transform(self._frame(X), progress, on_total)

    @property
    def embedder_(self) -> SentenceEmbedder:
        """The fitted embedder (its model id and truncation identify the vectors)."""
        check_is_fitted(self, "preparer_")
        return self.preparer_.embedder_

    @property
    def article_labels(self) -> list[str]:
        """The articles this model estimates (none for data sets without article heads)."""
        heads = getattr(self, "articles_", None)
        return list(heads.labels_) if heads is not None else []

    def estimate_class_mix(self, probabilities: np.ndarray) -> ClassMix | None:
        """The class shares among cases, from this model's probabilities for them (no
        labels), with each share's standard error; None without a calibration hold-out."""
        check_is_fitted(self, "stack_")
        return (
            None
            if self.calibration_ is None
            else self.calibration_.estimate_class_mix(probabilities)
        )

    def at_class_mix(
        self, probabilities: np.ndarray, mix: Sequence[float] | np.ndarray
    ) -> np.ndarray:
        """``probabilities`` restated for cases whose classes come in shares ``mix``; the
        decision is unchanged (balanced models decide at the balanced threshold)."""
        check_is_fitted(self, "stack_")
        if self.calibration_ is None:
            raise ValueError("this model has no calibration hold-out, so no reference class mix")
        if len(mix) != len(self.classes_):
            raise ValueError(f"the class mix needs one positive share per class {self.classes_}")
        return self.calibration_.at_class_mix(probabilities, mix)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The meta learner's inputs: base-learner scores, then numbers, then categories."""
        check_is_fitted(self, "stack_")
        names = self.stack_.score_names([str(c) for c in self.classes_])
        return np.asarray(names + self.features_.structured_names(), dtype=object)

    # -- internals --------------------------------------------------------------------------

    def _proba(self, m: CaseMatrices) -> np.ndarray:
        log_proba = self.stack_.predict_log_proba(m)
        if self.calibration_ is None:
            proba = softmax(log_proba, axis=1)
        else:
            proba = self.calibration_.transform(log_proba)
        # Models of an earlier build have no rules: every class stays possible.
        allowed = getattr(self, "allowed_outcomes_", None)
        return proba if allowed is None else allowed.apply(proba, m.structured)

    def _preparer(self) -> CasePreparer:
        return CasePreparer(
            embedder=self.embedder,
            chunk_tokens=self.chunk_tokens,
            chunk_overlap=self.chunk_overlap,
            max_chunks_per_case=self.max_chunks_per_case,
            use_embeddings=self.use_embeddings,
            language=self.language,
        )

    def _frame(self, X: Any) -> pd.DataFrame:
        # Fields a record is kept by are read even where no learner reads them as such.
        categorical = (*self.categorical, *record_fields(self.track_record, self))
        return input_frame(X, categorical, self.numeric)

    @property
    def _balanced(self) -> bool:
        return self.class_weight == "balanced"
