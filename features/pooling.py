"""Pool a variable number of chunk embeddings into one fixed-size case vector."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

POOLINGS = ("mean", "max")


def pool(embeddings: Sequence[np.ndarray], dim: int, how: Sequence[str] = POOLINGS) -> np.ndarray:
    """One row per case: the chosen poolings side by side; zeros for a case with no chunk."""
    unknown = set(how) - set(POOLINGS)
    if unknown:
        raise ValueError(f"unknown pooling {sorted(unknown)}; choose from {POOLINGS}")
    out = np.zeros((len(embeddings), dim * len(how)), dtype=np.float32)
    for row, matrix in enumerate(embeddings):
        if len(matrix) == 0:
            continue
        parts = [matrix.mean(axis=0) if h == "mean" else matrix.max(axis=0) for h in how]
        out[row] = np.concatenate(parts)
    return out
