"""Encoders for structured case fields (respondent, year, court, ...)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted


class DelimitedOneHotEncoder(TransformerMixin, BaseEstimator):
    """One-hot for fields that may hold several values, e.g. respondent ``"RUS;UKR"``.

    Values seen fewer than ``min_frequency`` times in training, and unseen values, fall into
    no column: an unknown state then reads as "no information", never as an error.
    """

    def __init__(self, sep: str = ";", min_frequency: int = 5) -> None:
        self.sep = sep
        self.min_frequency = min_frequency

    def fit(self, X: Any, y: Any = None) -> DelimitedOneHotEncoder:
        columns = _as_frame(X)
        self.feature_names_in_ = np.asarray(columns.columns, dtype=object)
        self.categories_: list[list[str]] = []
        for name in columns.columns:
            counts = Counter(v for cell in columns[name] for v in self._split(cell))
            self.categories_.append(sorted(v for v, n in counts.items() if n >= self.min_frequency))
        return self

    def transform(self, X: Any) -> sparse.csr_matrix:
        check_is_fitted(self, "categories_")
        columns = _as_frame(X)
        blocks = []
        for name, categories in zip(columns.columns, self.categories_, strict=True):
            position = {value: i for i, value in enumerate(categories)}
            rows, cols = [], []
            for row, cell in enumerate(columns[name]):
                for value in self._split(cell):
                    if value in position:
                        rows.append(row)
                        cols.append(position[value])
            data = np.ones(len(rows), dtype=np.float32)
            blocks.append(
                sparse.csr_matrix((data, (rows, cols)), shape=(len(columns), len(categories)))
            )
        return (
            sparse.hstack(blocks, format="csr") if blocks else sparse.csr_matrix((len(columns), 0))
        )

    def get_feature_names_out(self, input_features: Iterable[str] | None = None) -> np.ndarray:
        check_is_fitted(self, "categories_")
        return np.asarray(
            [
                f"{name}={value}"
                for name, categories in zip(self.feature_names_in_, self.categories_, strict=True)
                for value in categories
            ],
            dtype=object,
        )

    def _split(self, cell: Any) -> list[str]:
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            return []
        return [v.strip() for v in str(cell).split(self.sep) if v.strip()]


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    frame = pd.DataFrame(X)
    frame.columns = [str(c) for c in frame.columns]
    return frame
