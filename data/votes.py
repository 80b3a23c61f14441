"""Votes of the members who decide together (a bench of justices), read into one table for
their track records: one row per member per decision, with the decision's time, the bench it
was decided by, the case fields a record may be kept by, and the member's vote for (1) or
against (0) the data set's positive outcome. Each a named reader a spec's
``track_record.panel.reader`` picks; adding a court's votes is adding a reader here.

Every column here but the case fields is an outcome of its own decision: the records read
them only for decisions before the case they describe (``casecast.features.track_record``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

VOTE_COLUMNS = ("member", "seat", "time", "vote")


def scdb_justice_votes(path: Path) -> pd.DataFrame:
    """SCDB's justice-centered file (by docket): a justice voted for the petitioner when in
    the majority of a case the petitioner won, or in dissent from one the petitioner lost
    (``partyWinning`` 1 or 0; cases it marks unclear, 2, and justices not voting are left
    out). The seat is the natural court (the bench's composition), the time the term."""
    read = pd.read_csv(path, encoding="latin-1", dtype=str, keep_default_na=False)
    winner = pd.to_numeric(read["partyWinning"], errors="coerce")
    majority = pd.to_numeric(read["majority"], errors="coerce")
    known = winner.isin([0, 1]) & majority.isin([1, 2])
    read = read[known]
    for_petitioner = (majority[known] == 2) == (winner[known] == 1)
    votes = read.drop(columns=[c for c in VOTE_COLUMNS if c in read.columns]).assign(
        member=read["justiceName"],
        seat=read["naturalCourt"],
        time=pd.to_numeric(read["term"], errors="coerce"),
        vote=for_petitioner.astype(int),
    )
    return votes.replace({"": None}).reset_index(drop=True)


READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "scdb.justice_votes": scdb_justice_votes,
}


def read_votes(reader: str, path: Path | str) -> pd.DataFrame:
    """The votes at ``path`` as ``reader`` reads them."""
    try:
        read = READERS[reader]
    except KeyError:
        raise KeyError(f"unknown votes reader {reader!r}; known: {', '.join(READERS)}") from None
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"the votes file {path} is missing (see the data set's SOURCE.md)")
    return read(path)
