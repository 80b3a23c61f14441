"""Precedent search as served: each data set's index (following its ``CURRENT`` pointer),
and the routes' work on it: a search by text or by case (recorded in the audit log before it
is answered), one past case, more like it; and how hits and builds are shown."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from casecast.models.oversight import text_sha256
from casecast.models.precedents import (
    BuildStatus,
    CaseSummary,
    IndexUnavailableError,
    Mode,
    PrecedentHit,
    PrecedentIndex,
    SearchFilters,
    read_statuses,
)
from casecast.serving.access import Principal
from casecast.serving.errors import InvalidInputError, NotFoundError
from casecast.serving.limits import check_search
from casecast.serving.metrics import ServiceMetrics
from casecast.serving.oversight import OversightService, entry
from casecast.serving.schemas import (
    CaseResponse,
    IndexBuildHealth,
    IndexRef,
    PassageOut,
    PrecedentOut,
    PrecedentSearchRequest,
    PrecedentSearchResponse,
    QueryPassage,
)
from casecast.serving.settings import ServingSettings
from casecast.serving.swap import Swappable

log = logging.getLogger("casecast.serving")


class PrecedentService:
    """One data set's precedent index: the version ``CURRENT`` names, swapped in when it
    moves."""

    def __init__(self, dataset: str, index_dir: Path) -> None:
        self.dataset, self.index_dir = dataset, index_dir
        self.holder: Swappable[PrecedentIndex] = Swappable(
            dataset,
            "index",
            load_current=lambda: PrecedentIndex.load(index_dir, dataset),
            pointed_version=lambda: PrecedentIndex.current_version(index_dir, dataset),
            version_of=lambda index: index.manifest.version,
            unavailable=IndexUnavailableError,
        )

    @property
    def index(self) -> PrecedentIndex | None:
        return self.holder.served

    @property
    def error(self) -> str | None:
        return self.holder.error

    def builds(self) -> list[IndexBuildHealth]:
        """Builds of this data set's index that are not what serves: under way, stopped,
        failed, or done, made CURRENT and about to be swapped in."""
        served = self.holder.version
        current = PrecedentIndex.current_version(self.index_dir, self.dataset)
        return [
            build_health(status)
            for status in read_statuses(self.index_dir / self.dataset)
            if status.version != served and (status.state != "done" or status.version == current)
        ]


class Precedents:
    """The routes' work on the indexes: search, one case, more like it."""

    def __init__(
        self,
        settings: ServingSettings,
        metrics: ServiceMetrics,
        oversight: OversightService,
        indexes: Mapping[str, PrecedentService],
    ) -> None:
        self.settings, self.metrics, self.oversight = settings, metrics, oversight
        self.indexes = indexes

    def search(self, principal: Principal, body: PrecedentSearchRequest) -> PrecedentSearchResponse:
        if (body.text is None) == (body.case_id is None):
            raise InvalidInputError("give exactly one of text or case_id")
        check_search(body, self.settings)
        if body.dataset not in self.indexes:
            raise NotFoundError(
                f"unknown data set {body.dataset!r}; served: {', '.join(self.indexes)}"
            )
        index = self.indexes[body.dataset].holder.require()
        fields = body.filters.model_dump()
        filters = SearchFilters(**{**fields, "articles": tuple(fields["articles"])})
        mode: Mode = body.mode
        if body.text is not None:
            hits = index.search_text(
                body.text, body.k, filters, mode, self.settings.max_query_passages
            )
        else:
            hits = index.search_case(body.case_id or "", body.k, filters, mode)
        manifest = index.manifest
        record = self.oversight.record(
            entry(
                principal,
                "search",
                "/v1/precedents/search",
                dataset=body.dataset,
                index_version=manifest.version,
                input_sha256=text_sha256(body.text) if body.text is not None else None,
                input_text=body.text if self.settings.audit_keep_text else None,
                summary={
                    "mode": body.mode,
                    "k": body.k,
                    "case_id": body.case_id,
                    "filters": body.filters.model_dump(exclude_defaults=True),
                    "results": [hit.case.case_id for hit in hits],
                },
            )
        )
        self.metrics.searches.labels(body.dataset, body.mode).inc()
        words: list[list[list[str]]] = [[] for _ in hits]
        if body.text is not None and body.mode != "semantic":
            # One pass over the query's words for every passage shown.
            flat = iter(index.matching_words(body.text, [p.text for h in hits for p in h.passages]))
            words = [[next(flat) for _ in h.passages] for h in hits]
        return PrecedentSearchResponse(
            record_id=record.record_id,
            dataset=body.dataset,
            results=[
                precedent_out(hit, hit_words) for hit, hit_words in zip(hits, words, strict=True)
            ],
            index=IndexRef(
                version=manifest.version,
                embedding_model=manifest.embedding_model_id,
                n_cases=manifest.n_cases,
                mode=body.mode,
                fusion=(manifest.fusion or "rrf") if body.mode == "hybrid" else None,
            ),
        )

    def case(self, case_id: str) -> CaseResponse:
        """One indexed past case, from whichever served index holds it."""
        for dataset, index in self._loaded():
            found = index.case(case_id)
            if found is not None:
                summary, paragraphs = found
                return CaseResponse(**case_fields(summary), dataset=dataset, paragraphs=paragraphs)
        raise NotFoundError(f"no indexed case {case_id}")

    def similar(self, principal: Principal, case_id: str, k: int) -> list[PrecedentOut]:
        """More like this: the cases closest to an indexed case, itself excluded."""
        for dataset, index in self._loaded():
            if index.position(case_id) is not None:
                hits = index.search_case(case_id, k, SearchFilters(), "hybrid")
                self.oversight.record(
                    entry(
                        principal,
                        "search",
                        "/v1/cases/{case_id}/similar",
                        dataset=dataset,
                        index_version=index.manifest.version,
                        summary={
                            "mode": "hybrid",
                            "k": k,
                            "case_id": case_id,
                            "results": [hit.case.case_id for hit in hits],
                        },
                    )
                )
                return [precedent_out(hit) for hit in hits]
        raise NotFoundError(f"no indexed case {case_id}")

    def _loaded(self) -> list[tuple[str, PrecedentIndex]]:
        loaded = [(name, s.index) for name, s in self.indexes.items() if s.index is not None]
        if not loaded:
            raise IndexUnavailableError(
                "; ".join(s.error or f"no index for {name}" for name, s in self.indexes.items())
            )
        return loaded


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
