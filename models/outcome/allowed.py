"""The outcomes the law allows a case: a field's value (e.g. the kind of proceeding) rules
some classes out, and the model gives those no probability."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from casecast.models.outcome.features import CaseFeatures


@dataclass(frozen=True)
class AllowedOutcomes:
    """For each one-hot column of a ruling field's value, the classes that value allows."""

    columns: np.ndarray  # positions in the structured block
    allowed: np.ndarray  # (len(columns), classes) booleans
    names: tuple[str, ...]  # each column's "field=value"

    @classmethod
    def from_rules(
        cls,
        rules: Mapping[str, Mapping[str, Sequence[str]]],
        features: CaseFeatures,
        classes: Sequence[str] | np.ndarray,
    ) -> AllowedOutcomes:
        """The fitted features' columns for ``rules`` ({field: {value: classes}}).

        A field the model does not read, or a value too rare to have a column, rules out
        nothing; a class the rules name that the training data lacks is ignored.
        """
        structured = features.structured_names()
        known = [str(c) for c in classes]
        names, columns, allowed = [], [], []
        for field, by_value in rules.items():
            for value, outcomes in by_value.items():
                name = f"{field}={value}"
                if name in structured:
                    names.append(name)
                    columns.append(structured.index(name))
                    allowed.append([c in set(map(str, outcomes)) for c in known])
        return cls(
            np.asarray(columns, dtype=int),
            np.asarray(allowed, dtype=bool).reshape(len(columns), len(known)),
            tuple(names),
        )

    def ruled_out(self, classes: Sequence[str]) -> dict[str, list[str]]:
        """For each value that rules any class out, those classes (``classes``: the model's,
        in the order of the masks)."""
        return {
            name: [str(c) for c, ok in zip(classes, mask, strict=True) if not ok]
            for name, mask in zip(self.names, self.allowed, strict=True)
            if not mask.all()
        }

    def apply(self, probabilities: np.ndarray, structured: np.ndarray) -> np.ndarray:
        """``probabilities`` with the classes a case's values rule out at zero, renormalised.

        Only a value set in full (1) rules: the average case that explanations compare
        against has fractional columns and keeps every class. A case whose values together
        allow nothing is left as it was.
        """
        if not len(self.columns):
            return probabilities
        allowed = np.ones(probabilities.shape, dtype=bool)
        for column, mask in zip(self.columns, self.allowed, strict=True):
            allowed[structured[:, column] == 1.0] &= mask
        allowed[~allowed.any(axis=1)] = True
        kept = np.where(allowed, probabilities, 0.0)
        return kept / kept.sum(axis=1, keepdims=True)
