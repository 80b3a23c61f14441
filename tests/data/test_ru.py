"""Russian decisions: inputs are facts and evidence only, never the operative part."""

import copy
import gzip
import json
from pathlib import Path

import pytest

from casecast.data.datasets import get_dataset, model_fields
from casecast.data.schema import model_input
from casecast.data.settings import DataSettings
from tests.cases import read_cases, source_file

CLASSES = get_dataset("ru").classes
# Sections and fields that state the outcome (the spec's post-decision columns).
STATED = get_dataset("ru").file.post_decision


@pytest.fixture(scope="module")
def ru_path() -> Path:
    path = source_file("ru")
    if not path.is_file():
        pytest.skip("Russian data not found")
    return path


def _write(cases: list[dict], path: Path) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    return path


def test_labels_and_inputs(raw_cases, tmp_path):
    """Facts and evidence, line by line, as far as the section parser says they precede the
    decision; a case left with no text is not kept."""
    from casecast.data.russian import pre_decision_paragraphs

    corpus = read_cases("ru", _write(raw_cases[:200], tmp_path / "cases.jsonl.gz"))
    assert set(corpus.labels()) <= set(CLASSES)
    expected = {}
    for case in raw_cases[:200]:
        lines = [
            line.strip() for block in case["facts"] + case["evidence"]
            for line in block.split("\n") if line.strip()
        ]  # fmt: skip
        if lines and pre_decision_paragraphs(lines):
            expected[f"ru-{case['id']}"] = tuple(pre_decision_paragraphs(lines))
    assert [r.case_id for r in corpus.records] == list(expected)
    assert len(expected) > 150
    for record in corpus.records:
        assert set(record.inputs) == {"proceeding", "year", "charge", "prior_record"}
        assert record.paragraphs == expected[record.case_id]


def test_outcome_sections_never_reach_model_input(raw_cases, tmp_path):
    cases = raw_cases[:200]
    scrubbed = copy.deepcopy(cases)
    for case in scrubbed:
        for name in STATED:
            case[name] = [] if isinstance(case.get(name), list) else None
    original = read_cases("ru", _write(cases, tmp_path / "a.jsonl.gz"))
    blanked = read_cases("ru", _write(scrubbed, tmp_path / "b.jsonl.gz"))
    assert model_input(original.records) == model_input(blanked.records)
    for record, case in zip(original.records, cases, strict=False):
        resolution = " ".join(case["resolution"])
        if len(resolution) > 50:
            assert resolution[:50] not in record.text


def test_the_introduction_gives_only_the_charge_and_the_prior_record(raw_cases, tmp_path):
    cases = raw_cases[:200]
    blank = [{**case, "intro": []} for case in cases]
    original = read_cases("ru", _write(cases, tmp_path / "a.jsonl.gz"))
    without = read_cases("ru", _write(blank, tmp_path / "b.jsonl.gz"))
    particulars = {"charge", "prior_record"}
    for record, plain in zip(original.records, without.records, strict=True):
        assert record.text == plain.text
        assert all(plain.inputs[name] is None for name in particulars)
        rest = {k: v for k, v in record.inputs.items() if k not in particulars}
        assert rest == {k: v for k, v in plain.inputs.items() if k not in particulars}
    assert sum(r.inputs["charge"] is not None for r in original.records) > 150


def test_judge_names_are_read_only_when_asked(ru_path):
    plain = read_cases("ru", ru_path, limit=60)
    assert all("judge" not in r.inputs for r in plain.records)
    with_judges = read_cases("ru", ru_path, limit=60, judges=True)
    names = [r.inputs["judge"] for r in with_judges.records]
    assert sum(n is not None for n in names) >= 30
    assert "Ярусова А.Н." in names  # the first ruling: "Судья ... Ярусова А.Н., ..."
    for plain_record, judged in zip(plain.records, with_judges.records, strict=True):
        assert {k: v for k, v in judged.inputs.items() if k != "judge"} == plain_record.inputs


def test_judge_feature_is_off_by_default_and_never_for_echr(monkeypatch):
    monkeypatch.delenv("CASECAST_JUDGE_FEATURES", raising=False)
    assert "judge" not in model_fields(get_dataset("ru"), DataSettings())[0]
    monkeypatch.setenv("CASECAST_JUDGE_FEATURES", "true")
    opted_in = DataSettings()
    assert opted_in.judge_features
    assert model_fields(get_dataset("ru"), opted_in)[0][-1] == "judge"
    assert model_fields(get_dataset("echr"), opted_in) == model_fields(
        get_dataset("echr"), DataSettings(judge_features=False)
    )
