"""Rows of a court's export, streamed: CSV (any separator, also several characters long,
quoted fields, records over several lines, whole records wrapped in quotes, any encoding),
JSON lines, Parquet, or a folder of text/PDF/DOCX files beside a metadata table; one file
or many (globs), gzip or zip archives read in place.

Every row carries its file and line, so that whatever is wrong with it can be reported
where the user can find it. Nothing here holds more than one row (or one Parquet batch).
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import sys
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from casecast.data.spec import Join, Source

# Stands in for a separator of several characters while the csv module (one character)
# splits the record; it cannot occur in text, and is checked not to.
_UNIT = "\x1f"
_BREAK = "\x1d"  # stands in for a line break inside a record wrapped in quotes
FILE_TEXT = "file_text"  # the column a "files" source fills with each decision's text
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class SourceError(ValueError):
    """The export cannot be read on: a file missing or not decoding (names file and line)."""


@dataclass(frozen=True, slots=True)
class Row:
    file: str
    line: int  # first line of the record (1-based); the row number for Parquet
    values: dict[str, Any]
    problem: str | None = None  # the row could not even be split into its columns


def source_files(source: Source, spec_folder: Path, data_dir: Path) -> list[Path]:
    """The files a source names, globs expanded in order; ``SourceError`` if none exist."""
    found: list[Path] = []
    for pattern in source.files:
        path = resolve_path(pattern, spec_folder, data_dir)
        matches = sorted(glob.glob(str(path))) if glob.has_magic(str(path)) else [str(path)]
        found.extend(Path(m) for m in matches if Path(m).is_file())
    if not found:
        raise SourceError(
            f"no file matches {', '.join(source.files)} "
            f"(relative to {spec_folder}; {{data_dir}} is {data_dir})"
            + (f": put the files in {source.where}" if source.where else "")
        )
    return found


def resolve_path(pattern: str, spec_folder: Path, data_dir: Path) -> Path:
    path = Path(pattern.replace("{data_dir}", str(data_dir))).expanduser()
    return path if path.is_absolute() else spec_folder / path


def read_rows(
    source: Source, files: Iterable[Path], spec_folder: Path, data_dir: Path
) -> Iterator[Row]:
    """Every row of every file, in order."""
    joined = load_join(source.join, spec_folder, data_dir) if source.join else None
    for path in files:
        if source.format == "csv":
            rows = csv_rows(path, source)
        elif source.format == "jsonl":
            rows = jsonl_rows(path, source)
        elif source.format == "parquet":
            rows = parquet_rows(path)
        else:
            rows = file_rows(path, source, spec_folder, data_dir)
        for row in rows:
            if joined is not None and row.problem is None:
                assert source.join is not None
                row.values.update(joined.get(join_key(row.values, source.join, left=True), {}))
            yield row


@contextmanager
def open_text(path: Path, encoding: str, member: str | None = None) -> Iterator[IO[str]]:
    """``path`` as text lines: plain, gzip, or a member of a zip archive."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            name = member or (names[0] if len(names) == 1 else None)
            if name is None or name not in names:
                raise SourceError(f"{path}: name the member to read (source.member): {names[:5]}")
            with archive.open(name) as raw:
                yield io.TextIOWrapper(raw, encoding=encoding, newline="")
    elif path.suffix == ".gz":
        with gzip.open(path, "rt", encoding=encoding, newline="") as handle:
            yield handle
    else:
        with open(path, encoding=encoding, newline="") as handle:
            yield handle


def _lines(handle: IO[str], path: Path, encoding: str, counter: list[int]) -> Iterator[str]:
    """Lines of ``handle``, counting them; a decoding error names the file and line."""
    iterator = iter(handle)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError as error:
            bad = _undecodable_line(path, encoding, counter[0])
            raise SourceError(
                f"{path}:{bad}: does not decode as {encoding} ({error.reason}); "
                "set source.encoding (e.g. windows-1251, latin-1)"
            ) from None
        counter[0] += 1
        yield line


def _undecodable_line(path: Path, encoding: str, read: int) -> int:
    """The first line after ``read`` good ones that does not decode (decoders read blocks,
    so the error itself does not say which line)."""
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)()
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as raw:
            for number, line in enumerate(raw, start=1):
                if number > read:
                    decoder.decode(line)
    except UnicodeDecodeError:
        return number
    except (OSError, zipfile.BadZipFile):
        pass
    return read + 1


def csv_rows(path: Path, source: Source) -> Iterator[Row]:
    separator = source.separator
    several = len(separator) > 1
    with open_text(path, source.encoding, source.member) as handle:
        if source.record_quoted:
            counter = [0]
            lines: Iterator[str] = _lines(handle, path, source.encoding, counter)
            records = _unwrapped(lines, source.quote, counter)
            if several:
                records = ((n, _swap_separator(text, separator, path, n)) for n, text in records)
            delimiter = _UNIT if several else separator
            split = _split_records(records, delimiter, source.quote)
        else:
            split = _plain_records(handle, path, source)
        header = list(source.columns) if not source.header else None
        for start, fields in split:
            if several:
                fields = [f.replace(_UNIT, separator) if _UNIT in f else f for f in fields]
            if header is None:
                header = [name.strip() for name in fields]
                continue
            if len(fields) != len(header):
                if not any(f.strip() for f in fields):
                    continue  # a blank line between records
                yield Row(
                    str(path),
                    start,
                    {},
                    f"has {len(fields)} fields where the header has {len(header)} "
                    f"(separator {separator!r}: a quote left open, or a separator in the text?)",
                )
                continue
            yield Row(str(path), start, dict(zip(header, fields, strict=True)))


