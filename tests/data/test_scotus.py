"""SCOTUS from its spec: Oyez facts joined to SCDB; post-decision columns never reach inputs."""

import pandas as pd
import pytest

from casecast.data.datasets import get_dataset
from casecast.data.schema import TEXT_COLUMN
from tests.cases import read_cases, source_file

LIMIT = 300


@pytest.fixture(scope="module")
def oyez():
    path = source_file("scotus")
    if not path.is_file():
        pytest.skip("SCOTUS data not found")
    return path


def test_cases_join_scdb_and_keep_labels(oyez):
    corpus = read_cases("scotus", oyez, limit=LIMIT)
    raw = pd.read_csv(oyez, keep_default_na=False)
    raw = raw[(raw["first_party_winner"] != "") & (raw["facts"].str.strip() != "")].head(LIMIT)
    assert [r.case_id for r in corpus.records] == [f"scotus-{i}" for i in raw["ID"]]
    wins = [str(v).upper() == "TRUE" for v in raw["first_party_winner"]]
    assert [o.label == "petitioner_wins" for o in corpus.outcomes] == wins
    joined = [r for r in corpus.records if r.inputs["petitioner"] is not None]
    assert len(joined) > 0.8 * len(corpus)
    record = corpus.records[0]
    assert record.paragraphs[0].startswith("Petitioner: ") and "<p>" not in record.text
    spec = get_dataset("scotus")
    assert set(record.inputs) == {"term", *spec.categorical}


def test_no_decision_column_is_an_input():
    spec = get_dataset("scotus").file
    read = {TEXT_COLUMN, *(rule.column or name for name, rule in spec.inputs.items())}
    decided = {"majority_vote", "minority_vote", "first_party_winner", "decision_type",
               "disposition", "partyWinning", "caseDisposition", "decisionDirection",
               "majOpinWriter", "majVotes", "minVotes", "dateDecision"}  # fmt: skip
    assert read.isdisjoint(decided)
    assert decided - {"first_party_winner"} <= set(spec.post_decision)
    assert spec.source.join is not None and decided.isdisjoint(spec.source.join.columns)
