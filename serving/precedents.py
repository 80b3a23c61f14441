"""The precedent index of one data set as served, and how its hits are shown."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casecast.models.precedents import (
    BuildStatus,
    CaseSummary,
    IndexUnavailableError,
    PrecedentHit,
    PrecedentIndex,
    read_statuses,
)
from casecast.serving.schemas import (
    ComponentChange,
    IndexBuildHealth,
    PassageOut,
    PrecedentOut,
    QueryPassage,
)

log = logging.getLogger("casecast.serving")


@dataclass
class PrecedentService:
    dataset: str
    index_dir: Path
    index: PrecedentIndex | None = None
    error: str | None = None

    def load(self) -> None:
        try:
            self.index, self.error = PrecedentIndex.load(self.index_dir, self.dataset), None
        except IndexUnavailableError as error:
            self.index, self.error = None, str(error)
            log.warning("%s", error)

    def refresh(self) -> ComponentChange | None:
        """Load the version ``CURRENT`` names if it is not the one served, and swap it in;
        on failure the old one keeps serving."""
        served = self.index.manifest.version if self.index is not None else None
        current = PrecedentIndex.current_version(self.index_dir, self.dataset)
        if current is None or current == served:
            return None
        try:
            fresh = PrecedentIndex.load(self.index_dir, self.dataset)
        except IndexUnavailableError as error:
            log.error("index %s of %s did not load: %s", current, self.dataset, error)
            return ComponentChange(
                dataset=self.dataset,
                component="index",
                old_version=served,
                new_version=served,
                error=str(error),
            )
        self.index, self.error = fresh, None  # one assignment: requests see old or new
        log.info("%s index %s -> %s", self.dataset, served, fresh.manifest.version)
        return ComponentChange(
            dataset=self.dataset,
            component="index",
            old_version=served,
            new_version=fresh.manifest.version,
        )

    def builds(self) -> list[IndexBuildHealth]:
        """Builds of this data set's index that are not what serves: under way, stopped,
        failed, or done, made CURRENT and about to be swapped in."""
        served = self.index.manifest.version if self.index is not None else None
        current = PrecedentIndex.current_version(self.index_dir, self.dataset)
        return [
            build_health(status)
            for status in read_statuses(self.index_dir / self.dataset)
            if status.version != served and (status.state != "done" or status.version == current)
        ]

    def require(self) -> PrecedentIndex:
        if self.index is None:
            raise IndexUnavailableError(self.error or f"no precedent index for {self.dataset}")
        return self.index


def case_fields(case: CaseSummary) -> dict[str, Any]:
    """A stored case summary as the API's ``CaseFields``."""
    return {
        "case_id": case.case_id,
        "title": case.title,
        "year": case.year,
        "court": case.court,
        "parties": case.parties,
        "outcome": case.outcome,
        "violated_articles": case.violated,
        "examined_articles": case.examined,
    }


def precedent_out(hit: PrecedentHit, words: list[list[str]] | None = None) -> PrecedentOut:
    """A hit as the API shows it; ``words``: each passage's words the query's keywords hit."""
    words = words or [[] for _ in hit.passages]
    return PrecedentOut(
        **case_fields(hit.case),
        score=hit.score,
        passages=[
            PassageOut(
                paragraphs=list(p.paragraphs),
                text=p.text,
                score=p.score,
                keyword_hits=hits,
                query_passage=None
                if p.query_paragraphs is None
                else QueryPassage(paragraphs=list(p.query_paragraphs), text=p.query_text or ""),
            )
            for p, hits in zip(hit.passages, words, strict=True)
        ],
    )


def build_health(status: BuildStatus) -> IndexBuildHealth:
    def stamp(seconds: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))

    speed, eta = status.passages_per_second, status.eta_seconds
    return IndexBuildHealth(
        version=status.version,
        passages_per_case=status.max_chunks_per_case or None,
        state=status.state,
        passages_total=status.total,
        passages_done=status.done,
        share_done=round(status.share, 4),
        passages_per_second=round(speed, 1) if speed is not None else None,
        eta_seconds=round(eta) if eta is not None else None,
        started_at=stamp(status.started_at),
        updated_at=stamp(status.updated_at),
        error=status.error,
    )
