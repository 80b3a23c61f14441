"""A data set in canonical form: its cases as Parquet shards in the home, written while the
export streams (one shard of ``SHARD_ROWS`` cases in memory at a time), with a manifest
that says what they were made from. Training reads the shards when the manifest still
matches the spec and the source files; anything changed, it reads the source again.

Layout: ``<home>/datasets/<name>/part-00000.parquet, ..., manifest.json``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casecast.data.reading import ReadReport, check_usable, mapped_rows, schema_checked
from casecast.data.schema import CaseOutcome, CaseRecord, Corpus
from casecast.data.sources import read_rows
from casecast.data.spec import SpecFile

SHARD_ROWS = 20_000  # about 50 MB of text a shard: the peak stays a few hundred MB
MANIFEST = "manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class Prepared:
    folder: Path
    shards: int
    cases: int
    report: ReadReport


def source_stamp(spec_text: str, files: Iterable[Path], judges: bool) -> dict[str, Any]:
    """What the shards are made from: the spec as written, each file's size and time."""
    return {
        "format": FORMAT,
        "spec_sha256": hashlib.sha256(spec_text.encode("utf-8")).hexdigest(),
        "judges": judges,
        "files": [
            {"path": str(p), "bytes": p.stat().st_size, "mtime_ns": p.stat().st_mtime_ns}
            for p in files
        ],
    }


def prepared_folder(home: Path, name: str) -> Path:
    return home / "datasets" / name


def prepare(
    spec: SpecFile,
    spec_text: str,
    files: list[Path],
    spec_folder: Path,
    data_dir: Path,
    home: Path,
    judges: bool = False,
) -> Prepared:
    """Read the export once and write its cases as shards; the old shards are replaced only
    once the new ones are complete."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = prepared_folder(home, spec.name)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    report = ReadReport()
    rows = schema_checked(spec, read_rows(spec.source, files, spec_folder, data_dir))
    shards = cases = 0
    cases_read = (_row(m.record, m.outcome) for m in mapped_rows(spec, rows, report, judges=judges))
    for batch in _batches(cases_read, SHARD_ROWS):
        table = pa.Table.from_pylist(batch, schema=SCHEMA)
        del batch  # the rows as Python objects: gone before the shard is written
        pq.write_table(table, partial / f"part-{shards:05d}.parquet", compression="zstd")
        shards += 1
        cases += table.num_rows
    check_usable(spec, report)
    manifest = {
        **source_stamp(spec_text, files, judges),
        "dataset": spec.name,
        "cases": cases,
        "shards": shards,
        "rows": report.as_dict(),
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    partial.replace(target)
    return Prepared(target, shards, cases, report)


def read_prepared(folder: Path, stamp: dict[str, Any], limit: int | None = None) -> Corpus | None:
    """The corpus of the shards in ``folder`` if they were made from ``stamp``, else None."""
    import pyarrow.parquet as pq

    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if {k: manifest.get(k) for k in stamp} != stamp:
        return None
    records: list[CaseRecord] = []
    outcomes: list[CaseOutcome] = []
    for shard in sorted(folder.glob("part-*.parquet")):
        for row in pq.read_table(shard).to_pylist():
            record, outcome = _case(row)
            records.append(record)
            outcomes.append(outcome)
            if limit is not None and len(records) >= limit:
                break
        if limit is not None and len(records) >= limit:
            break
    sources = tuple(f["path"] for f in stamp["files"])
    return Corpus(manifest["dataset"], tuple(records), tuple(outcomes), sources=sources)


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _schema() -> Any:
    import pyarrow as pa

    text_list = pa.list_(pa.string())
    return pa.schema([
        ("case_id", pa.string()), ("dataset", pa.string()), ("jurisdiction", pa.string()),
        ("court", pa.string()), ("decision_year", pa.int32()), ("parties", text_list),
        ("title", pa.string()), ("paragraphs", text_list),
        # JSON keeps each input's own type (a year an integer, an amount a float, None).
        ("inputs_json", pa.string()), ("metadata_json", pa.string()),
        ("label", pa.string()), ("violated", text_list), ("non_violated", text_list),
        ("summary", pa.string()),
    ])  # fmt: skip


SCHEMA = _schema()


def _row(record: CaseRecord, outcome: CaseOutcome) -> dict[str, Any]:
    return {
        "case_id": record.case_id,
        "dataset": record.dataset,
        "jurisdiction": record.jurisdiction,
        "court": record.court,
        "decision_year": record.decision_year,
        "parties": list(record.parties),
        "title": record.title,
        "paragraphs": list(record.paragraphs),
        "inputs_json": json.dumps(dict(record.inputs), ensure_ascii=False),
        "metadata_json": json.dumps(dict(record.metadata), ensure_ascii=False, default=str),
        "label": outcome.label,
        "violated": list(outcome.violated),
        "non_violated": list(outcome.non_violated),
        "summary": outcome.summary,
    }


def _case(row: dict[str, Any]) -> tuple[CaseRecord, CaseOutcome]:
    record = CaseRecord(
        case_id=row["case_id"],
        dataset=row["dataset"],
        jurisdiction=row["jurisdiction"],
        court=row["court"],
        decision_year=row["decision_year"],
        parties=tuple(row["parties"]),
        title=row["title"],
        paragraphs=tuple(row["paragraphs"]),
        inputs=json.loads(row["inputs_json"]),
        metadata=json.loads(row["metadata_json"]),
    )
    outcome = CaseOutcome(
        case_id=row["case_id"],
        label=row["label"],
        violated=tuple(row["violated"]),
        non_violated=tuple(row["non_violated"]),
        summary=row["summary"],
    )
    return record, outcome
