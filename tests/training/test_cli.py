"""The CLI stages on real slices: train, register, evaluate, index, promote."""

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from casecast.data.schema import model_input
from casecast.models.class_mix import MAX_MIX_ERROR
from casecast.models.registry import configure_tracking
from casecast.models.settings import CasecastSettings
from casecast.training.cli import app
from casecast.training.fitting import at_estimated_mix
from casecast.training.metrics import calibration_scores
from casecast.training.versions import version_rows
from tests.cases import read_cases

MODEL = "casecast-echr-violation"
REPORT_KEYS = {"n", "macro_f1", "accuracy", "roc_auc", "brier", "ece", "majority_macro_f1"}


@pytest.fixture()
def cli_env(trained_home, echr_dir, embedding_cache, monkeypatch):
    monkeypatch.setenv("CASECAST_HOME", str(trained_home))
    monkeypatch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
    monkeypatch.setenv("CASECAST_DATA_DIR", str(echr_dir.parent))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    configure_tracking(CasecastSettings())  # tracking and registry: the same store
    return trained_home


def test_train_registers_the_first_version_as_champion(cli_env):
    client = MlflowClient()
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert str(champion.version) == "1"
    run = client.get_run(champion.run_id)
    assert 0.0 <= run.data.metrics["val_macro_f1"] <= 1.0
    assert "val_majority_macro_f1" in run.data.metrics
    # Restated for the validation years' estimated class mix only where the estimate is firm
    # (a hold-out of a few dozen cases, as here, leaves its rates too noisy: 0.12).
    firm = run.data.metrics["val_class_mix_error"] <= MAX_MIX_ERROR
    assert ("val_ece_at_estimated_mix" in run.data.metrics) == firm
    assert run.data.tags["data_fingerprint"] and run.data.tags["inputs"] == "text,respondent,year"
    assert run.data.params["validation_from"] == "2011"
    artifacts = {a.path for a in client.list_artifacts(champion.run_id, "validation")}
    assert {"validation/metrics.json", "validation/reliability.png"} <= artifacts
    assert {"model_card.md", "model_card.json"} <= {
        a.path for a in client.list_artifacts(champion.run_id)
    }


def test_logged_model_has_signature_and_example(cli_env):
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    inputs = {c.name: c for c in model.metadata.get_input_schema().inputs}
    assert list(inputs) == ["text", "respondent", "year"]
    assert inputs["text"].required and not inputs["year"].required
    params = {p.name for p in model.metadata.get_params_schema().params}
    assert params == {"explain", "top_k", "vectors"}
    assert model.metadata.saved_input_example_info is not None


