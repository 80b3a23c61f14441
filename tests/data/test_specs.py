"""A data set as a spec file: exports of every shape read into the canonical record, bad
specs and bad files refused with the key, file and line, and `data validate`'s report."""

from __future__ import annotations

import gzip
import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casecast.data.datasets import get_dataset, known, read_split, resolve
from casecast.data.settings import DataSettings
from casecast.data.spec import SpecError, load_spec, parse_spec
from casecast.data.validate import validate
from casecast.training.cli import app
from tests.data.court_export import COLUMNS, write_court


def _report(spec_path: Path):
    return validate(load_spec(spec_path), spec_path.parent, spec_path.parent)


def _cases(spec_path: Path):
    spec = resolve(load_spec(spec_path), spec_path)
    files = spec.default_splits(spec_path.parent)
    return [c for path in files for c in zip(*_read(spec, path), strict=True)]


def _read(spec, path):
    corpus = read_split(spec, path, DataSettings(data_dir=path.parent))
    return corpus.records, corpus.outcomes


def test_the_court_export_reads_into_the_canonical_record(tmp_path):
    """Latin-1, "<=>" between fields, records wrapped in quotes over several lines, quotes
    doubled inside, "-" for missing; labels merged ("partly granted"), one dropped."""
    spec_path = write_court(tmp_path)
    cases = _cases(spec_path)
    report = _report(spec_path)
    assert report.rows.read == 240 and report.rows.kept == len(cases) == 240 - 13
    assert report.rows.dropped_labels == {"withdrawn": 13}
    record, outcome = cases[0]
    assert record.case_id == "nm-A-0000" and record.title == "Appeal A-0000"
    assert record.paragraphs[0] == "The claimant, Mr Núñez, appealed."
    assert 'had "ignored" his evidence' in record.text  # a doubled quote inside, undone
    assert record.inputs["amount"] is None  # "-"
    assert record.decision_year == record.inputs["year"] == 2015
    assert outcome.label == "granted"  # "partly granted", merged
    assert {o.label for _, o in cases} == {"granted", "dismissed"}
    courts = {r.court for r, _ in cases}
    assert courts == {"Nordmark Court of Appeal", "Südstadt Court of Appeal", None}
    assert all("panel" not in json.dumps(dict(r.inputs)) for r, _ in cases)


def test_validate_flags_the_outcome_phrase_until_it_is_masked(tmp_path):
    plain = _report(write_court(tmp_path / "plain"))
    phrases = {s.name for s in plain.suspects if s.kind == "phrase"}
    assert {"appeal granted", "appeal dismissed"} & phrases
    suspect = next(s for s in plain.suspects if s.name == "appeal granted")
    assert suspect.accuracy > 0.99 and suspect.mask == r"(?i)\bappeal\s+granted\b"
    masked = _report(write_court(tmp_path / "masked", masked=True))
    assert not [s for s in masked.suspects if "granted" in s.name or "dismissed" in s.name]
    assert list(masked.masks_applied.values()) == [masked.rows.kept]
    assert all("GRANTED" not in t and "DISMISSED" not in t for t in _texts(tmp_path / "masked"))


def _texts(folder: Path) -> list[str]:
    return [r.text for r, _ in _cases(folder / "nordmark.yaml")]


def test_validate_reports_years_labels_and_duplicates(tmp_path):
    spec_path = write_court(tmp_path)
    export = tmp_path / "exports" / "appeals-2.csv"
    lines = export.read_bytes().split(b"\n")
    export.write_bytes(b"\n".join(lines + lines[1:6]))  # the first record again, at the end
    report = _report(spec_path)
    assert report.duplicate_ids == 1 and report.duplicate_texts == 1
    assert report.duplicate_examples[0].startswith(f"{export}:")
    assert min(report.years) == 2015 and max(report.years) == 2022
    assert sum(report.years.values()) == report.rows.kept
    assert set(report.labels_per_year[2015]) <= {"granted", "dismissed"}
    as_json = report.as_dict()
    assert as_json["date_range"] == [2015, 2022] and as_json["rows"]["read"] == 241
    first_look = validate(load_spec(spec_path), spec_path.parent, spec_path.parent, limit=40)
    assert first_look.rows.kept == sum(first_look.years.values()) == 40
    assert first_look.rows.read < report.rows.read


