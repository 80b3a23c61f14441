"""US Supreme Court cases: Oyez facts joined to SCDB coded variables known before decision.

Inputs: the Oyez facts summary (HTML stripped), the parties' names (as text), the term, and
the SCDB variables that describe the case as it reached the Court (``PRE_DECISION_COLUMNS``).
Everything the Court decided (votes, disposition, direction, opinion writer, ...) is kept out
(``POST_DECISION_COLUMNS``); tests assert none of it reaches a model.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from casecast.data.schema import CaseOutcome, CaseRecord, Corpus, DecidedCase, decade
from casecast.data.text import split_paragraphs, strip_html

DATASET = "scotus"
JURISDICTION = "US Supreme Court"
PETITIONER_WINS = "petitioner_wins"
PETITIONER_LOSES = "petitioner_loses"
CLASSES = (PETITIONER_LOSES, PETITIONER_WINS)
OYEZ_FOLDER, OYEZ_FILE = "scotus_oyez_justice", "justice.csv"
SCDB_FOLDER, SCDB_FILE = "scotus_scdb_2024_01", "SCDB_2024_01_caseCentered_Citation.csv"
# The case as it reached the Court: parties, how it came, what the courts below did.
PRE_DECISION_COLUMNS = (
    "petitioner", "petitionerState", "respondent", "respondentState", "jurisdiction",
    "adminAction", "adminActionState", "threeJudgeFdc", "caseOrigin", "caseOriginState",
    "caseSource", "caseSourceState", "lcDisagreement", "certReason", "lcDisposition",
    "lcDispositionDirection", "issueArea", "issue", "lawType", "naturalCourt",
)  # fmt: skip
# What the Court decided, and who wrote it: never inputs.
POST_DECISION_COLUMNS = (
    "dateDecision", "decisionType", "usCite", "sctCite", "ledCite", "lexisCite",
    "declarationUncon", "caseDisposition", "caseDispositionUnusual", "partyWinning",
    "precedentAlteration", "voteUnclear", "decisionDirection", "decisionDirectionDissent",
    "authorityDecision1", "authorityDecision2", "majOpinWriter", "majOpinAssigner",
    "splitVote", "majVotes", "minVotes", "dateRearg", "lawMinor",
)  # fmt: skip
OYEZ_OUTCOME_COLUMNS = ("majority_vote", "minority_vote", "first_party_winner",
                        "decision_type", "disposition")  # fmt: skip
FIELD_LABELS = {"term": "Term", **{c: f"SCDB {c}" for c in PRE_DECISION_COLUMNS}}
# SCDB codebook, issueArea: the same fourteen areas Oyez names in ``issue_area``.
ISSUE_AREAS = {
    "1": "Criminal Procedure", "2": "Civil Rights", "3": "First Amendment", "4": "Due Process",
    "5": "Privacy", "6": "Attorneys", "7": "Unions", "8": "Economic Activity",
    "9": "Judicial Power", "10": "Federalism", "11": "Interstate Relations",
    "12": "Federal Taxation", "13": "Miscellaneous", "14": "Private Action",
}  # fmt: skip


def read_split(
    path: Path | str, limit: int | None = None, scdb: Path | str | None = None
) -> Corpus:
    """Oyez ``justice.csv`` (or any file of its columns), joined to SCDB on docket and term."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no Oyez file at {path}")
    oyez = pd.read_csv(path, dtype={"docket": str, "term": str})
    oyez = oyez[oyez["first_party_winner"].notna()]
    if limit is not None:
        oyez = oyez.head(limit)
    scdb_path = Path(scdb) if scdb else path.parent.parent / SCDB_FOLDER / SCDB_FILE
    coded = _scdb_by_docket_term(scdb_path) if scdb_path.is_file() else {}
    records, outcomes = [], []
    for row in oyez.to_dict("records"):
        record, outcome = parse_case(row, coded.get((str(row["docket"]), _term(row["term"]))))
        if record.paragraphs:
            records.append(record)
            outcomes.append(outcome)
    sources = (str(path), str(scdb_path)) if coded else (str(path),)
    return Corpus(DATASET, tuple(records), tuple(outcomes), sources=sources)


def parse_case(row: dict[str, Any], scdb: dict[str, Any] | None) -> tuple[CaseRecord, CaseOutcome]:
    facts = split_paragraphs(strip_html(str(row.get("facts") or "")))
    first, second = _text(row.get("first_party")), _text(row.get("second_party"))
    parties_line = f"Petitioner: {first}. Respondent: {second}."
    term = _term(row.get("term"))
    inputs: dict[str, Any] = {"term": term}
    for column in PRE_DECISION_COLUMNS:
        inputs[column] = _code((scdb or {}).get(column))
    record = CaseRecord(
        case_id=f"scotus-{row['ID']}",
        dataset=DATASET,
        jurisdiction=JURISDICTION,
        court="SCOTUS",
        decision_year=term,
        parties=tuple(p for p in (first, second) if p),
        title=_text(row.get("name")) or str(row["ID"]),
        paragraphs=(parties_line, *facts) if facts else (),
        inputs=inputs,
        metadata={
            "issue_area": _text(row.get("issue_area")),
            "docket": _text(row.get("docket")),
            "scdb_case_id": (scdb or {}).get("caseId"),
        },
    )
    wins = str(row["first_party_winner"]).strip().lower() in ("true", "1", "1.0")
    outcome = CaseOutcome(
        case_id=record.case_id,
        label=PETITIONER_WINS if wins else PETITIONER_LOSES,
        summary=_text(row.get("disposition")),
    )
    return record, outcome


def default_splits(data_dir: Path) -> list[Path]:
    return [data_dir / OYEZ_FOLDER / OYEZ_FILE]


def _scdb_by_docket_term(path: Path) -> dict[tuple[str, int | None], dict[str, Any]]:
    table = pd.read_csv(path, dtype={"docket": str}, encoding="utf-8", low_memory=False)
    table = table.drop_duplicates(subset=["docket", "term"], keep="first")
    return {(str(r["docket"]), _term(r["term"])): r for r in table.to_dict("records")}


def _term(value: Any) -> int | None:
    """The October term; Oyez's era buckets ("1789-1850") count from their first year."""
    text = str(value or "").strip()
    head = text.split("-")[0]
    return int(float(head)) if head.replace(".", "").isdigit() else None


def _code(value: Any) -> str | None:
    """SCDB codes are integers stored as floats; keep them as category names."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def relevance(query: DecidedCase, candidate: DecidedCase) -> int:
    """1 for the same issue area; 2 for the same issue area and the same winning side."""
    area = query.record.metadata.get("issue_area")
    if not area or area != candidate.record.metadata.get("issue_area"):
        return 0
    return 2 if query.outcome.label == candidate.outcome.label else 1


def issue_area(record: CaseRecord) -> str | None:
    """The SCDB code the model reads, named; Oyez's own label where SCDB has none."""
    return (
        ISSUE_AREAS.get(record.inputs.get("issueArea") or "")
        or record.metadata.get("issue_area")
        or None
    )


GROUPS = {"issue area": issue_area, "term decade": decade}