def test_evaluate_prints_one_json_object(cli_env, echr_dev_path):
    result = CliRunner().invoke(
        app, ["evaluate", "--split", str(echr_dev_path), "--limit", "40", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) >= REPORT_KEYS
    assert report["n"] == 40 and report["model_version"] == "1"
    for key in ("macro_f1", "accuracy", "roc_auc", "ece", "brier", "majority_macro_f1"):
        assert 0.0 <= report[key] <= 1.0
    assert set(report["groups"]) == {"respondent state", "formation", "importance", "decade"}
    assert sum(row["n"] for row in report["groups"]["formation"]) == 40
    # Each group beside what always answering its own most frequent outcome would score.
    assert all(
        row["majority_accuracy"] >= 0.5 and "roc_auc" in row
        for rows in report["groups"].values()
        for row in rows
    )
    card = Path(report["model_card"]).read_text()
    assert "majority class" in card and "## Per group" in card and "too few cases" in card
    assert "| group majority |" in card and "| predicted / observed |" in card
    formation = report["groups"]["formation"]
    truth_rate = sum(row["observed_rate"] * row["n"] for row in formation) / 40
    assert truth_rate == pytest.approx(report["positive_rate"], abs=1e-3)
    assert "**judge identity**: not read" in card and "**calibration**: temperature" in card
    # The article heads are scored beside the always-the-most-frequent-article baseline.
    articles = report["articles"]
    assert "6" in articles["labels"] and "## Violated articles" in card
    assert 0.0 <= articles["most_frequent_micro_f1"] <= 1.0
    assert report["article_micro_f1"] == articles["micro_f1"]
    assert (Path(report["model_card"]).parent / "reliability.png").stat().st_size > 1000
    # The split's class mix, estimated from the decisions alone, and calibration for it where
    # the estimate is firm enough; 40 cases and a hold-out of a few dozen leave it above 0.1.
    if report["class_mix_error"] <= MAX_MIX_ERROR:
        assert sum(report["estimated_class_mix"].values()) == pytest.approx(1, abs=1e-3)
        assert 0.0 <= report["ece_at_estimated_mix"] <= 1.0 and "Class mix of these cases" in card
    else:
        assert "estimated_class_mix" not in report and "ece_at_estimated_mix" not in report
        assert "cannot be read from the model's decisions" in card
    # The first 40 dev cases were among the 150 per split the model trained on.
    assert report["n_in_training_data"] == 40
    assert "not a held-out estimate" in result.stderr


def test_a_second_training_does_not_take_the_champion_until_promoted(cli_env):
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--limit", "60", "--validation-from", "2011"])
    assert result.exit_code == 0, result.output
    client = MlflowClient()
    assert client.get_model_version_by_alias(MODEL, "champion").version in (1, "1")
    # Trained on other cases than v1 (60, not 150 a split): too few held-out cases in
    # common to judge by, so the gates refuse it, and an override says why.
    result = runner.invoke(app, ["promote", "--version", "2"])
    assert result.exit_code == 1, result.output
    assert "FAILED comparable" in result.output and "held-out cases" in result.output
    assert client.get_model_version_by_alias(MODEL, "champion").version in (1, "1")
    forced = ["promote", "--version", "2", "--force", "--reason", "a smaller slice on purpose"]
    result = runner.invoke(app, forced)
    assert result.exit_code == 0, result.output
    assert "v2 is champion; v1 is previous" in result.output
    assert "validated on different years or data" in result.output
    assert client.get_model_version_by_alias(MODEL, "champion").version in (2, "2")
    assert client.get_model_version_by_alias(MODEL, "previous").version in (1, "1")
    assert (
        client.get_model_version(MODEL, "2").tags["forced_reason"] == "a smaller slice on purpose"
    )
    assert runner.invoke(app, ["rollback"]).exit_code == 0
    assert client.get_model_version_by_alias(MODEL, "champion").version in (1, "1")


def test_models_lists_every_version_with_its_validation_figures(cli_env):
    client = MlflowClient()
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    registered = client.search_model_versions(f"name = '{MODEL}'")
    assert sorted(r["version"] for r in rows) == sorted(str(v.version) for v in registered)
    champion = client.get_model_version_by_alias(MODEL, "champion")
    [row] = [r for r in rows if r["version"] == str(champion.version)]
    metrics = client.get_run(champion.run_id).data.metrics
    assert "champion" in row["aliases"] and row["validation_from"] == 2011
    assert row["n_validation"] == metrics["val_n"]
    assert row["macro_f1"] == metrics["val_macro_f1"]
    assert row["majority_accuracy"] == metrics["val_majority_accuracy"]
    assert row["data_fingerprint"] == client.get_run(champion.run_id).data.tags["data_fingerprint"]
    # Promotion reads only the versions it compares, into the same rows.
    configure_tracking(CasecastSettings())  # this test is an entry point of its own
    assert version_rows("echr", [row["version"]]) == [row]
    table = CliRunner().invoke(app, ["models"])
    assert table.exit_code == 0 and "champion" in table.output
    assert f"{metrics['val_macro_f1']:.3f}" in table.output


def test_models_without_a_registered_model_says_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("CASECAST_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = CliRunner().invoke(app, ["models", "--dataset", "scotus"])
    assert result.exit_code == 2 and "casecast train --dataset scotus" in result.output


def test_evaluate_without_a_model_says_how_to_train(tmp_path, echr_dev_path, monkeypatch):
    monkeypatch.setenv("CASECAST_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["evaluate", "--split", str(echr_dev_path), "--json"])
    assert result.exit_code == 2
    assert "casecast train --dataset echr" in result.output


def test_unknown_dataset_is_refused(cli_env):
    result = CliRunner().invoke(app, ["train", "--dataset", "nope"])
    assert result.exit_code == 2 and "unknown data set" in result.output


def test_train_on_chosen_split_files(tmp_path, echr_train_path, echr_dev_path, embedding_cache,
                                     monkeypatch):  # fmt: skip
    monkeypatch.setenv("CASECAST_HOME", str(tmp_path))
    monkeypatch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
    args = ["train", "--split", str(echr_train_path), "--split", str(echr_dev_path)]
    result = CliRunner().invoke(app, [*args, "--limit", "150"])
    assert result.exit_code == 0, result.output
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = MlflowClient().get_run(
        MlflowClient().get_model_version_by_alias(MODEL, "champion").run_id
    )
    assert run.data.tags["data_sources"] == f"{echr_train_path};{echr_dev_path}"
    missing = CliRunner().invoke(app, ["train", "--split", str(tmp_path / "none.jsonl.gz")])
    assert missing.exit_code == 2 and "data not found" in missing.output


def test_promotion_compares_versions_validated_alike():
    from casecast.training.versions import promotion_summary

    old = {"validation_from": 2011, "data_fingerprint": "abc", "macro_f1": 0.8379, "ece": 0.023}
    new = {**old, "macro_f1": 0.8412, "ece": 0.031}
    assert promotion_summary(new, old) == (
        "validation from 2011: macro-F1 0.841 (was 0.838), ECE 0.031 (was 0.023)"
    )
    assert "different years" in promotion_summary({**new, "validation_from": 2012}, old)


def test_a_split_is_restated_for_its_estimated_mix_only_where_the_estimate_is_firm(
    cli_env, echr_dev_path, embedding_cache
):
    python_model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion").unwrap_python_model()
    python_model.use_embedding_cache(embedding_cache)
    estimator = python_model.estimator
    corpus = read_cases("echr", echr_dev_path, limit=60)
    frame = pd.DataFrame(model_input(corpus.records))
    labels = corpus.labels()
    proba = estimator.predict_proba(frame)
    error = estimator.estimate_class_mix(proba).error.max()

    firm = at_estimated_mix(estimator, labels, proba, "violation", max_error=1.0)
    assert firm["class_mix_error"] == pytest.approx(error)
    mix = list(firm["estimated_class_mix"].values())
    assert sum(mix) == pytest.approx(1, abs=1e-3)
    restated = estimator.at_class_mix(proba, mix)
    classes = list(estimator.classes_)
    scores = calibration_scores(labels, restated, classes, "violation")
    assert firm["brier_at_estimated_mix"] == pytest.approx(scores["brier"], abs=1e-3)
    assert firm["ece_at_estimated_mix"] == pytest.approx(scores["ece"], abs=1e-3)

    loose = at_estimated_mix(estimator, labels, proba, "violation", max_error=error / 2)
    assert loose == {"class_mix_error": pytest.approx(error)}


def test_a_command_run_from_a_subfolder_finds_the_projects_home_and_says_so(
    trained_home, tmp_path, monkeypatch
):
    import shutil

    project = tmp_path / "project"
    shutil.copytree(trained_home, project / ".casecast")
    subfolder = project / "notebooks" / "drafts"
    subfolder.mkdir(parents=True)
    for name in ("CASECAST_HOME", "CASECAST_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(subfolder)
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    assert f"casecast home: {project / '.casecast'}" in result.stderr.replace("\n", "")
    rows = json.loads(result.stdout)
    assert [r["version"] for r in rows if "champion" in r["aliases"]] == ["1"]


def test_an_index_version_is_logged_once_however_often_it_is_reused(cli_env):
    result = CliRunner().invoke(app, ["index", "--limit", "150"])
    assert result.exit_code == 0, result.output
    version = (cli_env / "indexes" / "echr" / "CURRENT").read_text().strip()
    experiment = mlflow.get_experiment_by_name("casecast-echr")
    runs = mlflow.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.stage = 'index' and tags.index_version = '{version}'",
        output_format="list",
    )
    assert len(runs) == 1 and runs[0].data.metrics["n_cases"] == 300
    champion = MlflowClient().get_model_version_by_alias(MODEL, "champion")
    assert champion.tags["index_run_id"] == runs[0].info.run_id