def _plain_records(handle: IO[str], path: Path, source: Source) -> Iterator[tuple[int, list[str]]]:
    """Fields of each record with the line it starts on; a quoted field may carry a record
    over several lines. One pass per line: count, swap a long separator, hand to csv."""
    separator = source.separator
    several = len(separator) > 1

    def lines() -> Iterator[str]:
        number = 0
        try:
            for line in handle:
                number += 1
                if several:
                    if _UNIT in line:
                        raise SourceError(f"{path}:{number}: holds U+001F; cannot split it")
                    line = line.replace(separator, _UNIT)
                yield line
        except UnicodeDecodeError as error:
            bad = _undecodable_line(path, source.encoding, number)
            raise SourceError(
                f"{path}:{bad}: does not decode as {source.encoding} ({error.reason}); "
                "set source.encoding (e.g. windows-1251, latin-1)"
            ) from None

    reader = csv.reader(lines(), delimiter=_UNIT if several else separator, quotechar=source.quote)
    previous = 0
    try:
        for fields in reader:
            yield previous + 1, fields
            previous = reader.line_num
    except csv.Error as error:
        raise SourceError(f"{path}:{previous + 1}: not CSV ({error})") from None


def _split_records(
    records: Iterator[tuple[int, str]], delimiter: str, quote: str
) -> Iterator[tuple[int, list[str]]]:
    """Fields of each record wrapped whole in quotes, with the line it starts on: the wrapper
    bounds the record, so its line breaks are text, quoted or not."""
    for start, text in records:
        if quote not in text:
            yield start, text.split(delimiter)
            continue
        flat = text.replace("\r\n", _BREAK).replace("\n", _BREAK)
        fields = next(csv.reader([flat], delimiter=delimiter, quotechar=quote), [])
        yield start, [f.replace(_BREAK, "\n") for f in fields]


def _guarded(reader: Iterator[list[str]], starts: list[int]) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as error:
        raise SourceError(f"line {starts[-1] if starts else 1}: not CSV ({error})") from None


def _unwrapped(lines: Iterator[str], quote: str, counter: list[int]) -> Iterator[tuple[int, str]]:
    """Records each wrapped whole in quotes (inner quotes doubled): the inner texts, each with
    the line it starts on. The outer layer is a one-column CSV, which the csv module reads."""
    starts: list[int] = []

    def numbered() -> Iterator[str]:
        for line in lines:
            starts.append(counter[0])
            yield line

    reader = csv.reader(numbered(), delimiter="\x1e", quotechar=quote)
    consumed = 0
    for fields in _guarded(reader, starts):
        start = starts[consumed]
        consumed = len(starts)
        if consumed > 4096:
            del starts[: consumed - 1]
            consumed = 1
        if fields:
            yield start, "\x1e".join(fields)


def _swap_separator(text: str, separator: str, path: Path, line: int) -> str:
    if _UNIT in text:
        raise SourceError(f"{path}:{line}: holds the control character U+001F; cannot split it")
    return text.replace(separator, _UNIT)


def jsonl_rows(path: Path, source: Source) -> Iterator[Row]:
    counter = [0]
    with open_text(path, source.encoding, source.member) as handle:
        for line in _lines(handle, path, source.encoding, counter):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except json.JSONDecodeError as error:
                yield Row(str(path), counter[0], {}, f"is not JSON ({error.msg})")
                continue
            if not isinstance(values, dict):
                yield Row(str(path), counter[0], {}, "is not a JSON object")
                continue
            yield Row(str(path), counter[0], values)


def parquet_rows(path: Path) -> Iterator[Row]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for values in batch.to_pylist():
            number += 1
            yield Row(str(path), number, values)


def file_rows(path: Path, source: Source, spec_folder: Path, data_dir: Path) -> Iterator[Row]:
    """A metadata table (CSV) whose ``file_column`` names each decision's file."""
    assert source.text_folder and source.file_column
    folder = resolve_path(source.text_folder, spec_folder, data_dir)
    for row in csv_rows(path, source):
        if row.problem is None:
            name = str(row.values.get(source.file_column) or "")
            document = folder / name
            if not name or not document.is_file():
                yield Row(row.file, row.line, row.values, f"names no file in {folder}: {name!r}")
                continue
            try:
                row.values[FILE_TEXT] = document_text(document, source.encoding)
            except Exception as error:
                yield Row(row.file, row.line, row.values, f"{name}: cannot be read ({error})")
                continue
        yield row


def document_text(path: Path, encoding: str) -> str:
    """The text of one decision file of the court's own export (.txt, .pdf, .docx)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader

        return "\n\n".join((page.extract_text() or "").strip() for page in PdfReader(path).pages)
    if suffix == ".docx":
        from docx import Document

        return "\n\n".join(p.text for p in Document(str(path)).paragraphs if p.text.strip())
    return path.read_text(encoding=encoding)


def load_join(
    join: Join, spec_folder: Path, data_dir: Path
) -> dict[tuple[str, ...], dict[str, Any]]:
    """The joined table by its key; the first row of a repeated key is kept."""
    path = resolve_path(join.path, spec_folder, data_dir)
    if not path.is_file():
        return {}
    source = Source(
        format="csv", files=[str(path)], encoding=join.encoding, separator=join.separator
    )
    table: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in csv_rows(path, source):
        if row.problem is not None:
            continue
        key = join_key(row.values, join, left=False)
        if key not in table:
            values = row.values
            table[key] = {c: values.get(c) for c in join.columns} if join.columns else values
    return table


def join_key(values: dict[str, Any], join: Join, left: bool) -> tuple[str, ...]:
    from casecast.data.mapping import leading_year

    key = []
    for mine, theirs in join.keys.items():
        column = mine if left else theirs
        value = str(values.get(column) if values.get(column) is not None else "").strip()
        if mine in join.year_keys:
            value = str(leading_year(value))
        key.append(value)
    return tuple(key)
