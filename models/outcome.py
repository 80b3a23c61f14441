"""The outcome classifier: raw cases (facts text + structured inputs) in, probabilities out.

One estimator owns every step from text to probability, so the object that is evaluated is
the object that is logged to MLflow and served; nothing is re-implemented elsewhere.

It is a stack, chosen on a temporal validation (fit up to 2010, score 2011–2013 on ECHR):

* base learners, each scored out of fold on the training cases: a TF-IDF logistic regression
  on the whole text (with naive-Bayes feature weights on binary tasks, which helped most), a
  per-paragraph text model whose scores are pooled per case (mean, max, min, spread, deciles:
  one damning paragraph matters even in a long judgment), a logistic regression on the
  pooled passage embeddings, gradient-boosted trees (LightGBM) on the ``tree_features``
  TF-IDF columns most associated with the outcome (trees combine words non-linearly: on
  ECHR 2011-2013 they lift macro-F1 from 0.829 to 0.838, gaining in 2011 and 2012), and a
  logistic regression on character 3-5-grams inside words (``char_features`` columns),
  which reads inflections, names and numbers that word features split apart (ECHR: ROC-AUC
  0.914 -> 0.915 on 2011-2013, macro-F1 0.864 -> 0.868 on 2009-2010; Russian macro-F1
  0.506 -> 0.520);
* a logistic-regression meta learner over those scores plus the structured fields (one-hot
  categories, scaled numbers, text lengths), class-balanced so that the 0.5 threshold stays
  the balanced choice whatever the class mix of later years;
* calibration on a temporal hold-out: one more base fit, on the earlier cases, scores the
  latest ``calibration_fraction`` of them, a meta learner is refitted on the earlier cases'
  out-of-fold scores, and a temperature learnt on the hold-out (class-balanced log-loss) is
  applied to the final stack. (A whole stack refitted on the earlier cases gave the same
  temperatures within noise, ECHR 2011-2013 Brier 0.1136 either way, for five more base
  fits: 23% of an ECHR fit.) A temperature sharpens or
  softens without moving the decision boundary, so the balanced threshold survives; a Platt
  intercept learnt on 2009–2010 moved it and cost 0.8 macro-F1 points on 2011–2013.

Reasons come from occlusion: each passage (and each structured field) is removed in turn and
the change in the predicted class's probability is its effect. Removing a passage costs no
new embedding, since its chunk vectors are already known, so explanations stay cheap. A text
of a single passage (a claimant's short account) is explained sentence by sentence instead,
since removing its only passage says nothing about which words matter; its passage vector
is kept, so a sentence's effect comes from its words. A field is not removed but set to the
average training case (its one-hot columns to their training frequencies): "no respondent
state" is a case the model never saw, and an effect measured against it read as if Russia
lowered the chance of a violation.

ECHR cases can also carry their violated articles: ``fit(..., articles=...)`` adds one
TF-IDF logistic head per article with enough cases, with a threshold chosen out of fold.
"""

from __future__ import annotations

import threading
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from lightgbm import LGBMClassifier
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import chi2
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from data.schema import TEXT_COLUMN
from data.text import split_paragraphs, split_sentences
from features.chunking import Chunk, ParagraphChunker, spread_positions
from features.embedding import SentenceEmbedder
from features.pooling import pool
from features.tabular import DelimitedOneHotEncoder
from features.text import CharNgramTfidf, legal_tfidf
from models.class_mix import (
    ClassMix,
    class_mix_error,
    decision_rates,
    estimate_class_mix,
    reweight,
)

POOLINGS = ("mean", "max")
PARAGRAPH_POOLINGS = ("mean", "max", "min", "std", "q90", "q10")
EXCERPT_CHARS = 400
MIN_CALIBRATION_CASES = 40
MIN_ARTICLE_CASES = 20
MAX_EXPLAINED_PASSAGES = 200  # occlusion cost grows with the passages of a case
FLOOR = 1e-6
DENSE_TREE_CELLS = 250_000_000  # 1 GB of float32: above it the tree learner reads sparse input
_DUAL_LIBLINEAR = threading.Lock()  # see _fit_linear


@dataclass
class PreparedCases:
    """Cases split into paragraphs and chunks, with the vectors of the chunks embedded."""

    paragraphs: list[list[str]]
    chunks: list[list[Chunk]]
    embedded: list[list[int]]  # positions in ``chunks`` that carry a vector
    vectors: list[np.ndarray]  # one (len(embedded), dim) matrix per case
    inputs: pd.DataFrame


@dataclass
class _Matrices:
    """Everything the learners read, for a set of cases, computed once per fit or call."""

    text: sparse.csr_matrix
    paragraphs: sparse.csr_matrix
    paragraph_owner: np.ndarray  # case row of each paragraph row
    embeddings: np.ndarray
    structured: np.ndarray
    characters: sparse.csr_matrix | None = None  # character n-gram TF-IDF, when modelled


@dataclass
class _Stack:
    """Fitted base learners and meta learner (one per calibration fold, one final)."""

    nb_weights: np.ndarray | None
    text_model: LogisticRegression
    paragraph_nb_weights: np.ndarray | None
    paragraph_model: LogisticRegression
    embedding_model: LogisticRegression | None
    meta_scaler: StandardScaler | None = None
    meta_model: LogisticRegression | None = None
    # The boosted-trees text learner (absent from models fitted before it existed).
    tree_columns: np.ndarray | None = None
    tree_model: LGBMClassifier | None = None
    # The character n-gram learner (likewise; older pickles read these class defaults).
    char_model: LogisticRegression | None = None