SPEC_ERRORS = [
    ("  format: csv\n", "  format: csv\n  delimiter: ';'\n", "source.delimiter", "unknown key"),
    ("format: \"%d.%m.%Y\"", "format: \"%Y/%m/%d\"", "record.date.format", "not match"),
    ("withdrawn: null", "withdrawn: null, appeal: appeal", "outcome", "not among classes"),
    ("classes: [dismissed, granted]", "classes: [dismissed, granted, remitted]",
     "outcome.classes", "remitted have no case"),
    ("masks: []", "masks: ['(unclosed']", "masks", "does not compile"),
    ("  claim: {label:", "  claim: {column: claim_type, label:", "inputs.claim", "not in"),
    ("post_decision: [panel]", "post_decision: [panel, amount]", "", "which the decision states"),
    ("keys: [[court], [claim]]", "keys: [[court], [panel]]", "", "track_record reads ['panel']"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "key", "message"), SPEC_ERRORS)
def test_a_bad_spec_is_refused_naming_the_key_and_nothing_is_written(
    tmp_path, monkeypatch, old, new, key, message
):
    spec_path = write_court(tmp_path)
    text = spec_path.read_text(encoding="utf-8")
    assert old in text
    spec_path.write_text(text.replace(old, new), encoding="utf-8")
    home = tmp_path / "home"
    monkeypatch.setenv("CASECAST_HOME", str(home))
    monkeypatch.setenv("CASECAST_DATA_DIR", str(tmp_path))
    for command in (["data", "validate", str(spec_path)], ["train", "--dataset", str(spec_path)]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code != 0, result.output
        assert message in result.output and key in result.output, result.output
    assert not (home / "datasets.json").exists() and not (home / "mlruns").exists()
    assert not list(home.glob("*.db"))


def test_spec_errors_name_the_line(tmp_path):
    spec_path = write_court(tmp_path)
    text = spec_path.read_text(encoding="utf-8").replace(
        "  format: csv\n", "  format: csv\n  sep: ;\n"
    )
    with pytest.raises(SpecError) as raised:
        parse_spec(text, spec_path)
    line = text.split("\n").index("  sep: ;") + 1
    assert raised.value.line == line and raised.value.key == "source.sep"
    assert f"{spec_path}:{line}: source.sep: unknown key (known here: format, files" in str(
        raised.value
    )


def test_a_file_that_does_not_decode_names_the_file_and_line(tmp_path):
    spec_path = write_court(tmp_path)
    spec_path.write_text(spec_path.read_text().replace("latin-1", "utf-8"), encoding="utf-8")
    result = CliRunner().invoke(app, ["data", "validate", str(spec_path)])
    assert result.exit_code == 2
    assert "appeals-1.csv:2: does not decode as utf-8" in result.output.replace("\n", "")


def test_bad_rows_are_reported_with_lines_or_stop_the_reading(tmp_path):
    spec_path = write_court(tmp_path)
    export = tmp_path / "exports" / "appeals-1.csv"
    text = export.read_text(encoding="latin-1")
    text = re.sub(r"<=>\d\d\.\d\d\.2015<=>", "<=>31.02.2015<=>", text, count=1)
    export.write_text(text, encoding="latin-1")
    report = _report(spec_path)
    assert report.rows.left_out == {"bad date": 1}
    assert report.rows.examples["bad date"][0].startswith(f"{export}:2: decided '31.02.2015'")
    strict = spec_path.read_text().replace("page:", "skip_bad_rows: false\npage:")
    spec_path.write_text(strict)
    with pytest.raises(ValueError, match=r"appeals-1\.csv:2: bad date"):
        _report(spec_path)


MINIMAL = """
name: tiny
description: one shape of export
names: {{en: Tiny court, ru: Малый суд, kk: Шағын сот}}
source: {source}
record: {{id: {{column: id}}, date: {{column: date, format: "%Y-%m-%d"}}}}
text: {{columns: [{text}]}}
inputs: {{year: {{column: date, type: year}}, kind: {{}}}}
outcome: {{column: result, labels: {{won: won, lost: lost}}, classes: [lost, won]}}
validation_from: 2020
"""
ROWS = [
    {"id": "1", "date": "2019-05-01", "kind": "civil", "result": "won",
     "text": "First paragraph, with a comma.\n\nSecond paragraph."},
    {"id": "2", "date": "2021-01-02", "kind": "criminal", "result": "lost", "text": "Facts."},
]  # fmt: skip


def _tiny(folder: Path, source: str, text: str = "text") -> list:
    spec_path = folder / "tiny.yaml"
    spec_path.write_text(MINIMAL.format(source=source, text=text), encoding="utf-8")
    spec = resolve(load_spec(spec_path), spec_path)
    return [r for path in spec.default_splits(folder) for r in _read(spec, path)[0]]


def test_json_lines_parquet_and_archives_read_in_place(tmp_path):
    import pandas as pd

    with gzip.open(tmp_path / "a.jsonl.gz", "wt") as out:
        out.write("".join(json.dumps(row) + "\n" for row in ROWS))
    pd.DataFrame(ROWS).to_parquet(tmp_path / "b.parquet")
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as archive:
        archive.writestr("export.csv", pd.DataFrame(ROWS).to_csv(index=False, sep=";"))
    sources = {
        "jsonl": "{format: jsonl, files: ['*.jsonl.gz']}",
        "parquet": "{format: parquet, files: [b.parquet]}",
        "zip": "{format: csv, files: [c.zip], separator: ';'}",
    }
    for name, source in sources.items():
        records = _tiny(tmp_path, source)
        assert [r.case_id for r in records] == ["1", "2"], name
        assert records[0].paragraphs == ("First paragraph, with a comma.", "Second paragraph.")
        assert records[1].inputs == {"year": 2021, "kind": "criminal"}, name


def test_a_folder_of_decision_files_beside_a_metadata_table(tmp_path):
    from docx import Document

    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "1.txt").write_text(ROWS[0]["text"], encoding="utf-8")
    document = Document()
    document.add_paragraph("Facts.")
    document.save(tmp_path / "texts" / "2.docx")
    table = "id,date,kind,result,file\n1,2019-05-01,civil,won,1.txt\n"
    table += "2,2021-01-02,criminal,lost,2.docx\n"
    (tmp_path / "meta.csv").write_text(table + "3,2021-01-03,civil,won,missing.txt\n")
    source = "{format: files, files: [meta.csv], text_folder: texts, file_column: file}"
    records = _tiny(tmp_path, source, text="file_text")
    assert [r.text for r in records] == [ROWS[0]["text"], "Facts."]


