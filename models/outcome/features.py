"""Prepared cases to the matrices every learner reads: one fitted transformer for all of them.

Word TF-IDF of each whole text and of each paragraph, character n-gram TF-IDF, pooled passage
vectors, and a structured block (scaled numbers, text lengths, scaled track records of
earlier decisions, one-hot categories).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from casecast.features.pooling import pool
from casecast.features.tabular import DelimitedOneHotEncoder
from casecast.features.text import CharNgramTfidf, legal_tfidf
from casecast.features.track_record import PanelRecord, TrackRecord
from casecast.models.outcome.cases import PreparedCases

POOLINGS = ("mean", "max")


@dataclass
class CaseMatrices:
    """Everything the learners read for a set of cases, computed once per fit or call."""

    text: sparse.csr_matrix
    paragraphs: sparse.csr_matrix
    paragraph_owner: np.ndarray  # case row of each paragraph row
    embeddings: np.ndarray
    structured: np.ndarray
    characters: sparse.csr_matrix | None = None  # character n-gram TF-IDF, when modelled

    def __len__(self) -> int:
        return len(self.structured)

    def take(self, rows: np.ndarray) -> CaseMatrices:
        """The cases at ``rows``, in that order, with their paragraphs renumbered to match."""
        position = np.full(len(self), -1)
        position[rows] = np.arange(len(rows))
        keep = position[self.paragraph_owner] >= 0
        return CaseMatrices(
            text=self.text[rows],
            paragraphs=self.paragraphs[keep],
            paragraph_owner=position[self.paragraph_owner[keep]],
            embeddings=self.embeddings[rows],
            structured=self.structured[rows],
            characters=None if self.characters is None else self.characters[rows],
        )


class CaseFeatures(TransformerMixin, BaseEstimator):
    """Fit the vectorisers, scalers and encoders on prepared cases; transform to matrices.

    ``char_features=0`` leaves the character n-grams out; ``stemmer`` (a Snowball algorithm)
    stems the words of the word n-grams. ``track_record`` ({keys, window, half_life,
    shrinkage}) keeps the records of earlier decisions per group of cases, from the fitted
    cases' outcomes, ordered by ``time_column``; ``panel_votes`` (given to ``fit``) adds the
    bench's records by ``track_record["panel"]`` ({seats, keys}). ``n_jobs`` processes fit the
    vectorisers side by side (tokenising holds the GIL, so threads would not).
    """

    def __init__(
        self,
        categorical: Sequence[str] = ("respondent",),
        numeric: Sequence[str] = ("year",),
        text_max_features: int = 200_000,
        paragraph_max_features: int = 300_000,
        char_features: int = 200_000,
        min_category_cases: int = 5,
        stemmer: str | None = None,
        track_record: Mapping[str, Any] | None = None,
        time_column: str | None = "year",
        n_jobs: int = 2,
    ) -> None:
        self.stemmer = stemmer
        self.track_record = track_record
        self.time_column = time_column
        self.categorical = categorical
        self.numeric = numeric
        self.text_max_features = text_max_features
        self.paragraph_max_features = paragraph_max_features
        self.char_features = char_features
        self.min_category_cases = min_category_cases
        self.n_jobs = n_jobs

    def fit(
        self, cases: PreparedCases, y: Any = None, panel_votes: pd.DataFrame | None = None
    ) -> CaseFeatures:
        self.fit_transform(cases, y, panel_votes)
        return self

    def fit_transform(
        self,
        cases: PreparedCases,
        y: Any = None,
        panel_votes: pd.DataFrame | None = None,
        **_: Any,
    ) -> CaseMatrices:
        """Fit on ``cases`` (with outcomes ``y`` for the track records) and return their
        matrices, vectorising each text once."""
        texts = cases.texts()
        flat = [p for case in cases.paragraphs for p in case]
        min_df = min(3, len(texts))
        vectorizers: list[tuple[Any, list[str]]] = [
            # Paragraphs: more of them share words, so a stricter max_df and more columns.
            (
                legal_tfidf(self.paragraph_max_features, min_df, 0.5, self.stemmer),
                flat or texts,
            ),
            (legal_tfidf(self.text_max_features, min_df, stemmer=self.stemmer), texts),
        ]
        if self.char_features:
            char_min_df = min(5, len(texts))
            vectorizers.append(
                (CharNgramTfidf(max_features=self.char_features, min_df=char_min_df), texts)
            )
        fitted = Parallel(n_jobs=min(self.n_jobs, len(vectorizers)))(
            delayed(_fit_vectorizer)(vectorizer, documents) for vectorizer, documents in vectorizers
        )
        (self.paragraph_vectorizer_, paragraph_matrix), (self.text_vectorizer_, text_matrix) = (
            fitted[:2]
        )
        paragraph_matrix = paragraph_matrix[: len(flat)]
        char_fitted: tuple[Any, Any] = fitted[2] if self.char_features else (None, None)
        self.char_vectorizer_, char_matrix = char_fitted
        self.embedding_scaler_ = StandardScaler().fit(self._pooled(cases))
        self.categorical_encoder_ = DelimitedOneHotEncoder(
            min_frequency=self.min_category_cases
        ).fit(cases.inputs[list(self.categorical)])
        numeric = self._numeric_frame(cases)
        self.numeric_imputer_ = SimpleImputer(strategy="median", keep_empty_features=True).fit(
            numeric
        )
        self.numeric_scaler_ = StandardScaler().fit(self.numeric_imputer_.transform(numeric))
        records = self._fit_records(cases, y, panel_votes)
        matrices = self.transform(cases, text_matrix, paragraph_matrix, char_matrix, records)
        # The average training case's fields: what a field's effect is measured against.
        self.structured_mean_ = matrices.structured.mean(axis=0)
        return matrices

    def transform(
        self,
        cases: PreparedCases,
        text: sparse.spmatrix | None = None,
        paragraphs: sparse.spmatrix | None = None,
        characters: sparse.spmatrix | None = None,
        records: np.ndarray | None = None,
    ) -> CaseMatrices:
        """The matrices of ``cases``; text matrices already vectorised, and the records
        already computed (unscaled), may be passed in."""
        check_is_fitted(self, "text_vectorizer_")
        texts = cases.texts()
        if text is None:
            text = self.text_vectorizer_.transform(texts)
        if characters is None and self.char_vectorizer_ is not None:
            characters = self.char_vectorizer_.transform(texts)
        if paragraphs is None:
            flat = [p for case in cases.paragraphs for p in case]
            # No paragraph at all (a text of one passage with it occluded): no rows.
            paragraphs = (
                self.paragraph_vectorizer_.transform(flat)
                if flat
                else sparse.csr_matrix((0, len(self.paragraph_vectorizer_.vocabulary_)))
            )
        owner = np.repeat(np.arange(len(cases)), [len(p) for p in cases.paragraphs])
        embeddings = self.embedding_scaler_.transform(self._pooled(cases))
        numeric = self.numeric_imputer_.transform(self._numeric_frame(cases))
        categorical = self.categorical_encoder_.transform(cases.inputs[list(self.categorical)])
        # Scaled numbers and records, raw one-hot columns (scaling a rare category to unit
        # variance would give it the weight of a common one).
        structured = np.hstack(
            [
                self.numeric_scaler_.transform(numeric),
                self._records(cases, records),
                categorical.toarray(),
            ]
        ).astype(np.float64)
        return CaseMatrices(
            text=sparse.csr_matrix(text),
            paragraphs=sparse.csr_matrix(paragraphs),
            paragraph_owner=owner,
            embeddings=embeddings,
            structured=structured,
            characters=None if characters is None else sparse.csr_matrix(characters),
        )

    def structured_names(self) -> list[str]:
        """The structured block's columns: scaled numbers, text lengths, track records,
        one-hot categories."""
        check_is_fitted(self, "categorical_encoder_")
        names = [*self.numeric, "log_paragraphs", "log_characters"]
        for record in self.record_models():
            names += list(record.get_feature_names_out())
        return names + list(self.categorical_encoder_.get_feature_names_out())

    # -- track records ----------------------------------------------------------------------

    def record_models(self) -> list[TrackRecord | PanelRecord]:
        """The fitted records (groups', then the bench's), in their columns' order."""
        found = (getattr(self, "track_record_", None), getattr(self, "panel_record_", None))
        return [record for record in found if record is not None]

    def record_groups(self) -> list[tuple[str, np.ndarray]]:
        """Each kind of record's name (``record:respondent``, ``panel:issueArea``) and its
        columns' positions in the structured block."""
        names = self.structured_names()
        return [
            (name, np.flatnonzero([n.startswith((name + "=", name + ":")) for n in names]))
            for record in self.record_models()
            for name in record.group_names()
        ]

    def describe_records(
        self, row: pd.Series, predicted: int, classes: Sequence[Any] = ()
    ) -> dict[str, str]:
        """What each record says of one case, as its reason shows it: the predicted class's
        rate among the group's earlier decisions (shrunk for few), how many and which years;
        for the bench, each member's rate of voting for the positive outcome."""
        described: dict[str, str] = {}
        time = pd.to_numeric(pd.Series([row.get(self.time_column or "year")]), errors="coerce")
        when = float(time.iloc[0])
        group = getattr(self, "track_record_", None)
        if group is not None:
            label = group.classes_[predicted]
            for position, name in enumerate(group.group_names()):
                fields = group.groups_[position]
                value = group.record(position, [row.get(f) for f in fields], when)
                years = f", {value.first:.0f}–{value.last:.0f}" if value.first is not None else ""
                described[name] = (
                    f"{label} in {value.rates[predicted]:.0%} of {value.cases} earlier "
                    f"decisions{years}"
                )
        panel = getattr(self, "panel_record_", None)
        if panel is not None:
            for position, name in enumerate(panel.group_names()):
                rates = panel.member_rates(position, row)
                shown = ", ".join(
                    f"{member} {value.rates[1]:.0%}"
                    for member, value in sorted(rates.items(), key=lambda m: m[1].rates[1])
                )
                positive = classes[-1] if len(classes) else "the positive outcome"
                described[name] = f"earlier votes for {positive}: {shown}"
        return described

    def add_decisions(self, inputs: pd.DataFrame, y: Sequence[Any] | np.ndarray) -> None:
        """Newer labelled decisions into the groups' records (features of later cases only)."""
        check_is_fitted(self, "categorical_encoder_")
        record = getattr(self, "track_record_", None)
        if record is not None:
            record.add(inputs, y)

    def _fit_records(
        self, cases: PreparedCases, y: Any, panel_votes: pd.DataFrame | None
    ) -> np.ndarray | None:
        """Fit the records and their scaler; the training cases' records, unscaled."""
        rule = dict(self.track_record or {})
        time = self.time_column or "year"
        common = {k: rule[k] for k in ("window", "half_life", "shrinkage") if k in rule}
        self.track_record_ = None
        if rule.get("keys") and y is not None:
            self.track_record_ = TrackRecord(keys=rule["keys"], time_column=time, **common).fit(
                cases.inputs, np.asarray(y)
            )
        self.panel_record_ = None
        panel = rule.get("panel")
        if panel and panel_votes is not None:
            votes = panel_votes.assign(**{time: panel_votes["time"]})
            self.panel_record_ = PanelRecord(
                keys=panel.get("keys", [[]]), seat_column=panel["seats"], time_column=time, **common
            ).fit(votes)
        parts = [r.transform(cases.inputs) for r in self.record_models()]
        fitted = np.hstack(parts) if parts else None
        self.record_scaler_ = StandardScaler().fit(fitted) if fitted is not None else None
        return fitted

    def _records(self, cases: PreparedCases, computed: np.ndarray | None = None) -> np.ndarray:
        """The scaled records of ``cases`` (``computed``: already computed, unscaled)."""
        records = self.record_models()
        scaler = getattr(self, "record_scaler_", None)
        if not records or scaler is None:
            return np.zeros((len(cases), 0))
        if computed is None:
            computed = np.hstack([r.transform(cases.inputs) for r in records])
        return scaler.transform(computed)

    def field_columns(self, field: str) -> np.ndarray:
        """Positions of one input field's columns in the structured block."""
        names = self.structured_names()
        return np.flatnonzero([n == field or n.startswith(f"{field}=") for n in names])

    def _numeric_frame(self, cases: PreparedCases) -> pd.DataFrame:
        numeric = cases.inputs[list(self.numeric)].apply(pd.to_numeric, errors="coerce")
        numeric = numeric.astype(float)
        numeric["log_paragraphs"] = np.log1p([len(p) for p in cases.paragraphs])
        numeric["log_characters"] = np.log1p([sum(map(len, p)) for p in cases.paragraphs])
        return numeric

    @staticmethod
    def _pooled(cases: PreparedCases) -> np.ndarray:
        return pool(cases.vectors, cases.dimension, POOLINGS)


def _fit_vectorizer(vectorizer: Any, documents: list[str]) -> tuple[Any, sparse.csr_matrix]:
    """``fit_transform`` (one pass over the documents, not two), returning the fitted copy."""
    return vectorizer, vectorizer.fit_transform(documents)


def record_fields(track_record: Mapping[str, Any] | None, model: Any) -> list[str]:
    """The fields a track record is kept by that ``model`` (its ``categorical`` and
    ``numeric``) does not read already: read for the records alone."""
    rule = track_record or {}
    panel = rule.get("panel") or {}
    named = [f for key in [*rule.get("keys", []), *panel.get("keys", [])] for f in key]
    if panel.get("seats"):
        named.append(panel["seats"])
    known = {*model.categorical, *model.numeric}
    return sorted({f for f in named if f not in known})
