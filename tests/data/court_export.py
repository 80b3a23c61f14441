"""A court nobody shipped: an appeals court's export written the awkward way real exports
are (Latin-1, a separator of three characters, every record wrapped in quotes and running
over several lines, "-" for missing values), and its spec file."""

from __future__ import annotations

import random
from pathlib import Path

SEPARATOR = "<=>"
COLUMNS = ("case_no", "decided", "court", "claim", "amount", "summary", "result", "panel")
CLAIMS = {  # claim -> share granted: the signal a model may learn from the facts
    "unpaid wages": 0.8,
    "eviction": 0.3,
    "consumer refund": 0.7,
    "defamation": 0.25,
}
COURTS = ("Nordmark Court of Appeal", "Südstadt Court of Appeal", "-")
DETAILS = {
    "unpaid wages": "The employer withheld {n} months of salary; the pay slips show it.",
    "eviction": "The landlord served notice after {n} months of arrears on the flat.",
    "consumer refund": "The shop refused to refund a faulty appliance returned after {n} days.",
    "defamation": "A newspaper printed {n} articles calling the claimant a fraud.",
}
MONTHS = ("January", "March", "May", "July", "September", "November")
MASK = r"(?i)\bAPPEAL\s+(?:GRANTED|DISMISSED)\.?"

SPEC = """\
# An appeals court of Nordmark (a court made up for the tests).
name: nordmark
description: Nordmark appeal decisions (made up for the tests)
names:
  en: Nordmark Court of Appeal
  ru: Апелляционный суд Нордмарка
  kk: Нордмарк апелляциялық соты
language: en
source:
  format: csv
  files: [exports/appeals-*.csv]
  encoding: latin-1
  separator: "<=>"
  record_quoted: true
record:
  id: {column: case_no, prefix: "nm-"}
  date: {column: decided, format: "%d.%m.%Y"}
  title: "Appeal {case_no}"
  court: court
text:
  columns: [summary]
  split: lines
missing: ["-", "", "None"]
inputs:
  court: {label: {en: Court, ru: Суд, kk: Сот}, group: court}
  claim: {label: {en: Claim, ru: Иск, kk: Талап}, group: claim}
  amount: {type: number, label: Amount claimed}
  year: {column: decided, type: year, label: Year}
outcome:
  column: result
  labels: {granted: granted, "partly granted": granted, dismissed: dismissed, withdrawn: null}
  classes: [dismissed, granted]
  positive: granted
  names:
    granted: {en: appeal granted, ru: жалоба удовлетворена, kk: шағым қанағаттандырылды}
    dismissed: {en: appeal dismissed, ru: жалоба отклонена, kk: шағым қабылданбады}
post_decision: [panel]
masks: MASKS
groups:
  - {name: claim, by: input, columns: [claim]}
  - {name: court, by: court}
validation_from: 2021
relevance: {rule: same_field, field: claim}
page:
  filters: [court, year, outcome]
model:
  track_record: {keys: [[court], [claim]], window: 5, half_life: 2}
"""


def write_court(
    folder: Path,
    cases: int = 240,
    masked: bool = False,
    seed: int = 0,
    scrambled_before: int | None = None,
) -> Path:
    """The export (two files) and the spec in ``folder``; returns the spec's path.
    ``scrambled_before``: the outcomes of earlier years drawn at random (a broken export),
    the later years' cases exactly as without it."""
    rng = random.Random(seed)
    (folder / "exports").mkdir(parents=True, exist_ok=True)
    records = []
    for number in range(cases):
        claim = rng.choice(sorted(CLAIMS))
        roll = rng.random()
        result = "withdrawn" if roll > 0.95 else None
        granted = rng.random() < CLAIMS[claim]
        result = result or (rng.choice(["granted", "partly granted"]) if granted else "dismissed")
        year = 2015 + number * 8 // cases
        noise = random.Random(seed * 7919 + number).random()
        if scrambled_before is not None and year < scrambled_before and result != "withdrawn":
            result, granted = ("granted", True) if noise < 0.5 else ("dismissed", False)
        summary = "\n".join([
            f"The claimant, Mr {rng.choice(['Müller', 'Ødegård', 'Lefèvre', 'Núñez'])}, appealed.",
            DETAILS[claim].format(n=rng.randint(2, 9)),
            f"The first hearing was on {rng.randint(1, 28)} {rng.choice(MONTHS)}, "
            f"case file {rng.randint(100, 999)}/{year}.",
            'He said the first court had "ignored" his evidence; the respondent disagreed.',
            "APPEAL GRANTED." if granted else "APPEAL DISMISSED.",
        ])  # fmt: skip
        amount = "-" if number % 7 == 0 else f"{rng.randint(500, 90000)}.{rng.randint(0, 99):02d}"
        fields = [
            f"A-{number:04d}", f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{year}",
            COURTS[number % 3], claim, amount, f'"{summary.replace(chr(34), chr(34) * 2)}"',
            result, f"panel {number % 4}",
        ]  # fmt: skip
        inner = SEPARATOR.join(fields)
        records.append('"' + inner.replace('"', '""') + '"\n')
    header = '"' + SEPARATOR.join(COLUMNS) + '"\n'
    half = len(records) // 2
    for part, chunk in enumerate((records[:half], records[half:])):
        path = folder / "exports" / f"appeals-{part + 1}.csv"
        path.write_bytes((header + "".join(chunk)).encode("latin-1"))
    spec = folder / "nordmark.yaml"
    masks = f"['{MASK}']" if masked else "[]"  # YAML single quotes: backslashes as written
    spec.write_text(SPEC.replace("MASKS", masks), encoding="utf-8")
    return spec
