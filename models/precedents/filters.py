"""Which indexed cases a search may return: masks built once from the case summaries, so
that a filter never loops over cases in Python."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from casecast.models.precedents.scoring import inverted
from casecast.models.precedents.types import CaseSummary, SearchFilters


class CaseFilter:
    """Turns ``SearchFilters`` into a mask over the cases, in index order."""

    def __init__(self, cases: Sequence[CaseSummary]) -> None:
        self.n_cases = len(cases)
        self.positions = {c.case_id: i for i, c in enumerate(cases)}
        self.years = np.asarray([c.year if c.year is not None else -1 for c in cases])
        self.outcomes = np.asarray([c.outcome or "" for c in cases], dtype=object)
        self.courts = np.asarray([(c.court or "").upper() for c in cases], dtype=object)
        self.by_party = inverted(c.parties for c in cases)
        self.by_article = inverted(c.examined for c in cases)

    def allowed(self, filters: SearchFilters) -> np.ndarray:
        """True for each case the filters let through."""
        allowed = np.ones(self.n_cases, dtype=bool)
        if filters.year_min is not None:
            allowed &= self.years >= filters.year_min
        if filters.year_max is not None:
            allowed &= (self.years <= filters.year_max) & (self.years >= 0)
        if filters.respondent:
            allowed &= self._carrying(self.by_party, [filters.respondent])
        if filters.outcome:
            allowed &= self.outcomes == filters.outcome
        if filters.court:
            allowed &= self.courts == filters.court.upper()
        articles = [a for a in filters.articles if a.strip()]
        if articles:
            allowed &= self._carrying(self.by_article, articles)
        for case_id in filters.exclude_case_ids:
            if case_id in self.positions:
                allowed[self.positions[case_id]] = False
        return allowed

    def _carrying(self, by_value: dict[str, np.ndarray], values: Sequence[str]) -> np.ndarray:
        """Mask of the cases carrying any of ``values`` (case-insensitive)."""
        mask = np.zeros(self.n_cases, dtype=bool)
        for value in values:
            mask[by_value.get(value.strip().upper(), np.empty(0, dtype=np.int64))] = True
        return mask
