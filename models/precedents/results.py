"""A ranking turned into what a search answers: the ``k`` best cases, each with its best
passages in the order its mode ranks them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from casecast.models.precedents.ranking import Ranking
from casecast.models.precedents.scoring import reciprocal_rank_fusion
from casecast.models.precedents.stored import StoredIndex
from casecast.models.precedents.types import Passage, PrecedentHit


def top_hits(
    stored: StoredIndex, ranking: Ranking, k: int, passages_per_case: int
) -> list[PrecedentHit]:
    """The ``k`` best-scored cases with their passages (none where nothing scored)."""
    scores = ranking.scores
    candidates = np.flatnonzero(np.isfinite(scores))
    if not len(candidates):
        return []
    top = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
    per_mode = ranking.passage_scores
    # A case's passages are shown in the order its mode ranks passages (hybrid: the rank
    # fusion of their places in the case by meaning and by words).
    orders = [per_mode[ranking.mode]] if ranking.mode != "hybrid" else list(per_mode.values())
    # Passage scores shown: semantic similarity where there is one, else BM25.
    shown = per_mode["semantic"] if "semantic" in per_mode else per_mode["keyword"]
    return [hit(stored, int(c), float(scores[c]), orders, shown, passages_per_case) for c in top]


def hit(
    stored: StoredIndex,
    case: int,
    score: float,
    passage_orders: Sequence[np.ndarray],
    shown: np.ndarray,
    n: int,
) -> PrecedentHit:
    """One case as found: its summary, score and ``n`` best passages."""
    rows = stored.rows(case)
    within = [order[rows.start : rows.stop] for order in passage_orders]
    order_by = within[0] if len(within) == 1 else reciprocal_rank_fusion(within)
    best = [rows.start + int(i) for i in np.argsort(-order_by, kind="stable")
            if np.isfinite(order_by[i])][:n]  # fmt: skip
    if not best:  # found by words outside its indexed passages: show those in text order
        best = list(rows)[:n]
    passages = [
        Passage(
            paragraphs=(int(stored.chunk_span[r][0]) + 1, int(stored.chunk_span[r][1]) + 1),
            text=stored.passage_text(r),
            score=round(float(shown[r]), 4) if np.isfinite(shown[r]) else 0.0,
            row=int(r),
        )
        for r in best
    ]
    return PrecedentHit(stored.cases[case], round(score, 4), passages)
