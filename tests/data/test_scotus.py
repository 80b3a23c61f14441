"""SCOTUS loader: Oyez facts joined to SCDB; post-decision columns never reach inputs."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from casecast.data import scotus
from casecast.data.schema import TEXT_COLUMN, model_input
from casecast.data.settings import DataSettings

LIMIT = 300


@pytest.fixture(scope="module")
def paths() -> tuple[Path, Path]:
    root = DataSettings().resolved_data_dir()
    oyez, scdb = (
        root / scotus.OYEZ_FOLDER / scotus.OYEZ_FILE,
        root / scotus.SCDB_FOLDER / scotus.SCDB_FILE,
    )
    if not (oyez.is_file() and scdb.is_file()):
        pytest.skip("SCOTUS data not found")
    return oyez, scdb


def test_cases_join_scdb_and_keep_labels(paths):
    oyez, _ = paths
    corpus = scotus.read_split(oyez, limit=LIMIT)
    raw = pd.read_csv(oyez).query("first_party_winner.notna()").head(LIMIT)
    assert len(corpus) == len(raw)
    wins = [str(v) == "True" for v in raw["first_party_winner"]]
    assert [o.label == scotus.PETITIONER_WINS for o in corpus.outcomes] == wins
    joined = [r for r in corpus.records if r.inputs["petitioner"] is not None]
    assert len(joined) > 0.8 * len(corpus)
    record = corpus.records[0]
    assert record.paragraphs[0].startswith("Petitioner: ") and "<p>" not in record.text
    assert set(record.inputs) == {"term", *scotus.PRE_DECISION_COLUMNS}


def test_post_decision_columns_never_reach_model_input(paths, tmp_path):
    oyez, scdb = paths
    rng = np.random.default_rng(0)
    raw_oyez = pd.read_csv(oyez, dtype={"docket": str, "term": str})
    raw_scdb = pd.read_csv(scdb, dtype={"docket": str}, low_memory=False)
    for column in scotus.POST_DECISION_COLUMNS:
        raw_scdb[column] = rng.permutation(raw_scdb[column].to_numpy())
    for column in ("majority_vote", "minority_vote", "decision_type", "disposition"):
        raw_oyez[column] = rng.permutation(raw_oyez[column].to_numpy())
    raw_oyez.to_csv(tmp_path / "oyez.csv", index=False)
    raw_scdb.to_csv(tmp_path / "scdb.csv", index=False)
    original = scotus.read_split(oyez, limit=LIMIT, scdb=scdb)
    scrambled = scotus.read_split(tmp_path / "oyez.csv", limit=LIMIT, scdb=tmp_path / "scdb.csv")
    assert model_input(original.records) == model_input(scrambled.records)
    assert original.labels() == scrambled.labels()


def test_no_outcome_column_is_an_input():
    inputs = {TEXT_COLUMN, "term", *scotus.PRE_DECISION_COLUMNS}
    assert inputs.isdisjoint(scotus.POST_DECISION_COLUMNS)
    assert inputs.isdisjoint(scotus.OYEZ_OUTCOME_COLUMNS)
