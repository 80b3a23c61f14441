"""For every shipped data set: what its spec names as stated by the decision (the outcome's
details and every post-decision column) cannot reach a model. Blank all of it in the raw
rows: the model inputs are the same, row for row."""

from __future__ import annotations

import itertools

import pytest

from casecast.data.datasets import DATASETS, get_dataset
from casecast.data.mapping import RecordMapper
from casecast.data.schema import model_input
from casecast.data.settings import DataSettings
from casecast.data.sources import read_rows
from tests.conftest import skip_or_fail

ROWS = 200


def _blank(value: object) -> object:
    return [] if isinstance(value, list) else None


@pytest.mark.parametrize("name", DATASETS)
def test_nothing_the_decision_states_reaches_a_model(name):
    spec = get_dataset(name)
    settings = DataSettings()
    try:
        files = spec.default_splits(settings.resolved_data_dir())
    except ValueError:
        skip_or_fail(f"{name} data not found in {settings.resolved_data_dir()}")
    source = spec.file.source
    rows = list(
        itertools.islice(read_rows(source, files, spec.folder, settings.resolved_data_dir()), ROWS)
    )
    outcome = spec.file.outcome
    stated = {*spec.file.post_decision, outcome.violated, outcome.not_violated, outcome.summary}
    stated.discard(outcome.column)
    stated.discard(None)
    assert stated, "the spec names what the decision states"
    mapper = RecordMapper(spec.file, judges=False)
    original, blanked = [], []
    for row in rows:
        plain = mapper.map(dict(row.values))
        scrubbed = mapper.map({k: _blank(v) if k in stated else v for k, v in row.values.items()})
        if isinstance(plain, tuple):
            assert isinstance(scrubbed, tuple), (name, row.line)
            original.append(plain[0])
            blanked.append(scrubbed[0])
    assert len(original) > ROWS // 2
    assert model_input(original) == model_input(blanked)
    read = {rule.column or field for field, rule in spec.file.inputs.items()}
    assert read.isdisjoint(stated) and outcome.column not in read
