"""The outcome classifier: raw cases (facts text + structured inputs) in, probabilities out.

One estimator owns every step from text to probability (chunking, embedding, TF-IDF,
tabular encoding, the linear head), so the object that is evaluated is the object that is
logged to MLflow and served; nothing is re-implemented elsewhere.

Reasons come from occlusion: each passage (and each structured field) is removed in turn and
the change in the predicted class's probability is its effect. Removing a passage costs no
new embedding, since its chunk vectors are already known, so explanations stay cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from data.schema import TEXT_COLUMN
from data.text import split_paragraphs
from features.chunking import Chunk, ParagraphChunker, spread_positions
from features.embedding import SentenceEmbedder
from features.pooling import pool
from features.tabular import DelimitedOneHotEncoder
from features.text import legal_tfidf

POOLINGS = ("mean", "max")
EXCERPT_CHARS = 400


@dataclass
class PreparedCases:
    """Cases split into paragraphs and chunks, with the vectors of the chunks embedded."""

    paragraphs: list[list[str]]
    chunks: list[list[Chunk]]
    embedded: list[list[int]]  # positions in ``chunks`` that carry a vector
    vectors: list[np.ndarray]  # one (len(embedded), dim) matrix per case
    inputs: pd.DataFrame


class CaseOutcomeClassifier(ClassifierMixin, BaseEstimator):
    """Calibrated-by-construction linear model over text, embeddings and case fields.

    Parameters are the usual scikit-learn ones; ``max_chunks_per_case`` bounds the tokens
    embedded per case (0 = every chunk), spreading the chosen chunks over the text.
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
        tfidf_max_features: int = 200_000,
        embedding_weight: float = 0.05,
        C: float = 4.0,
        class_weight: str | None = "balanced",
    ) -> None:
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.chunk_overlap = chunk_overlap
        self.max_chunks_per_case = max_chunks_per_case
        self.categorical = categorical
        self.numeric = numeric
        self.field_labels = field_labels
        self.tfidf_max_features = tfidf_max_features
        self.embedding_weight = embedding_weight
        self.C = C
        self.class_weight = class_weight

    # -- learning ---------------------------------------------------------------------------

    def fit(
        self, X: pd.DataFrame, y: Sequence[Any], progress: Callable[[int], None] | None = None
    ) -> CaseOutcomeClassifier:
        frame = self._frame(X)
        labels = np.asarray(y)
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise ValueError("training needs at least two outcome classes")
        self._build_components()
        cases = self.prepare(frame, progress)
        texts = [_join(p) for p in cases.paragraphs]
        self.tfidf_ = legal_tfidf(self.tfidf_max_features, min_df=min(3, len(texts))).fit(texts)
        self.embedding_scaler_ = StandardScaler().fit(self._pooled(cases.vectors))
        self.categorical_encoder_ = DelimitedOneHotEncoder(min_frequency=5).fit(
            cases.inputs[list(self.categorical)]
        )
        numeric = cases.inputs[list(self.numeric)].astype(float)
        self.numeric_imputer_ = SimpleImputer(strategy="median", keep_empty_features=True).fit(
            numeric
        )
        self.numeric_scaler_ = StandardScaler().fit(self.numeric_imputer_.transform(numeric))
        self.classifier_ = LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            max_iter=5000,
            solver="liblinear" if len(self.classes_) == 2 else "lbfgs",
        ).fit(self._features(texts, cases.vectors, cases.inputs), labels)
        self.n_features_in_ = frame.shape[1]
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        return self

    # -- inference --------------------------------------------------------------------------

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "classifier_")
        return self._proba(self.prepare(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def explain(self, X: pd.DataFrame, top_k: int = 3) -> list[list[dict[str, Any]]]:
        """For each case, the passages and fields that moved its predicted class the most."""
        check_is_fitted(self, "classifier_")
        cases = self.prepare(X)
        base = self._proba(cases)
        return [self._explain_one(cases, i, base[i], top_k) for i in range(len(base))]

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
        check_is_fitted(self, "classifier_")
        dim = self.embedder_.dimension_
        return np.concatenate(
            [
                "tfidf:" + self.tfidf_.get_feature_names_out().astype(object),
                np.asarray(
                    [f"embedding_{p}_{i}" for p in POOLINGS for i in range(dim)], dtype=object
                ),
                self.categorical_encoder_.get_feature_names_out(),
                np.asarray(list(self.numeric), dtype=object),
            ]
        )

    # -- internals --------------------------------------------------------------------------

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

    def _features(
        self, texts: Sequence[str], vectors: Sequence[np.ndarray], inputs: pd.DataFrame
    ) -> sparse.csr_matrix:
        text_block = self.tfidf_.transform(texts)
        embedding_block = self.embedding_weight * self.embedding_scaler_.transform(
            self._pooled(vectors)
        )
        categorical_block = self.categorical_encoder_.transform(inputs[list(self.categorical)])
        numeric = self.numeric_imputer_.transform(inputs[list(self.numeric)].astype(float))
        numeric_block = self.numeric_scaler_.transform(numeric)
        return sparse.hstack(
            [text_block, sparse.csr_matrix(embedding_block), categorical_block, numeric_block],
            format="csr",
        )

    def _proba(self, cases: PreparedCases) -> np.ndarray:
        texts = [_join(p) for p in cases.paragraphs]
        return self.classifier_.predict_proba(self._features(texts, cases.vectors, cases.inputs))

    def _explain_one(
        self, cases: PreparedCases, i: int, base: np.ndarray, top_k: int
    ) -> list[dict[str, Any]]:
        predicted = int(base.argmax())
        label = str(self.classes_[predicted])
        paragraphs, chunks = cases.paragraphs[i], cases.chunks[i]
        spans = list(dict.fromkeys((c.first_paragraph, c.last_paragraph) for c in chunks))
        texts, vectors, rows = [], [], []
        for first, last in spans:
            texts.append(_join(paragraphs[:first] + paragraphs[last + 1 :]))
            keep = [
                k
                for k, j in enumerate(cases.embedded[i])
                if not first <= chunks[j].first_paragraph <= last
            ]
            vectors.append(cases.vectors[i][keep])
            rows.append(cases.inputs.iloc[i])
        fields = [
            c for c in (*self.categorical, *self.numeric) if _present(cases.inputs.iloc[i][c])
        ]
        for column in fields:
            texts.append(_join(paragraphs))
            vectors.append(cases.vectors[i])
            rows.append(cases.inputs.iloc[i].copy())
            rows[-1][column] = None
        if not texts:
            return []
        inputs = pd.DataFrame(rows).reset_index(drop=True)
        probabilities = self.classifier_.predict_proba(self._features(texts, vectors, inputs))
        effects = base[predicted] - probabilities[:, predicted]
        reasons = [
            self._passage_reason(paragraphs, span, float(effect), label)
            for span, effect in zip(spans, effects[: len(spans)], strict=True)
        ]
        reasons.sort(key=lambda r: -abs(r["effect"]))
        field_reasons = [
            self._field_reason(column, cases.inputs.iloc[i][column], float(effect), label)
            for column, effect in zip(fields, effects[len(spans) :], strict=True)
        ]
        field_reasons.sort(key=lambda r: -abs(r["effect"]))
        return reasons[:top_k] + field_reasons[:top_k]

    def _passage_reason(
        self, paragraphs: list[str], span: tuple[int, int], effect: float, label: str
    ) -> dict[str, Any]:
        first, last = span
        where = f"Paragraph {first + 1}" if first == last else f"Paragraphs {first + 1}–{last + 1}"
        text = _join(paragraphs[first : last + 1])
        excerpt = text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
        return {
            "kind": "passage",
            "paragraphs": [first + 1, last + 1],
            "excerpt": excerpt,
            "effect": round(effect, 4),
            "explanation": f"{where} {_moves(effect, plural=first != last)} the estimated "
            f"probability of '{label}' by {abs(effect) * 100:.1f} points.",
        }

    def _field_reason(self, column: str, value: Any, effect: float, label: str) -> dict[str, Any]:
        name = (self.field_labels or {}).get(column, column.replace("_", " ").capitalize())
        shown = value.item() if isinstance(value, np.generic) else value
        if isinstance(shown, float) and shown.is_integer():
            shown = int(shown)  # years and codes read as 2014, not 2014.0
        return {
            "kind": "feature",
            "feature": column,
            "value": shown,
            "effect": round(effect, 4),
            "explanation": f"{name} {shown} {_moves(effect)} the estimated probability of "
            f"'{label}' by {abs(effect) * 100:.1f} points.",
        }


def _join(paragraphs: Sequence[str]) -> str:
    return "\n\n".join(paragraphs)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value != ""


def _moves(effect: float, plural: bool = False) -> str:
    verb = "raise" if effect >= 0 else "lower"
    return verb if plural else verb + "s"
