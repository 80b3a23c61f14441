"""A spec's track records: which groups of earlier decisions become inputs of a model
(``model.track_record``), and the votes of the members who decide together."""

from __future__ import annotations

from pydantic import Field

from casecast.data.thresholds import Strict


def _whole_bench() -> list[list[str]]:
    return [[]]


class PanelRule(Strict):
    """The members who decide together, from a file of their votes (``data/votes.py``)."""

    reader: str = Field(description="the votes reader, e.g. scdb.justice_votes")
    path: str = Field(description="the votes file ({data_dir} allowed)")
    seats: str = Field(description="input naming the bench a case is decided by")
    keys: list[list[str]] = Field(
        default_factory=_whole_bench, description="case fields each member's record is kept by"
    )
    label: str = "the members"
    until: int | None = Field(default=None, description="the votes' last year (model card)")


class TrackRecordRule(Strict):
    """Outcome rates of earlier decisions as inputs: per group of cases sharing the values of
    some inputs (``[]``: the whole court), counted only before each case's own time."""

    keys: list[list[str]] = Field(default_factory=list, description="inputs a record is kept by")
    window: float = Field(default=10.0, gt=0, description="years of earlier decisions counted")
    half_life: float = Field(default=4.0, gt=0, description="years after which one counts half")
    shrinkage: float = Field(default=10.0, ge=0, description="cases' worth of the broader rate")
    panel: PanelRule | None = None
