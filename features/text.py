"""TF-IDF text features."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer


def legal_tfidf(max_features: int = 200_000, min_df: int = 3) -> TfidfVectorizer:
    """Word uni- and bi-grams with sub-linear term frequency: the strong linear baseline."""
    return TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=min_df,
        max_df=0.9,
        max_features=max_features,
        sublinear_tf=True,
        strip_accents="unicode",
        lowercase=True,
        dtype=np.float32,
    )
