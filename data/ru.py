"""Russian court decisions (HSE × Novaya Gazeta markup): criminal drug cases and
administrative offences at public assemblies.

Inputs: the facts (fabula) and evidence sections, the kind of proceeding, the year, and what
the introduction states before the court decides: the charge and the accused's prior record
(``russian.case_particulars``). The operative part, the court's reasoning, the cited norms
and the whole text state the outcome, so none of them is an input; of the introduction
nothing else is read. The one exception is opt-in: with ``judges=True`` (setting
``CASECAST_JUDGE_FEATURES``) the judge's name, as the introduction writes it, becomes the
``judge`` input.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

from casecast.data.russian import case_particulars
from casecast.data.schema import CaseOutcome, CaseRecord, Corpus, DecidedCase, decade

DATASET = "ru"
JURISDICTION = "Russian courts of general jurisdiction"
FOLDER, FILE = "ru_court_decisions_hse_novaya", "ru_court_decisions.jsonl.gz"
INPUT_SECTIONS = ("facts", "evidence")
OUTCOME_FIELDS = (
    "outcome", "outcome_source", "convicted", "fine_amount_rub", "prison_term_y_m_d",
    "colony_type", "suspended", "main_article", "plea_guilty",
)  # fmt: skip
LEAKING_SECTIONS = ("resolution", "reasoning", "legal_norms", "text", "text_tagged")
# Read only for what it states before the decision (the charge, the prior record; the
# judge's name where opted in).
INTRO_SECTION = "intro"
# Sanction types with too few cases to learn from fall into "other".
LABELS = {
    "imprisonment": "imprisonment",
    "suspended_imprisonment": "suspended_imprisonment",
    "fine": "fine",
    "administrative_arrest": "administrative_arrest",
    "terminated": "terminated",
}
OTHER = "other"
CLASSES = (*LABELS.values(), OTHER)
# What each code lets a court decide: administrative arrest is a penalty of the Code of
# Administrative Offences alone (КоАП ст. 3.2, 3.9), imprisonment, suspended or not, of the
# Criminal Code alone (УК ст. 44, 56, 73). Fines, compulsory works ("other") and termination
# are in both. A model gives the rest no probability.
OUTCOMES_BY_PROCEEDING = {
    "administrative": ("administrative_arrest", "fine", "terminated", OTHER),
    "criminal": ("imprisonment", "suspended_imprisonment", "fine", "terminated", OTHER),
}
FIELD_LABELS = {
    "proceeding": "Kind of proceeding",
    "year": "Year of the decision",
    "charge": "Charge (code, article, part)",
    "prior_record": "Prior record",
    "judge": "Judge",
}
PROCEEDINGS = {"administrative": "administrative offence", "criminal": "criminal case"}
PRIOR_RECORD = {"yes": "convicted or fined before", "no": "none stated"}
JUDGE_FIELD = "judge"
# "Судья ... Ярусова А.Н." or "в составе председательствующего судьи Будаевой С.В.": the name
# as written (declined forms of one judge stay distinct; the feature is opt-in and rough).
_JUDGE = re.compile(
    r"[Сс]удь[яи][^;\n]*?\s([А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?\s+[А-ЯЁ]\.\s?[А-ЯЁ]\.)"
)


def read_split(path: Path | str, limit: int | None = None, judges: bool = False) -> Corpus:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no Russian decisions file at {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    records: list[CaseRecord] = []
    outcomes: list[CaseOutcome] = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if limit is not None and len(records) >= limit:
                break
            try:
                record, outcome = parse_case(json.loads(line), judges=judges)
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ValueError(
                    f"{path}:{line_number}: not a decision record ({error})"
                ) from error
            if record.paragraphs:
                records.append(record)
                outcomes.append(outcome)
    return Corpus(DATASET, tuple(records), tuple(outcomes), sources=(str(path),))


def parse_case(case: dict[str, Any], judges: bool = False) -> tuple[CaseRecord, CaseOutcome]:
    paragraphs = tuple(
        line.strip()
        for section in INPUT_SECTIONS
        for block in case.get(section) or ()
        for line in str(block).split("\n")
        if line.strip()
    )
    date = case.get("decision_date") or ""
    year = int(date[:4]) if date[:4].isdigit() else None
    proceeding = str(case.get("proceeding") or "unknown")
    inputs: dict[str, Any] = {
        "proceeding": proceeding,
        "year": year,
        **case_particulars(case.get(INTRO_SECTION) or ()),
    }
    if judges:
        inputs[JUDGE_FIELD] = judge_name(case.get(INTRO_SECTION))
    record = CaseRecord(
        case_id=f"ru-{case['id']}",
        dataset=DATASET,
        jurisdiction=JURISDICTION,
        court=proceeding,
        decision_year=year,
        parties=(),
        title=f"Дело № {case['case_number']}" if case.get("case_number") else str(case["id"]),
        paragraphs=paragraphs,
        inputs=inputs,
        metadata={"collection": case.get("collection")},
    )
    outcome = CaseOutcome(
        case_id=record.case_id,
        label=LABELS.get(str(case["outcome"]), OTHER),
        summary=str(case["outcome"]),
    )
    return record, outcome


def judge_name(intro: Any) -> str | None:
    """The presiding judge's surname and initials from the introduction, if it names one."""
    text = " ".join(map(str, intro)) if isinstance(intro, list) else str(intro or "")
    found = _JUDGE.search(text)
    if not found:
        return None
    return re.sub(r"\.\s+(?=[А-ЯЁ])", ".", " ".join(found.group(1).split()))


def default_splits(data_dir: Path) -> list[Path]:
    return [data_dir / FOLDER / FILE]


def relevance(query: DecidedCase, candidate: DecidedCase) -> int:
    """1 for the same kind of proceeding; 2 for the same sanction as well."""
    if query.record.court != candidate.record.court:
        return 0
    return 2 if query.outcome.label == candidate.outcome.label else 1


GROUPS = {
    "proceeding": lambda r: r.court,
    "charge": lambda r: r.inputs.get("charge"),
    "prior record": lambda r: r.inputs.get("prior_record"),
    "decade": decade,
}