def test_a_registered_spec_is_known_by_name_from_any_folder(tmp_path, monkeypatch):
    spec_path = write_court(tmp_path / "court", masked=True)
    home = tmp_path / "home"
    monkeypatch.setenv("CASECAST_HOME", str(home))
    result = CliRunner().invoke(app, ["data", "add", str(spec_path)])
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(tmp_path)
    settings = DataSettings()
    assert known(settings)["nordmark"] == spec_path.resolve()
    spec = get_dataset("nordmark", settings)
    assert spec.classes == ("dismissed", "granted") and spec.names_in("kk")
    assert spec.categorical == ("court", "claim") and spec.numeric == ("amount", "year")
    assert COLUMNS[-1] not in spec.categorical  # the panel is post-decision


def test_prepared_shards_hold_the_same_cases_and_go_stale_with_the_spec(tmp_path, monkeypatch):
    from casecast.data.datasets import load_corpus_with_report

    spec_path = write_court(tmp_path / "court", masked=True)
    home = tmp_path / "home"
    monkeypatch.setenv("CASECAST_HOME", str(home))
    settings = DataSettings()
    name = str(spec_path)
    from_source, _ = load_corpus_with_report(name, settings)
    result = CliRunner().invoke(app, ["data", "prepare", name])
    assert result.exit_code == 0, result.output
    shards = sorted((home / "datasets" / "nordmark").glob("part-*.parquet"))
    assert len(shards) == 1
    from_shards, reports = load_corpus_with_report(name, settings)
    assert from_shards.records == from_source.records
    assert from_shards.outcomes == from_source.outcomes
    assert reports[0].dropped_labels == {"withdrawn": 13}
    shards[0].write_bytes(b"not parquet")  # read only while the spec and files are the same:
    spec_path.write_text(spec_path.read_text() + "\n# edited\n")
    again, _ = load_corpus_with_report(name, settings)
    assert again.records == from_source.records
