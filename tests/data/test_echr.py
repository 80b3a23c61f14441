import gzip
import json
from pathlib import Path

import pytest

from casecast.data.datasets import get_dataset, load_corpus
from casecast.data.schema import TEXT_COLUMN, model_input
from casecast.data.settings import DataSettings
from tests.cases import read_cases
from tests.conftest import read_raw_cases

VIOLATION, NO_VIOLATION = "violation", "no_violation"


def test_reads_real_cases_into_the_canonical_schema(train_slice, echr_train_path):
    raw = read_raw_cases(echr_train_path, 5)
    record, outcome = train_slice.records[0], train_slice.outcomes[0]
    assert record.case_id == raw[0]["ITEMID"] == outcome.case_id
    assert record.dataset == "echr" and record.jurisdiction == "ECtHR"
    assert record.paragraphs == tuple(p.strip() for p in raw[0]["TEXT"] if p.strip())
    assert record.decision_year == raw[0]["DATE"]
    assert record.title == raw[0]["DOCNAME"]
    assert record.parties == tuple(raw[0]["RESPONDENT"].split(";"))
    assert outcome.label == (VIOLATION if raw[0]["VIOLATED_ARTICLES"] else NO_VIOLATION)
    assert outcome.summary == raw[0]["CONCLUSION"]


def test_labels_follow_the_papers_binary_task(train_slice, echr_train_path):
    raw = read_raw_cases(echr_train_path, len(train_slice))
    expected = [VIOLATION if case["VIOLATED_ARTICLES"] else NO_VIOLATION for case in raw]
    assert train_slice.labels() == expected
    assert set(expected) == {VIOLATION, NO_VIOLATION}


def test_model_inputs_are_only_facts_respondent_and_year(train_slice):
    rows = model_input(train_slice.records)
    assert {frozenset(row) for row in rows} == {frozenset({TEXT_COLUMN, "respondent", "year"})}
    for record in train_slice.records:
        assert set(record.inputs) == {"respondent", "year"}
        for value in record.inputs.values():
            assert value is None or isinstance(value, int | str)


def test_judge_names_are_dropped_at_load(train_slice, echr_train_path):
    raw = read_raw_cases(echr_train_path, len(train_slice))
    names = {n for case in raw for n in case["JUDGES"].split(";") if n}
    assert names, "the slice should name judges in its raw form"
    for record in train_slice.records:
        flat = json.dumps([dict(record.inputs), dict(record.metadata), record.title])
        assert not any(name in flat for name in names)


def test_the_spec_names_what_the_judgment_states():
    # Guard for the leakage tests: they blank exactly these columns.
    spec = get_dataset("echr").file
    assert {"BRANCH", "DOCNAME", "IMPORTANCE", "JUDGES", "CONCLUSION"} <= set(spec.post_decision)
    assert spec.outcome.column == "VIOLATED_ARTICLES"
    assert {rule.column for rule in spec.inputs.values()} == {"RESPONDENT", "DATE"}


def test_fingerprint_is_order_free_and_content_sensitive(train_slice):
    reordered = train_slice.subset(list(reversed(range(len(train_slice)))))
    assert reordered.fingerprint() == train_slice.fingerprint()
    assert train_slice.subset(range(10)).fingerprint() != train_slice.fingerprint()


def test_plain_jsonl_is_read_too(tmp_path: Path, echr_train_path):
    raw = read_raw_cases(echr_train_path, 3)
    plain = tmp_path / "cases.jsonl"
    plain.write_text("".join(json.dumps(case) + "\n" for case in raw))
    assert [r.case_id for r in read_cases("echr", plain).records] == [c["ITEMID"] for c in raw]


def test_a_broken_line_is_reported_with_file_and_line(tmp_path: Path, echr_train_path):
    from casecast.data.datasets import read_split_with_report

    raw = read_raw_cases(echr_train_path, 2)
    broken = tmp_path / "broken.jsonl.gz"
    with gzip.open(broken, "wt") as out:
        out.write(json.dumps(raw[0]) + "\n")
        out.write(json.dumps({"ITEMID": "x", "DATE": 2010}) + "\n")
        out.write("{not json\n")
    corpus, report = read_split_with_report(get_dataset("echr"), broken)
    assert [r.case_id for r in corpus.records] == [raw[0]["ITEMID"]]
    assert (report.read, report.kept) == (3, 1)
    assert report.left_out == {"empty text": 1, "unreadable row": 1}
    assert report.examples["empty text"][0].startswith(f"{broken}:2: ")
    assert report.examples["unreadable row"][0].startswith(f"{broken}:3: is not JSON")


def test_a_missing_file_says_how_to_get_data(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="casecast data fetch echr"):
        load_corpus("echr", DataSettings(data_dir=tmp_path))


def test_subset_takes_positions_and_numpy_masks(train_slice):
    import numpy as np

    mask = np.zeros(len(train_slice), dtype=bool)
    mask[[2, 5]] = True
    ids = [train_slice.records[i].case_id for i in (2, 5)]
    assert [r.case_id for r in train_slice.subset(mask).records] == ids
    assert [r.case_id for r in train_slice.subset([2, 5]).records] == ids
    with pytest.raises(ValueError, match="mask"):
        train_slice.subset(mask[:-1])
