"""Named extension points a spec may call: the few things a data set needs that a mapping of
columns cannot say. Each is a function of one column's value that returns new columns.

A spec names a hook (``derived: [{hook: ru.case_particulars, column: intro}]``); what it
returns joins the row as columns the ``inputs`` may read. Adding a hook is adding an entry
here, with what it returns, and documenting it in ``docs/datasets.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from casecast.data.russian import case_particulars


@dataclass(frozen=True)
class Hook:
    outputs: tuple[str, ...]
    derive: Callable[[Any], dict[str, Any]]
    about: str


def _blocks(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


# "Судья ... Ярусова А.Н." or "в составе председательствующего судьи Будаевой С.В.": the name
# as written (declined forms of one judge stay distinct; the feature is opt-in and rough).
_JUDGE = re.compile(
    r"[Сс]удь[яи][^;\n]*?\s([А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?\s+[А-ЯЁ]\.\s?[А-ЯЁ]\.)"
)


def judge_name(intro: Any) -> str | None:
    """The presiding judge's surname and initials from a Russian introduction, if it names one."""
    found = _JUDGE.search(" ".join(_blocks(intro)))
    if not found:
        return None
    return re.sub(r"\.\s+(?=[А-ЯЁ])", ".", " ".join(found.group(1).split()))


HOOKS: dict[str, Hook] = {
    "ru.case_particulars": Hook(
        ("charge", "prior_record"),
        lambda intro: case_particulars(_blocks(intro)),
        "what a Russian decision's introduction states before the court decides: the charge "
        "(code, article, part) and whether the accused was convicted or fined before",
    ),
    "ru.judge_name": Hook(
        ("judge",),
        lambda intro: {"judge": judge_name(intro)},
        "the sitting judge's name as the introduction writes it (read only with judge features)",
    ),
}


def get_hook(name: str) -> Hook:
    try:
        return HOOKS[name]
    except KeyError:
        raise KeyError(f"unknown hook {name!r}; known: {', '.join(HOOKS)}") from None


def hook_outputs(name: str) -> tuple[str, ...]:
    return get_hook(name).outputs
