"""`casecast data validate` on a large export: rows per second and peak memory.

Writes a CSV of ``--rows`` records (about 2 KB of text each) with the separator "|~|",
every record's text running over several lines inside quotes (quotes doubled in it), "-"
for missing values, and its spec; then, each in a fresh process, (1) the floor: Python's
csv module alone splitting the same file (no mapping, no checks) and (2) `data validate`
with all its checks, (3) `data prepare` writing the canonical Parquet shards. Prints rows/s
of each, validate's ratio to the floor, and each process's peak RSS.
Goal: validate at >= 20,000 rows/s on 2 cores with peak RSS <= 1 GB at 1,000,000 rows.

    .venv/bin/python benchmarks/validate_scale.py [--rows 1000000] [--folder /tmp/scale]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

SEPARATOR = "|~|"
WORDS = [
    "claimant",
    "respondent",
    "court",
    "appeal",
    "contract",
    "payment",
    "notice",
    "hearing",
    "evidence",
    "witness",
    "statement",
    "damages",
    "amount",
    "months",
    "salary",
    "employer",
    "tenant",
    "landlord",
    "refund",
    "goods",
    "delivery",
    "invoice",
    "signed",
    "agreement",
    "period",
    "judgment",
    "first",
    "instance",
    "district",
    "regional",
    "filed",
]
SPEC = """\
name: scale
description: a generated export for the validate benchmark
names: {en: Scale court, ru: Суд, kk: Сот}
source: {format: csv, files: [export.csv], separator: "|~|"}
record: {id: {column: id}, date: {column: decided, format: "%Y-%m-%d"}, court: court}
text: {columns: [text], split: lines}
inputs:
  court: {}
  claim: {}
  amount: {type: number}
  year: {column: decided, type: year}
outcome: {column: result, labels: {granted: granted, dismissed: dismissed, withdrawn: null},
          classes: [dismissed, granted]}
post_decision: [panel]
validation_from: 2020
"""


def write_export(folder: Path, rows: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    with open(folder / "export.csv", "w", encoding="utf-8", newline="") as out:
        out.write(SEPARATOR.join(("id", "decided", "court", "claim", "amount", "text",
                                  "result", "panel")) + "\n")  # fmt: skip
        for number in range(rows):
            lines = [" ".join(rng.choices(WORDS, k=40)) for _ in range(7)]
            lines[2] += ' he said "no" twice'
            text = "\n".join(lines).replace('"', '""')
            amount = "-" if number % 9 == 0 else str(rng.randint(100, 99999))
            result = rng.choice(("granted", "dismissed", "granted", "withdrawn"))
            out.write(SEPARATOR.join((
                f"C-{number}", f"{2010 + number % 14}-{1 + number % 12:02d}-{1 + number % 28:02d}",
                f"court {number % 40}", f"claim {number % 12}", amount, f'"{text}"', result,
                f"panel {number % 5}",
            )) + "\n")  # fmt: skip
    (folder / "scale.yaml").write_text(SPEC, encoding="utf-8")
    return folder / "scale.yaml"


FLOOR = """
import csv, sys
csv.field_size_limit(1 << 30)
n = 0
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    for row in csv.reader((line.replace("|~|", "\\x1f") for line in f), delimiter="\\x1f"):
        n += 1
print(n - 1)
"""
PREPARE = """
import sys, tempfile
from pathlib import Path
from casecast.data.canonical import prepare
from casecast.data.spec import load_spec
spec = Path(sys.argv[1])
files = sorted(spec.parent.glob("export.csv"))
done = prepare(load_spec(spec), spec.read_text(), files, spec.parent, spec.parent,
               spec.parent / "home")
print(done.cases)
"""
VALIDATE = """
import sys
from pathlib import Path
from casecast.data.spec import load_spec
from casecast.data.validate import validate
spec = Path(sys.argv[1])
report = validate(load_spec(spec), spec.parent, spec.parent)
print(report.rows.read)
"""


def timed(code: str, argument: Path) -> tuple[float, int, float]:
    """Seconds, rows, and the process's peak RSS in MB (GNU time)."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-c", code, str(argument)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return seconds, int(done.stdout.strip().splitlines()[-1]), peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/casecast-validate-scale"))
    args = parser.parse_args()
    started = time.perf_counter()
    spec = write_export(args.folder, args.rows)
    size = (args.folder / "export.csv").stat().st_size
    print(f"export: {args.rows:,} rows, {size / 1e9:.2f} GB, written in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    floor_s, floor_rows, floor_mb = timed(FLOOR, args.folder / "export.csv")
    validate_s, validate_rows, validate_mb = timed(VALIDATE, spec)
    prepare_s, prepare_cases, prepare_mb = timed(PREPARE, spec)
    figures = {
        "rows": validate_rows,
        "csv_split_rows_per_s": round(floor_rows / floor_s),
        "validate_rows_per_s": round(validate_rows / validate_s),
        "validate_vs_csv_split": round(floor_s / validate_s, 3),
        "csv_split_peak_rss_mb": round(floor_mb),
        "validate_peak_rss_mb": round(validate_mb),
        "validate_seconds": round(validate_s, 1),
        "prepare_rows_per_s": round(validate_rows / prepare_s),
        "prepare_cases_written": prepare_cases,
        "prepare_peak_rss_mb": round(prepare_mb),
    }
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
