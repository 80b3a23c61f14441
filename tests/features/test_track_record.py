"""Track records count earlier decisions only: a case's own outcome, and any later or
same-year one, never reaches its features; an earlier one does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from casecast.data.votes import read_votes
from casecast.features.track_record import PanelRecord, TrackRecord
from tests.conftest import read_raw_cases, skip_or_fail

VOTES = "scotus_scdb_2015_03_justice/SCDB_2015_03_justiceCentered_Docket.csv.gz"


@pytest.fixture(scope="module")
def echr_decisions(echr_train_path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    raw = read_raw_cases(echr_train_path, 3000)
    frame = pd.DataFrame(
        {"respondent": [";".join(r["RESPONDENT"]) if isinstance(r["RESPONDENT"], list)
                        else r["RESPONDENT"] for r in raw],
         "year": [int(str(r["DATE"])[:4]) for r in raw]}
    )  # fmt: skip
    labels = np.array(["violation" if r["VIOLATED_ARTICLES"] else "no" for r in raw])
    return frame, labels


def _record(frame: pd.DataFrame, labels: np.ndarray) -> TrackRecord:
    return TrackRecord(keys=[["respondent"], []], window=10, half_life=3, shrinkage=10).fit(
        frame, labels, classes=["no", "violation"]
    )


def _flipped(labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = labels.copy()
    out[rows] = np.where(labels[rows] == "violation", "no", "violation")
    return out


def test_a_case_s_own_and_later_outcomes_change_none_of_its_features(echr_decisions):
    frame, labels = echr_decisions
    counts = frame["respondent"].value_counts()
    case = int(np.flatnonzero(frame["respondent"] == counts.index[0])[len(counts) // 2])
    year = frame["year"][case]
    before = _record(frame, labels).transform(frame.iloc[[case]])
    assert np.isfinite(before).all() and before[0, -1] > 0  # it rests on earlier decisions

    same_or_later = np.flatnonzero(frame["year"] >= year)  # the case itself among them
    assert case in same_or_later and len(same_or_later) > 1
    after = _record(frame, _flipped(labels, same_or_later)).transform(frame.iloc[[case]])
    np.testing.assert_array_equal(before, after)

    # An earlier decision of the same state does move it: the test could fail.
    earlier = np.flatnonzero((frame["year"] < year) & (frame["respondent"] == counts.index[0]))
    moved = _record(frame, _flipped(labels, earlier[-5:])).transform(frame.iloc[[case]])
    assert not np.allclose(before, moved)


def test_rates_shrink_toward_the_court_s_for_few_decisions_and_count_several_states(
    echr_decisions,
):
    frame, labels = echr_decisions
    record = _record(frame, labels)
    latest = frame["year"].max() + 1
    court = record.record(1, [], latest).rates[1]
    rare = frame["respondent"].value_counts().index[-1]
    assert record.record(0, [rare], latest).rates[1] == pytest.approx(court, abs=0.1)
    two = frame["respondent"].value_counts().index[:2].tolist()
    both = record.record(0, [";".join(two)], latest)
    assert both.cases == sum(record.record(0, [s], latest).cases for s in two)
    # Decisions added later count for later cases only.
    newer = frame.assign(year=latest + 1)
    grown = _record(frame, labels).add(newer, labels)
    assert grown.record(0, [two[0]], latest).cases == record.record(0, [two[0]], latest).cases
    assert grown.record(0, [two[0]], latest + 2).cases > record.record(0, [two[0]], latest).cases


@pytest.fixture(scope="module")
def justice_votes(echr_dir: Path) -> pd.DataFrame:
    path = echr_dir.parent / VOTES
    if not path.is_file():
        skip_or_fail(f"SCDB justice votes not found at {path}: put ../shared beside the checkout")
    return read_votes("scdb.justice_votes", path)


def _panel(votes: pd.DataFrame) -> PanelRecord:
    return PanelRecord(
        keys=[[], ["issueArea"]], seat_column="seat", time_column="time", window=10
    ).fit(votes)


def test_the_bench_is_described_by_its_members_earlier_votes_only(justice_votes):
    votes = justice_votes
    assert set(votes["vote"].unique()) == {0, 1} and votes["time"].between(1946, 2014).all()
    case = votes[(votes["time"] == 2004) & (votes["issueArea"] == "1")].iloc[[0]]
    bench = _panel(votes).bench(case["seat"].iloc[0], 2004)
    assert "JGRoberts" not in bench and "WHRehnquist" in bench and len(bench) == 9
    before = _panel(votes).transform(case)
    later = votes["time"] >= 2004
    flipped = votes.assign(vote=np.where(later, 1 - votes["vote"], votes["vote"]))
    np.testing.assert_array_equal(before, _panel(flipped).transform(case))
    earlier = votes["time"].between(1999, 2003)
    flipped = votes.assign(vote=np.where(earlier, 1 - votes["vote"], votes["vote"]))
    assert not np.allclose(before, _panel(flipped).transform(case))
    # A bench it never saw (a case after the votes end) is the latest one before its time.
    assert _panel(votes).bench("9999", 2016) == _panel(votes).bench(
        votes[votes["time"] == 2014]["seat"].iloc[0], 2014
    )
