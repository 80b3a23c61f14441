"""ECHR judgments of Chalkidis et al. (ACL 2019) into the canonical schema.

Inputs known before the judgment: the facts (``TEXT``), the respondent state(s) and the
year. ``BRANCH``, ``DOCNAME`` and ``IMPORTANCE`` give the outcome away and ``JUDGES`` names
people, so they never become inputs: the formation and importance are kept as display
metadata, judge names are dropped at load time.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from casecast.data.schema import CaseOutcome, CaseRecord, Corpus, DecidedCase, decade

DATASET = "echr"
JURISDICTION = "ECtHR"
VIOLATION = "violation"
NO_VIOLATION = "no_violation"
CLASSES = (NO_VIOLATION, VIOLATION)
# Fields that are labels or reveal the label; tests assert none of them reaches a model.
OUTCOME_FIELDS = (
    "CONCLUSION",
    "VIOLATED_ARTICLES",
    "VIOLATED_PARAGRAPHS",
    "VIOLATED_BULLETPOINTS",
    "NON_VIOLATED_ARTICLES",
    "NON_VIOLATED_PARAGRAPHS",
    "NON_VIOLATED_BULLETPOINTS",
)
LEAKING_FIELDS = ("BRANCH", "DOCNAME", "IMPORTANCE", "JUDGES")
SPLIT_FILES = {"train": "en_train.jsonl.gz", "dev": "en_dev.jsonl.gz", "test": "en_test.jsonl.gz"}
FOLDER = "echr_chalkidis2019"


def read_split(path: Path | str, limit: int | None = None) -> Corpus:
    """Load one split file (JSON Lines, gzip'd or not) of the Chalkidis et al. format."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no ECHR split at {path}: pass an en_*.jsonl(.gz) file "
            "or run `casecast data fetch echr`"
        )
    records: list[CaseRecord] = []
    outcomes: list[CaseOutcome] = []
    for line_number, raw in enumerate(_lines(path), start=1):
        if limit is not None and len(records) >= limit:
            break
        try:
            case = json.loads(raw)
            record, outcome = parse_case(case)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}:{line_number}: not an ECHR case record ({error})") from error
        records.append(record)
        outcomes.append(outcome)
    return Corpus(DATASET, tuple(records), tuple(outcomes), sources=(str(path),))


def parse_case(case: dict[str, Any]) -> tuple[CaseRecord, CaseOutcome]:
    paragraphs = tuple(p.strip() for p in case["TEXT"] if p and p.strip())
    respondent = str(case.get("RESPONDENT") or "").strip()
    year = int(case["DATE"]) if case.get("DATE") not in (None, "") else None
    judges = [name for name in str(case.get("JUDGES") or "").split(";") if name.strip()]
    record = CaseRecord(
        case_id=str(case["ITEMID"]),
        dataset=DATASET,
        jurisdiction=JURISDICTION,
        court=case.get("BRANCH") or None,
        decision_year=year,
        parties=tuple(s for s in respondent.split(";") if s),
        title=str(case.get("DOCNAME") or case["ITEMID"]),
        paragraphs=paragraphs,
        inputs={"respondent": respondent, "year": year},
        metadata={
            "branch": case.get("BRANCH"),
            "importance": case.get("IMPORTANCE"),
            "n_judges": len(judges),
        },
    )
    violated = tuple(str(a) for a in case.get("VIOLATED_ARTICLES") or ())
    outcome = CaseOutcome(
        case_id=record.case_id,
        label=VIOLATION if violated else NO_VIOLATION,
        violated=violated,
        non_violated=tuple(str(a) for a in case.get("NON_VIOLATED_ARTICLES") or ()),
        summary=str(case.get("CONCLUSION") or ""),
    )
    return record, outcome


def default_splits(data_dir: Path) -> list[Path]:
    """The training splits shipped with the data set (train and dev)."""
    return [data_dir / FOLDER / SPLIT_FILES["train"], data_dir / FOLDER / SPLIT_FILES["dev"]]


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


def relevance(query: DecidedCase, candidate: DecidedCase) -> int:
    """1 if the candidate ruled on an article the query case ruled on; 2 if on a shared
    article both found the same (violation in both, or no violation in both)."""

    def rulings(o: CaseOutcome) -> dict[str, bool]:
        found = {a: False for a in o.non_violated}
        found.update({a: True for a in o.violated})
        return found

    q, c = rulings(query.outcome), rulings(candidate.outcome)
    shared = q.keys() & c.keys()
    if not shared:
        return 0
    return 2 if any(q[a] == c[a] for a in shared) else 1


# Group kinds of the model card; formation and importance may be grouped by, never read.
GROUPS = {
    "respondent state": lambda r: r.parties[0] if r.parties else None,
    "formation": lambda r: r.court,
    "importance": lambda r: r.metadata.get("importance"),
    "decade": decade,
}
