"""The drift tests' statistics on real ECHR fields and on vectors of known distributions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from casecast.models.oversight.observations import ObservationStore
from casecast.training.drift import parse_years
from casecast.training.drift_stats import (
    MISSING,
    categorical_shift,
    class_rate_shift,
    mmd_test,
    numeric_shift,
)
from tests.cases import read_cases


def test_mmd_finds_a_small_shift_and_keeps_its_size_on_one_distribution():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(200, 16)), rng.normal(size=(200, 16))
    shifted = rng.normal(size=(200, 16)) + 0.25  # a shift of length 1 over 16 dimensions
    assert mmd_test(a, shifted, permutations=199).p_value < 0.01
    # Under no shift the p-value is uniform: about one draw in ten is below 0.1.
    p_values = [
        mmd_test(rng.normal(size=(60, 8)), rng.normal(size=(60, 8)), 99, seed).p_value
        for seed in range(30)
    ]
    assert 0 <= sum(p < 0.1 for p in p_values) <= 8
    assert mmd_test(a, b, permutations=199).p_value > 0.01


def test_respondent_states_of_two_periods_differ_and_two_halves_of_one_do_not(echr_train_path):
    corpus = read_cases("echr", echr_train_path, limit=None)
    years = np.array([r.decision_year for r in corpus.records])
    respondents = np.array([r.inputs["respondent"] for r in corpus.records], dtype=object)
    early, late = respondents[years <= 2005], respondents[years >= 2010]
    across = categorical_shift("respondent", early, late)
    assert across.p_value < 1e-6 and across.effect > 0.1
    halves = np.random.default_rng(0).permutation(len(late))
    within = categorical_shift("respondent", late[halves[::2]], late[halves[1::2]])
    assert within.p_value > 0.01 and within.effect < across.effect
    assert sum(within.reference_shares.values()) == pytest.approx(1.0)


def test_missing_values_count_as_a_category_and_numbers_get_a_ks_test():
    shift = categorical_shift("court", ["a"] * 50 + ["b"] * 50, ["a"] * 50 + [None] * 50)
    assert shift.missing_current == 0.5 and MISSING in shift.current_shares
    assert shift.effect == pytest.approx(0.5)
    numbers = numeric_shift("age", list(range(100)), [x + 50 for x in range(100)] + [None])
    assert numbers.test == "Kolmogorov-Smirnov" and numbers.effect == pytest.approx(0.5)
    assert numbers.missing_current == pytest.approx(1 / 101)


def test_predicted_class_rates():
    ref = np.array([[0.9, 0.1]] * 70 + [[0.2, 0.8]] * 30)
    cur = np.array([[0.9, 0.1]] * 30 + [[0.2, 0.8]] * 70)
    rates = class_rate_shift(["a", "b"], ref, cur)
    assert rates.reference == [0.7, 0.3] and rates.current == [0.3, 0.7]
    assert rates.total_variation == pytest.approx(0.4) and rates.p_value < 1e-4


def test_years_read_as_ranges():
    assert parse_years("2011:2013") == (2011, 2013)
    assert parse_years(":2010") == (None, 2010)
    assert parse_years("2011:") == (2011, None)
    assert parse_years("2012") == (2012, 2012)
    assert parse_years(":") == (None, None)
    with pytest.raises(ValueError, match="backwards"):
        parse_years("2013:2011")
    with pytest.raises(ValueError, match="read like"):
        parse_years("last year")


def test_observations_keep_fields_probabilities_and_a_half_precision_vector(tmp_path):
    store = ObservationStore(f"sqlite:///{tmp_path / 'oversight.db'}")
    vector = np.random.default_rng(0).normal(size=384).astype(np.float32)
    start = datetime.now(UTC) - timedelta(seconds=1)
    store.add("r1", "echr", "casecast-echr-violation", "3", {"respondent": "TUR"},
              {"violation": 0.7, "no_violation": 0.3}, vector)  # fmt: skip
    store.add("r2", "ru", "casecast-ru-outcome", "1", {}, {"fine": 1.0}, None)
    (seen,) = store.since("echr", start)
    assert (seen.record_id, seen.model_version, seen.fields) == ("r1", "3", {"respondent": "TUR"})
    assert seen.probabilities == {"violation": 0.7, "no_violation": 0.3}
    assert np.allclose(seen.vector, vector, atol=2e-3)
    assert store.since("echr", datetime.now(UTC) + timedelta(seconds=1)) == []
    assert store.since("ru", start)[0].vector is None
