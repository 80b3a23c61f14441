"""What of a decision's text may be a model input, by the language it is written in.

Languages with a section parser lose the sections that state or imply the outcome (and the
judge's name) from every text: a data set's decisions, and the texts sent to a model or a
search. A language without one keeps its texts whole; its loader chooses the sections.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from casecast.data import russian

PRE_DECISION: dict[str, Callable[[Sequence[str]], list[str]]] = {
    "ru": russian.pre_decision_paragraphs,
}
# What a decision's introduction states before the court decides (the charge, the record).
PARTICULARS: dict[str, Callable[[str], dict[str, str | None]]] = {
    "ru": lambda text: russian.case_particulars(russian.introduction(text)),
}


def pre_decision_paragraphs(paragraphs: Sequence[str], language: str) -> list[str]:
    """``paragraphs`` without what a decision in ``language`` says after the facts."""
    keep = PRE_DECISION.get(language)
    return list(paragraphs) if keep is None else keep(paragraphs)


def stated_particulars(text: str, language: str) -> dict[str, str]:
    """The inputs a pasted decision's introduction states (none for an account of facts, or
    a language without a parser), for the fields a request leaves out."""
    read = PARTICULARS.get(language)
    found = read(text) if read is not None else {}
    return {name: value for name, value in found.items() if value is not None}
