"""`casecast tune`: trials scored on an inner validation inside the training years, nested
MLflow runs, a resumable study, and a configuration that `train --config` trains (and
`--from-run` reruns) as tuned. The fast tests hold the split and the file's rules."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from casecast.data.datasets import get_dataset
from casecast.data.schema import Corpus
from casecast.data.settings import DataSettings
from casecast.models.run_contract import REPRODUCE_ARTIFACT
from casecast.models.settings import CasecastSettings
from casecast.training.cli import app
from casecast.training.fitting import make_estimator
from casecast.training.train_config import TrainConfig, read_config, write_config
from casecast.training.tune import inner_split, search_space, tuning_cases
from tests.cases import read_cases

# The first 150 cases of each ECHR split are of 2010 and 2011: tuning below 2012 has an
# inner validation (2011) to score on; `train` at its default (2011) holds out the same year.
LIMIT, VALIDATION_FROM = "150", "2012"


@pytest.fixture(scope="module")
def dev_slice(echr_dev_path: Path) -> Corpus:
    return read_cases("echr", echr_dev_path, limit=150)


def _years(corpus: Corpus) -> set[int]:
    return {r.decision_year or 0 for r in corpus.records}


def test_tuning_reads_no_case_of_the_held_out_years_nor_their_outcomes(dev_slice):
    assert _years(dev_slice) == {2010, 2011}
    tuned_on = tuning_cases(dev_slice, 2011)
    assert _years(tuned_on) == {2010} and 0 < len(tuned_on) < len(dev_slice)
    # The held-out cases' outcomes, all flipped: what tuning reads does not change.
    flipped = replace(
        dev_slice,
        outcomes=tuple(
            replace(o, label="violation" if o.label == "no_violation" else "no_violation")
            if (r.decision_year or 0) >= 2011
            else o
            for r, o in zip(dev_slice.records, dev_slice.outcomes, strict=True)
        ),
    )
    again = tuning_cases(flipped, 2011)
    assert again.labels() == tuned_on.labels() and again.fingerprint() == tuned_on.fingerprint()
    with pytest.raises(ValueError, match="no cases before 1990"):
        tuning_cases(dev_slice, 1990)


def test_the_inner_validation_is_the_latest_fifth_and_stays_before_the_validation_year():
    years = np.repeat(np.arange(2001, 2011), 10)
    split = inner_split(years, 2011)
    assert split.inner_from == 2009 and split.score.sum() == 20 and split.fit.sum() == 80
    assert inner_split(years, 2011, inner_from=2006).scored_years == "2006–2010"
    with pytest.raises(ValueError, match="before the validation year"):
        inner_split(years, 2011, inner_from=2011)
    with pytest.raises(ValueError, match="all of one year"):
        inner_split(np.full(30, 2010), 2011)


def test_the_space_drops_penalties_of_learners_a_spec_switches_off():
    settings = CasecastSettings()
    echr = make_estimator(settings, get_dataset("echr", DataSettings())).get_params()
    scotus = make_estimator(settings, get_dataset("scotus", DataSettings())).get_params()
    assert {"char_C", "tree_estimators", "text_C", "meta_C"} <= set(search_space(echr))
    assert not {"char_C", "tree_estimators"} & set(search_space(scotus))


def test_a_configuration_is_checked_against_the_model_and_its_data_set(tmp_path):
    path = tmp_path / "best.yaml"
    write_config(path, TrainConfig(dataset="echr", model_params={"text_C": 2.0}), "tuned")
    assert read_config(path, "echr").model_params == {"text_C": 2.0}
    with pytest.raises(ValueError, match="made for the data set echr, not scotus"):
        read_config(path, "scotus")
    path.write_text("model_params: {text_C: 1, language: ru, bogus: 2}\n")
    with pytest.raises(ValueError, match=r"model_params: not hyperparameters .*bogus, language"):
        read_config(path, "echr")
    path.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match="is not a training configuration"):
        read_config(path, "echr")
    with pytest.raises(FileNotFoundError, match="no configuration file"):
        read_config(tmp_path / "missing.yaml", "echr")


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, echr_dir: Path, embedding_cache: Path):
    monkeypatch.setenv("CASECAST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CASECAST_DATA_DIR", str(echr_dir.parent))
    monkeypatch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path / "home"


def _tune(*args: str) -> dict:
    result = CliRunner().invoke(
        app, ["tune", "--json", "--limit", LIMIT, "--validation-from", VALIDATION_FROM, *args]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_tune_resumes_logs_nested_trials_and_its_config_trains_and_reruns_as_tuned(home):
    first = _tune("--trials", "1")
    assert (first["inner_from"], first["validation_from"]) == (2011, 2012)
    assert (first["trials_done"], first["failed_now"]) == (1, 0)
    baseline = first["trials"][0]
    assert baseline["baseline"] and baseline["value"] == first["baseline"]
    assert baseline["params"]["text_C"] == 4.0  # the spec's own configuration comes first

    again = _tune("--trials", "1")  # the same study, resumed from the home
    assert again["trials_done"] == 2 and [t["trial"] for t in again["trials"]] == [0, 1]
    values = [t["value"] for t in again["trials"]]
    assert again["best_value"] == max(values) >= again["baseline"]

    client = MlflowClient()
    experiment = client.get_experiment_by_name("casecast-echr").experiment_id
    parents = client.search_runs([experiment], "tags.stage = 'tune'")
    assert {p.info.run_id for p in parents} == {first["run_id"], again["run_id"]}
    trials = client.search_runs([experiment], "tags.stage = 'tune-trial'")
    assert len(trials) == 2
    assert {t.data.tags["mlflow.parentRunId"] for t in trials} == {p.info.run_id for p in parents}
    assert sorted(t.data.metrics["inner_macro_f1"] for t in trials) == sorted(values)

    config = Path(again["config"])
    tuned = read_config(config, "echr")
    assert tuned.model_params == again["best_params"] and tuned.tuned["trial"] is not None
    result = CliRunner().invoke(app, ["train", "--limit", LIMIT, "--config", str(config)])
    assert result.exit_code == 0, result.output
    run = client.search_runs([experiment], "tags.stage = 'train'")[0]
    for name, value in tuned.model_params.items():
        assert run.data.params[name] == str(value)
    record = json.loads(Path(client.download_artifacts(run.info.run_id, REPRODUCE_ARTIFACT,
                                                       str(home))).read_text())  # fmt: skip
    assert record["arguments"]["model_params"] == tuned.model_params
    rerun = CliRunner().invoke(app, ["train", "--from-run", run.info.run_id])
    assert rerun.exit_code == 0 and "same" in rerun.output, rerun.output


def test_tune_refuses_a_study_of_other_data_and_a_metric_it_does_not_know(home):
    _tune("--trials", "1", "--study", "mine")
    other = CliRunner().invoke(
        app, ["tune", "--limit", "100", "--validation-from", VALIDATION_FROM, "--study", "mine"]
    )
    assert other.exit_code == 2 and "study mine tuned something else" in other.output
    unknown = CliRunner().invoke(app, ["tune", "--metric", "f2", "--limit", LIMIT])
    assert unknown.exit_code == 2 and "--metric must be one of" in unknown.output
    too_early = CliRunner().invoke(app, ["tune", "--limit", LIMIT])  # all before 2011 are 2010
    assert too_early.exit_code == 2 and "all of one year" in too_early.output