class _HoldoutSplit(NamedTuple):
    """Row numbers of the latest cases (the calibration hold-out) and of all earlier ones."""

    earlier: np.ndarray
    holdout: np.ndarray


class CaseOutcomeClassifier(ClassifierMixin, BaseEstimator):
    """Stacked text learners and the structured fields, calibrated on later cases.

    ``max_chunks_per_case`` bounds the tokens embedded per case (0 = every chunk), spreading
    the chosen chunks over the text. ``time_column`` orders cases for the calibration
    hold-out (row order when unset or missing). ``n_jobs`` workers fit the vectorisers
    (processes) and the cross-validation folds (threads) side by side. ``tree_features=0``
    leaves the boosted-trees learner out and ``char_features=0`` the character n-gram one.
    ``article_C``: the article heads' penalty (ECHR micro-F1 0.608 -> 0.623 on 2011-2013 and
    0.640 -> 0.649 on 2009-2013 at 16 instead of the text learner's 4).
    """

    def __init__(
        self,
        embedder: SentenceEmbedder | None = None,
        chunk_tokens: int = 128,
        chunk_overlap: int = 16,
        max_chunks_per_case: int = 2,
        categorical: Sequence[str] = ("respondent",),
        numeric: Sequence[str] = ("year",),
        field_labels: Mapping[str, str] | None = None,
        time_column: str | None = "year",
        tfidf_max_features: int = 200_000,
        text_C: float = 4.0,
        paragraph_C: float = 1.0,
        embedding_C: float = 0.01,
        meta_C: float = 1.0,
        tree_features: int = 20_000,
        tree_estimators: int = 300,
        char_features: int = 200_000,
        char_C: float = 4.0,
        article_C: float = 16.0,
        use_embeddings: bool = True,
        class_weight: str | None = "balanced",
        n_folds: int = 5,
        calibration_fraction: float = 0.2,
        random_state: int = 0,
        n_jobs: int = 2,
    ) -> None:
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.chunk_overlap = chunk_overlap
        self.max_chunks_per_case = max_chunks_per_case
        self.categorical = categorical
        self.numeric = numeric
        self.field_labels = field_labels
        self.time_column = time_column
        self.tfidf_max_features = tfidf_max_features
        self.text_C = text_C
        self.paragraph_C = paragraph_C
        self.embedding_C = embedding_C
        self.meta_C = meta_C
        self.tree_features = tree_features
        self.tree_estimators = tree_estimators
        self.char_features = char_features
        self.char_C = char_C
        self.article_C = article_C
        self.use_embeddings = use_embeddings
        self.class_weight = class_weight
        self.n_folds = n_folds
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- learning ---------------------------------------------------------------------------

    def fit(
        self,
        X: pd.DataFrame,
        y: Sequence[Any],
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
        self._build_components()
        cases = self.prepare(frame, progress)
        texts = [_join(p) for p in cases.paragraphs]
        flat = [p for case in cases.paragraphs for p in case]
        min_df = min(3, len(texts))
        vectorizers: list[tuple[Any, list[str]]] = [
            # Paragraphs: more of them share words, so a stricter max_df and more columns.
            (legal_tfidf(300_000, min_df=min_df, max_df=0.5), flat or texts),
            (legal_tfidf(self.tfidf_max_features, min_df=min_df), texts),
        ]
        if self.char_features:
            char_min_df = min(5, len(texts))
            vectorizers.append(
                (CharNgramTfidf(max_features=self.char_features, min_df=char_min_df), texts)
            )
        # Tokenising is pure Python, held by the GIL: processes, not threads, fit the
        # vectorisers side by side (each returns its fitted self and its matrix).
        fitted = Parallel(n_jobs=min(self.n_jobs, len(vectorizers)))(
            delayed(_fit_vectorizer)(vectorizer, documents) for vectorizer, documents in vectorizers
        )
        (self.paragraph_vectorizer_, paragraph_matrix), (self.text_vectorizer_, text_matrix) = (
            fitted[:2]
        )
        paragraph_matrix = paragraph_matrix[: len(flat)]
        self.char_vectorizer_, char_matrix = fitted[2] if self.char_features else (None, None)
        self.embedding_scaler_ = StandardScaler().fit(self._pooled(cases.vectors))
        self.categorical_encoder_ = DelimitedOneHotEncoder(min_frequency=5).fit(
            cases.inputs[list(self.categorical)]
        )
        numeric = self._numeric_frame(cases)
        self.numeric_imputer_ = SimpleImputer(strategy="median", keep_empty_features=True).fit(
            numeric
        )
        self.numeric_scaler_ = StandardScaler().fit(self.numeric_imputer_.transform(numeric))
        matrices = self._matrices(cases, text_matrix, paragraph_matrix, char_matrix)
        # The average training case's fields: the reference a field's reason is measured to.
        self.structured_reference_ = matrices.structured.mean(axis=0)
        target = np.searchsorted(self.classes_, labels)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message=".*least populated class.*")
            split = self._calibration_holdout(target, cases.inputs)
            self.stack_, scores, holdout_scores = self._fit_stack(matrices, target, split)
            self.calibration_ = None
            if split is not None and holdout_scores is not None:
                self.calibration_ = self._fit_calibration(
                    scores, holdout_scores, matrices.structured, target, split, cases.inputs
                )
            if articles is not None:
                self._fit_articles(matrices.text, articles)
        self.n_features_in_ = frame.shape[1]
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        return self

    # -- inference --------------------------------------------------------------------------

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "stack_")
        return self._proba(self._matrices(self.prepare(X)))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def estimate_class_mix(self, probabilities: np.ndarray) -> ClassMix | None:
        """The class shares among cases, from this model's probabilities for them (no labels),
        with each share's standard error.

        None when the model has no hold-out decision rates (fitted without a calibration
        hold-out, or before they were kept). Models fitted before the hold-out's class counts
        were kept give the error of the batch's noise alone, a lower bound.
        """
        check_is_fitted(self, "stack_")
        calibration = self.calibration_ or {}
        if calibration.get("decision_rates") is None:
            return None
        rates = np.asarray(calibration["decision_rates"])
        rate_cases = calibration.get("holdout_class_cases")
        if rate_cases is not None:
            rate_cases = np.asarray(rate_cases)
        decisions = np.asarray(probabilities).argmax(axis=1)
        return ClassMix(
            estimate_class_mix(rates, decisions), class_mix_error(rates, decisions, rate_cases)
        )

    def at_class_mix(self, probabilities: np.ndarray, mix: Sequence[float]) -> np.ndarray:
        """``probabilities`` restated for cases whose classes come in shares ``mix``.

        The decision is unchanged: read it from the probabilities as predicted (balanced
        models decide at the balanced threshold whatever the mix).
        """
        check_is_fitted(self, "stack_")
        reference = (self.calibration_ or {}).get("reference_mix")
        if reference is None:
            raise ValueError("this model does not record the class mix it was calibrated for")
        if len(mix) != len(self.classes_) or min(mix) <= 0:
            raise ValueError(f"the class mix needs one positive share per class {self.classes_}")
        return reweight(np.asarray(probabilities), np.asarray(reference), np.asarray(mix))

    def predict_articles(self, X: pd.DataFrame) -> list[list[dict[str, Any]]]:
        """Per case, every modelled article with its probability and the thresholded call."""
        articles = self.predict_with_details(X)[2]
        return articles if articles is not None else [[] for _ in range(len(X))]

    @property
    def has_articles(self) -> bool:
        return bool(getattr(self, "article_labels_", None))

    def explain(self, X: pd.DataFrame, top_k: int = 3) -> list[list[dict[str, Any]]]:
        """For each case, the passages and fields that moved its predicted class the most."""
        reasons = self.predict_with_details(X, explain=True, top_k=top_k)[1]
        assert reasons is not None
        return reasons

    def predict_with_details(
        self, X: pd.DataFrame, explain: bool = False, top_k: int = 3
    ) -> tuple[np.ndarray, list[list[dict[str, Any]]] | None, list[list[dict[str, Any]]] | None]:
        """Probabilities, reasons (when asked) and article answers (when modelled) from one
        pass: the text is split, embedded and vectorised once, as serving needs."""
        check_is_fitted(self, "stack_")
        cases = self.prepare(X)
        matrices = self._matrices(cases)
        proba = self._proba(matrices)
        reasons = (
            [self._explain_one(cases, i, proba[i], top_k) for i in range(len(proba))]
            if explain
            else None
        )
        articles = self._article_answers(matrices.text) if self.has_articles else None
        return proba, reasons, articles

    def prepare(
        self,
        frame: pd.DataFrame,
        progress: Callable[[int], None] | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> PreparedCases:
        """Split, chunk and embed (only the chunks the budget allows), reading the cache.

        Callable before ``fit`` too: training uses it to embed the whole corpus once, with a
        progress bar, before the temporal split fits on parts of it.
        """
        if not hasattr(self, "embedder_"):
            self._build_components()
        frame = self._frame(frame)
        paragraphs = [split_paragraphs(str(t or "")) for t in frame[TEXT_COLUMN]]
        chunks = self.chunker_.transform(paragraphs)
        embedded = [spread_positions(len(c), self.max_chunks_per_case) for c in chunks]
        if not self.use_embeddings:
            embedded = [[] for _ in chunks]
        wanted = [chunks[i][j].text for i, picks in enumerate(embedded) for j in picks]
        if on_total is not None:
            on_total(len(wanted))
        flat = self.embedder_.transform(wanted, progress=progress)
        vectors, start = [], 0
        for picks in embedded:
            vectors.append(flat[start : start + len(picks)])
            start += len(picks)
        inputs = frame.drop(columns=[TEXT_COLUMN]).reset_index(drop=True)
        return PreparedCases(paragraphs, chunks, embedded, vectors, inputs)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The meta learner's inputs: base-learner scores, then numbers, then categories."""
        check_is_fitted(self, "stack_")
        score_names = [str(c) for c in self.classes_] if len(self.classes_) > 2 else ["score"]
        names = [f"text:{s}" for s in score_names]
        names += [f"paragraphs_{p}:{s}" for s in score_names for p in PARAGRAPH_POOLINGS]
        if self.use_embeddings:
            names += [f"embedding:{s}" for s in score_names]
        if self.stack_.tree_model is not None:
            names += [f"text_trees:{s}" for s in score_names]
        if self.stack_.char_model is not None:
            names += [f"text_characters:{s}" for s in score_names]
        return np.asarray(names + self._structured_names(), dtype=object)

    def _structured_names(self) -> list[str]:
        """The structured block's columns: scaled numbers, then one-hot categories."""
        names = [*self.numeric, "log_paragraphs", "log_characters"]
        return names + list(self.categorical_encoder_.get_feature_names_out())

    # -- the stack --------------------------------------------------------------------------

    def _fit_stack(
        self, m: _Matrices, target: np.ndarray, split: _HoldoutSplit | None = None
    ) -> tuple[_Stack, np.ndarray, np.ndarray | None]:
        """Base learners scored out of fold on ``m``'s cases, the meta learner on those scores.

        Returns the stack, the out-of-fold scores and, given a hold-out ``split`` (the latest
        cases), their scores by base learners fitted on the earlier ones, which the calibration
        needs.
        All base fits run in ``n_jobs`` threads: liblinear and LightGBM release the GIL, so
        two cores fit two at once.
        """
        folds = self._folds(target)
        if split is not None:
            folds.append((split.earlier, split.holdout))

        def fit_on(rows: np.ndarray | None) -> _Stack:
            part = m if rows is None else _take(m, rows)
            return self._fit_base(part, target if rows is None else target[rows])

        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(fit_on)(rows) for rows in [*(fit_part for fit_part, _ in folds), None]
        )
        stack = fitted[-1]
        blocks = [
            self._score_block(self._base_scores(base, _take(m, score_part)))
            for base, (_, score_part) in zip(fitted[:-1], folds, strict=True)
        ]
        holdout_scores = blocks.pop() if split is not None else None
        scores = np.zeros((len(target), blocks[0].shape[1]))
        for block, (_, score_part) in zip(blocks, folds[: len(blocks)], strict=True):
            scores[score_part] = block
        stack.meta_scaler, stack.meta_model = self._fit_meta(scores, m.structured, target)
        return stack, scores, holdout_scores

    def _fit_meta(
        self, scores: np.ndarray, structured: np.ndarray, target: np.ndarray
    ) -> tuple[StandardScaler, LogisticRegression]:
        scaler = StandardScaler().fit(scores)
        meta = LogisticRegression(C=self.meta_C, class_weight=self.class_weight, max_iter=5000)
        return scaler, meta.fit(_meta_input(scaler, scores, structured), target)

    def _fit_base(self, m: _Matrices, target: np.ndarray) -> _Stack:
        nb = self._nb_weights(m.text, target)
        text_model = self._fit_learner(self.text_C, _weigh(m.text, nb), target)
        paragraph_target = target[m.paragraph_owner]
        paragraph_nb = self._nb_weights(m.paragraphs, paragraph_target)
        paragraph_model = self._fit_learner(
            self.paragraph_C, _weigh(m.paragraphs, paragraph_nb), paragraph_target
        )
        embedding_model = None
        if self.use_embeddings:
            embedding_model = self._fit_learner(
                self.embedding_C, m.embeddings, target, sparse_text=False
            )
        tree_columns, tree_model = None, None
        if self.tree_features:
            # Trees see the words most tied to the outcome (chi-squared on these cases only)
            # and combine them non-linearly, which the linear text learners cannot.
            tree_columns = _most_associated(m.text, target, self.tree_features)
            tree_model = LGBMClassifier(
                n_estimators=self.tree_estimators,
                learning_rate=0.1,
                num_leaves=15,
                max_bin=15,  # TF-IDF weights need few bins; 255 costs 2.5x the time, no gain
                min_child_samples=20,
                colsample_bytree=0.3,
                subsample=0.8,
                subsample_freq=1,
                random_state=self.random_state,
                n_jobs=1,
                verbose=-1,
            ).fit(_columns(m.text, tree_columns), target)
        char_model = None
        if m.characters is not None:
            char_model = self._fit_learner(self.char_C, m.characters, target)
        return _Stack(
            nb,
            text_model,
            paragraph_nb,
            paragraph_model,
            embedding_model,
            tree_columns=tree_columns,
            tree_model=tree_model,
            char_model=char_model,
        )

    def _base_scores(self, stack: _Stack, m: _Matrices) -> dict[str, np.ndarray]:
        """Each base learner's scores for ``m``'s cases, in the meta learner's column order."""
        scores = {"text": self._scores(stack.text_model, _weigh(m.text, stack.nb_weights))}
        paragraph_scores = self._scores(
            stack.paragraph_model, _weigh(m.paragraphs, stack.paragraph_nb_weights)
        )
        n_cases = len(m.structured)
        scores["paragraphs"] = _pool_by_owner(paragraph_scores, m.paragraph_owner, n_cases)
        if stack.embedding_model is not None:  # fitted exactly when use_embeddings
            scores["embedding"] = self._scores(stack.embedding_model, m.embeddings)
        if stack.tree_model is not None and stack.tree_columns is not None:
            tree_input = _columns(m.text, stack.tree_columns)
            scores["text_trees"] = self._scores(stack.tree_model, tree_input)
        if stack.char_model is not None and m.characters is not None:
            scores["text_characters"] = self._scores(stack.char_model, m.characters)
        return scores

    @staticmethod
    def _score_block(scores: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.hstack(list(scores.values()))

    def _stack_logits(self, stack: _Stack, m: _Matrices) -> np.ndarray:
        assert stack.meta_model is not None and stack.meta_scaler is not None
        scores = self._score_block(self._base_scores(stack, m))
        return stack.meta_model.predict_log_proba(
            _meta_input(stack.meta_scaler, scores, m.structured)
        )

    def _calibration_holdout(
        self, target: np.ndarray, inputs: pd.DataFrame
    ) -> _HoldoutSplit | None:
        """The latest ``calibration_fraction`` of cases and the rest, or None when too few."""
        order = self._time_order(inputs)
        n_holdout = round(len(order) * self.calibration_fraction)
        if n_holdout < MIN_CALIBRATION_CASES or len(order) - n_holdout < MIN_CALIBRATION_CASES:
            return None
        split = _HoldoutSplit(np.sort(order[:-n_holdout]), np.sort(order[-n_holdout:]))
        if len(np.unique(target[split.earlier])) < len(self.classes_):
            return None
        if len(np.unique(target[split.holdout])) < 2:
            return None
        return split

    def _fit_calibration(
        self,
        scores: np.ndarray,
        holdout_scores: np.ndarray,
        structured: np.ndarray,
        target: np.ndarray,
        split: _HoldoutSplit,
        inputs: pd.DataFrame,
    ) -> dict[str, Any]:
        """A temperature learnt on the latest cases, as scored by a stack of the earlier ones.

        The hold-out is scored by base learners fitted on the earlier cases only and a meta
        learner refitted on the earlier cases' out-of-fold scores, so it is scored as later
        cases will be. (The final meta learner, fitted on the hold-out too, came out too
        sharp: ECE 0.023 -> 0.027 on ECHR 2011-2013. Folds built around the hold-out, which
        saved that one extra base fit, changed the final meta learner: Russian ECE 0.058 ->
        0.077 over three seeds.)
        """
        earlier, holdout = split
        scaler, meta = self._fit_meta(scores[earlier], structured[earlier], target[earlier])
        log_proba = meta.predict_log_proba(_meta_input(scaler, holdout_scores, structured[holdout]))
        truth = target[holdout]
        # Class-balanced weights: the fitted temperature does not depend on the hold-out's
        # class mix, and a temperature never moves the balanced 0.5 decision boundary.
        counts = np.bincount(truth, minlength=len(self.classes_)).astype(float)
        weights = 1.0 / counts[truth] if self._balanced else np.ones(len(truth))

        def nll(temperature: float) -> float:
            scaled = log_softmax(log_proba / temperature, axis=1)
            return float(-(weights * scaled[np.arange(len(truth)), truth]).sum() / weights.sum())

        best = minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded")
        # How often the model decides each class for each true class on cases it did not
        # see, and the class mix its probabilities answer for: what restating them for
        # another mix needs (``estimate_class_mix``, ``at_class_mix``).
        n_classes = len(self.classes_)
        rates = decision_rates(truth, log_proba.argmax(axis=1), n_classes)
        reference = (
            np.full(n_classes, 1 / n_classes)
            if self._balanced
            else np.bincount(target, minlength=n_classes) / len(target)
        )
        first = None
        if self.time_column and self.time_column in inputs:
            when = pd.to_numeric(inputs[self.time_column], errors="coerce")
            first = when.iloc[holdout].min()
        return {
            "temperature": float(best.x),
            "holdout_cases": len(holdout),
            "decision_rates": None if rates is None else rates.tolist(),
            # The cases each row of rates was counted on: their noise enters the mix's error.
            "holdout_class_cases": counts.astype(int).tolist(),
            "reference_mix": reference.tolist(),
            # The hold-out's earliest date (None when cases are ordered by row).
            "holdout_from": None if first is None or pd.isna(first) else int(first),
        }

    def _proba(self, m: _Matrices) -> np.ndarray:
        log_proba = self._stack_logits(self.stack_, m)
        temperature = self.calibration_["temperature"] if self.calibration_ else 1.0
        return softmax(log_proba / temperature, axis=1)

    # -- the article heads ------------------------------------------------------------------

    def _fit_articles(self, text: sparse.csr_matrix, articles: Sequence[Sequence[str]]) -> None:
        counts = Counter(a for case in articles for a in set(case))
        self.article_labels_ = sorted(
            (a for a, n in counts.items() if MIN_ARTICLE_CASES <= n <= len(articles) - 5),
            key=_article_key,
        )
        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(self._fit_article)(text, np.asarray([a in case for case in articles], int))
            for a in self.article_labels_
        )
        self.article_thresholds_ = [threshold for threshold, _ in fitted]
        self.article_models_ = [model for _, model in fitted]

    def _fit_article(
        self, text: sparse.csr_matrix, has: np.ndarray
    ) -> tuple[float, LogisticRegression]:
        """One article's head, and its F1-best threshold chosen out of fold."""
        oof = np.zeros(len(has))
        for fit_part, score_part in self._folds(has, n_folds=3):
            model = self._fit_article_head(text[fit_part], has[fit_part])
            oof[score_part] = model.predict_proba(text[score_part])[:, 1]
        return _best_f1_threshold(has, oof), self._fit_article_head(text, has)

    def _fit_article_head(self, text: sparse.csr_matrix, has: np.ndarray) -> LogisticRegression:
        head = _logistic(self.article_C, balanced=False, random_state=self.random_state)
        return _fit_linear(head, text, has)

    def _article_answers(self, text: sparse.csr_matrix) -> list[list[dict[str, Any]]]:
        probabilities = np.column_stack([m.predict_proba(text)[:, 1] for m in self.article_models_])
        return [
            [
                {
                    "article": article,
                    "probability": round(float(p), 4),
                    "predicted": bool(p >= threshold),
                }
                for article, p, threshold in zip(
                    self.article_labels_, row, self.article_thresholds_, strict=True
                )
            ]
            for row in probabilities
        ]

    # -- internals --------------------------------------------------------------------------

    def _fit_learner(
        self, C: float, X: Any, target: np.ndarray, sparse_text: bool = True
    ) -> LogisticRegression:
        learner = _logistic(
            C, self._binary, self._balanced, sparse_text, random_state=self.random_state
        )
        return _fit_linear(learner, X, target)

    @property
    def _balanced(self) -> bool:
        return self.class_weight == "balanced"

    @property
    def _binary(self) -> bool:
        return len(self.classes_) == 2

    @property
    def _n_scores(self) -> int:
        return 1 if self._binary else len(self.classes_)

    def _scores(self, model: LogisticRegression, X: Any) -> np.ndarray:
        """Binary: the log-odds; more classes: centred log-probabilities over all classes.

        A fold may miss a rare class: its column then holds the floor probability.
        """
        log_proba = np.full((X.shape[0], len(self.classes_)), np.log(FLOOR))
        if X.shape[0]:
            log_proba[:, model.classes_] = np.log(np.maximum(model.predict_proba(X), FLOOR))
        if len(self.classes_) == 2:
            return (log_proba[:, 1] - log_proba[:, 0])[:, None]
        return log_proba - log_proba.mean(axis=1, keepdims=True)

    def _nb_weights(self, X: sparse.csr_matrix, target: np.ndarray) -> np.ndarray | None:
        """Naive-Bayes log-count ratios (Wang & Manning 2012), binary tasks only."""
        if len(self.classes_) != 2:
            return None
        present = (X > 0).astype(np.float32)
        positive = np.asarray(present[target == 1].sum(axis=0)).ravel() + 1.0
        negative = np.asarray(present[target == 0].sum(axis=0)).ravel() + 1.0
        return np.log((positive / positive.sum()) / (negative / negative.sum())).astype(np.float32)

    def _folds(self, target: np.ndarray, n_folds: int | None = None) -> list[tuple[Any, Any]]:
        smallest = min(Counter(target.tolist()).values())
        n_splits = max(2, min(n_folds or self.n_folds, len(target) // 2))
        index = np.zeros(len(target))
        if smallest >= n_splits:
            splitter: Any = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
            return list(splitter.split(index, target))
        return list(KFold(n_splits, shuffle=True, random_state=self.random_state).split(index))

    def _time_order(self, inputs: pd.DataFrame) -> np.ndarray:
        """Case rows from earliest to latest (stable; unknown dates count as earliest)."""
        if self.time_column and self.time_column in inputs:
            when = pd.to_numeric(inputs[self.time_column], errors="coerce").fillna(-np.inf)
            return np.argsort(when.to_numpy(), kind="stable")
        return np.arange(len(inputs))

    def _matrices(
        self,
        cases: PreparedCases,
        text: sparse.spmatrix | None = None,
        paragraphs: sparse.spmatrix | None = None,
        characters: sparse.spmatrix | None = None,
    ) -> _Matrices:
        """Learner inputs for ``cases``; the text matrices when already vectorised."""
        texts = [_join(p) for p in cases.paragraphs]
        if text is None:
            text = self.text_vectorizer_.transform(texts)
        char_vectorizer = getattr(self, "char_vectorizer_", None)  # absent from older models
        if characters is None and char_vectorizer is not None:
            characters = char_vectorizer.transform(texts)
        if paragraphs is None:
            flat = [p for case in cases.paragraphs for p in case]
            paragraphs = self.paragraph_vectorizer_.transform(flat)
        owner = np.repeat(np.arange(len(cases.paragraphs)), [len(p) for p in cases.paragraphs])
        embeddings = self.embedding_scaler_.transform(self._pooled(cases.vectors))
        numeric = self.numeric_imputer_.transform(self._numeric_frame(cases))
        categorical = self.categorical_encoder_.transform(cases.inputs[list(self.categorical)])
        # Scaled numbers and raw one-hot columns (scaling a rare category to unit variance
        # would give it the weight of a common one).
        structured = np.hstack(
            [self.numeric_scaler_.transform(numeric), categorical.toarray()]
        ).astype(np.float64)
        return _Matrices(
            text=sparse.csr_matrix(text),
            paragraphs=sparse.csr_matrix(paragraphs),
            paragraph_owner=owner,
            embeddings=embeddings,
            structured=structured,
            characters=None if characters is None else sparse.csr_matrix(characters),
        )

    def _numeric_frame(self, cases: PreparedCases) -> pd.DataFrame:
        numeric = cases.inputs[list(self.numeric)].apply(pd.to_numeric, errors="coerce")
        numeric = numeric.astype(float)
        numeric["log_paragraphs"] = np.log1p([len(p) for p in cases.paragraphs])
        numeric["log_characters"] = np.log1p([sum(map(len, p)) for p in cases.paragraphs])
        return numeric

    def _build_components(self) -> None:
        self.embedder_ = clone(self.embedder or SentenceEmbedder()).fit()
        self.chunker_ = ParagraphChunker(self.chunk_tokens, self.chunk_overlap).fit()

    def _frame(self, X: Any) -> pd.DataFrame:
        frame = X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        if TEXT_COLUMN not in frame.columns:
            raise ValueError(f"input needs a {TEXT_COLUMN!r} column")
        for column in (*self.categorical, *self.numeric):
            if column not in frame.columns:
                frame[column] = None
        return frame[[TEXT_COLUMN, *self.categorical, *self.numeric]].reset_index(drop=True)

    def _pooled(self, vectors: Sequence[np.ndarray]) -> np.ndarray:
        return pool(vectors, self.embedder_.dimension_, POOLINGS)

    def _explain_one(
        self, cases: PreparedCases, i: int, base: np.ndarray, top_k: int
    ) -> list[dict[str, Any]]:
        predicted = int(base.argmax())
        label = str(self.classes_[predicted])
        paragraphs = cases.paragraphs[i]
        units = self._occlusion_units(cases, i)
        variants = [unit.occluded for unit in units]
        vectors = [cases.vectors[i][unit.kept_vectors] for unit in units]
        rows = [cases.inputs.iloc[i]] * len(units)
        fields = [
            c for c in (*self.categorical, *self.numeric) if _present(cases.inputs.iloc[i][c])
        ]
        for column in fields:
            variants.append(paragraphs)
            vectors.append(cases.vectors[i])
            rows.append(cases.inputs.iloc[i].copy())
            rows[-1][column] = None
        if not variants:
            return []
        occluded = PreparedCases(
            paragraphs=variants,
            chunks=[[] for _ in variants],
            embedded=[[] for _ in variants],
            vectors=vectors,
            inputs=pd.DataFrame(rows).reset_index(drop=True),
        )
        matrices = self._matrices(occluded)
        reference = getattr(self, "structured_reference_", None)
        if reference is not None:  # absent from models fitted before it existed
            for row, column in enumerate(fields, start=len(units)):
                columns = self._structured_columns(column)
                matrices.structured[row, columns] = reference[columns]
        probabilities = self._proba(matrices)
        effects = base[predicted] - probabilities[:, predicted]
        reasons = [
            _passage_reason(unit, float(effect), label)
            for unit, effect in zip(units, effects[: len(units)], strict=True)
        ]
        reasons.sort(key=lambda r: -abs(r["effect"]))
        field_reasons = [
            self._field_reason(column, cases.inputs.iloc[i][column], float(effect), label)
            for column, effect in zip(fields, effects[len(units) :], strict=True)
        ]
        field_reasons.sort(key=lambda r: -abs(r["effect"]))
        return reasons[:top_k] + field_reasons[:top_k]

    def _structured_columns(self, column: str) -> np.ndarray:
        """Positions of a field's columns in the structured block."""
        names = self._structured_names()
        return np.flatnonzero([n == column or n.startswith(f"{column}=") for n in names])

    @staticmethod
    def _occlusion_units(cases: PreparedCases, i: int) -> list[_Unit]:
        """What is removed in turn: each passage, or each sentence of a one-passage text."""
        paragraphs, chunks, embedded = cases.paragraphs[i], cases.chunks[i], cases.embedded[i]
        spans = list(dict.fromkeys((c.first_paragraph, c.last_paragraph) for c in chunks))
        if len(spans) == 1:
            first, last = spans[0]
            sentences = [
                (p, s) for p in range(first, last + 1) for s in split_sentences(paragraphs[p])
            ]
            if len(sentences) > 1:
                return [
                    _Unit(
                        first=p,
                        last=p,
                        text=sentence,
                        occluded=[
                            *paragraphs[:p],
                            paragraphs[p].replace(sentence, " ", 1).strip(),
                            *paragraphs[p + 1 :],
                        ],
                        kept_vectors=list(range(len(embedded))),
                        sentence=True,
                    )
                    for p, sentence in sentences[:MAX_EXPLAINED_PASSAGES]
                ]
        return [
            _Unit(
                first=first,
                last=last,
                text=_join(paragraphs[first : last + 1]),
                occluded=paragraphs[:first] + paragraphs[last + 1 :],
                kept_vectors=[
                    k
                    for k, j in enumerate(embedded)
                    if not first <= chunks[j].first_paragraph <= last
                ],
            )
            for first, last in spans[:MAX_EXPLAINED_PASSAGES]
        ]

    def _field_reason(self, column: str, value: Any, effect: float, label: str) -> dict[str, Any]:
        name = (self.field_labels or {}).get(column, column.replace("_", " ").capitalize())
        shown = value.item() if isinstance(value, np.generic) else value
        if isinstance(shown, float) and shown.is_integer():
            shown = int(shown)  # years and codes read as 2014, not 2014.0
        reference = (
            ", against the average of past cases" if hasattr(self, "structured_reference_") else ""
        )
        return {
            "kind": "feature",
            "feature": column,
            "value": shown,
            "effect": round(effect, 4),
            "explanation": f"{name} {shown} {_moves(effect)} the estimated probability of "
            f"'{label}' by {abs(effect) * 100:.1f} points{reference}.",
        }


def _logistic(
    C: float,
    binary: bool = True,
    balanced: bool = True,
    sparse_text: bool = True,
    random_state: int | None = 0,
) -> LogisticRegression:
    """liblinear is the fast solver for one sparse binary problem; lbfgs is multinomial.

    On sparse text (as many columns as rows, or more) liblinear's dual solver reaches the
    primal one's optimum (decision values within 0.002 on ECHR) 2-4x sooner; it visits
    cases in a random order, hence the seed.
    """
    return LogisticRegression(
        C=C,
        class_weight="balanced" if balanced else None,
        solver="liblinear" if binary else "lbfgs",
        dual=binary and sparse_text,
        max_iter=5000,
        random_state=random_state,
    )


def _fit_vectorizer(vectorizer: Any, documents: list[str]) -> tuple[Any, sparse.csr_matrix]:
    """``fit_transform`` (one pass over the documents, not two), returning the fitted copy."""
    return vectorizer, vectorizer.fit_transform(documents)


def _fit_linear(model: LogisticRegression, X: Any, y: np.ndarray) -> LogisticRegression:
    """Fit, one dual liblinear fit at a time: its solver draws from one process-wide random
    generator (scikit-learn's ``newrand``), and two threads drawing at once would make the
    fitted model depend on thread timing."""
    if not model.dual:
        return model.fit(X, y)
    with _DUAL_LIBLINEAR:
        return model.fit(X, y)


def _most_associated(X: sparse.csr_matrix, target: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` columns with the highest chi-squared association with the target."""
    association = np.nan_to_num(chi2(X, target)[0])
    return np.sort(np.argsort(-association, kind="stable")[:k])


def _columns(X: sparse.csr_matrix, columns: np.ndarray) -> Any:
    """Those columns, dense while that stays small (LightGBM bins dense input ~2x faster)."""
    part = X[:, columns].astype(np.float32)
    return part.toarray() if part.shape[0] * part.shape[1] <= DENSE_TREE_CELLS else part


def _meta_input(scaler: StandardScaler, scores: np.ndarray, structured: np.ndarray) -> np.ndarray:
    """The meta learner's input, built one way for fitting, calibrating and predicting."""
    return np.hstack([scaler.transform(scores), structured])


def _weigh(X: Any, weights: np.ndarray | None) -> Any:
    return X if weights is None else sparse.csr_matrix(X.multiply(weights))


def _take(m: _Matrices, rows: np.ndarray) -> _Matrices:
    """The cases at ``rows``, in that order, with their paragraphs renumbered to match."""
    position = np.full(len(m.structured), -1)
    position[rows] = np.arange(len(rows))
    keep = position[m.paragraph_owner] >= 0
    return _Matrices(
        text=m.text[rows],
        paragraphs=m.paragraphs[keep],
        paragraph_owner=position[m.paragraph_owner[keep]],
        embeddings=m.embeddings[rows],
        structured=m.structured[rows],
        characters=None if m.characters is None else m.characters[rows],
    )


def _pool_by_owner(scores: np.ndarray, owner: np.ndarray, n_cases: int) -> np.ndarray:
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


def _best_f1_threshold(truth: np.ndarray, scores: np.ndarray) -> float:
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


def _article_key(article: str) -> tuple[int, str]:
    digits = "".join(ch for ch in article.split("-")[-1] if ch.isdigit())
    return (int(digits) if digits else 10_000, article)


def _join(paragraphs: Sequence[str]) -> str:
    return "\n\n".join(paragraphs)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value != ""


@dataclass(frozen=True)
class _Unit:
    """A piece of an input removed to measure its effect (0-based paragraph numbers)."""

    first: int
    last: int
    text: str
    occluded: list[str]  # the input's paragraphs without it
    kept_vectors: list[int]  # the input's passage vectors that stay
    sentence: bool = False


def _passage_reason(unit: _Unit, effect: float, label: str) -> dict[str, Any]:
    first, last = unit.first + 1, unit.last + 1
    if unit.sentence:
        where, plural = f"In paragraph {first}, the sentence “{_shorten(unit.text, 80)}”", False
    else:
        where = f"Paragraph {first}" if first == last else f"Paragraphs {first}–{last}"
        plural = first != last
    return {
        "kind": "passage",
        "paragraphs": [first, last],
        "excerpt": _shorten(unit.text, EXCERPT_CHARS),
        "effect": round(effect, 4),
        "explanation": f"{where} {_moves(effect, plural=plural)} the estimated probability "
        f"of '{label}' by {abs(effect) * 100:.1f} points.",
    }


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _moves(effect: float, plural: bool = False) -> str:
    verb = "raise" if effect >= 0 else "lower"
    return verb if plural else verb + "s"
