"""The registered pyfunc is self-contained: it loads and scores where casecast is not
installed, and a model of another format is refused at load time with what to do."""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import joblib
import mlflow
import numpy as np
import pytest

from casecast.models.outcome import CaseOutcomeClassifier
from casecast.models.pyfunc import ESTIMATOR_ARTIFACT, RUNTIME_PACKAGES, OutcomeModel
from casecast.models.registry import ModelNotAvailableError, configure_tracking, load_pyfunc
from casecast.models.settings import CasecastSettings

CHAMPION = "models:/casecast-echr-violation@champion"
# Run with -I -S: no site-packages hooks, so the editable install of casecast is not on the
# path; the script adds the bare site-packages folder for MLflow and the runtime packages.
# The working folder holds unrelated top-level packages named `models` and `data`, first
# on the path and imported before the model: nothing of casecast may shadow or be shadowed.
FRESH_PROCESS = """
import importlib.util, json, sys
sys.path.insert(0, ".")
sys.path.append(sys.argv[1])
assert importlib.util.find_spec("casecast") is None, "casecast is importable without the model"
import data, models
assert models.UNRELATED and data.UNRELATED
import mlflow
model = mlflow.pyfunc.load_model(sys.argv[2])
import casecast.models
assert models.UNRELATED and "casecast" not in models.__file__
answer = model.predict(model.input_example, params={"explain": True})
print(json.dumps({"code": casecast.models.__file__, "answer": answer.iloc[0].to_dict()}))
"""


def test_the_champion_scores_its_input_example_in_a_fresh_process_outside_the_repo(
    trained_home, tmp_path
):
    # The registry hands the champion's files over (its artifacts are addressed relative to
    # the home, which only casecast resolves); everything else comes from those files.
    configure_tracking(CasecastSettings(home=trained_home))
    champion = mlflow.artifacts.download_artifacts(CHAMPION, dst_path=str(tmp_path / "champion"))
    script = tmp_path / "score.py"
    script.write_text(FRESH_PROCESS)
    for unrelated in ("models", "data"):
        (tmp_path / unrelated).mkdir()
        (tmp_path / unrelated / "__init__.py").write_text("UNRELATED = True\n")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        **{k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
    }
    site = sysconfig.get_paths()["purelib"]
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(script), site, champion],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # The code came from inside the logged model, not from this checkout.
    assert Path(result["code"]).is_relative_to(champion)
    assert not Path(result["code"]).is_relative_to(Path(__file__).parents[2])
    answer = result["answer"]
    assert answer["reasons"] and answer["label"] in ("violation", "no_violation")
    assert {r["kind"] for r in answer["reasons"]} == {"passage", "feature"}

    model, _ = load_pyfunc(CHAMPION)
    here = model.predict(model.input_example).iloc[0]
    assert answer["label"] == here["label"]
    np.testing.assert_allclose(answer["probability"], here["probability"], atol=1e-6)


def test_the_logged_model_pins_its_runtime_and_carries_nothing_of_the_training_machine(
    trained_home,
):
    configure_tracking(CasecastSettings(home=trained_home))
    model, _ = load_pyfunc(CHAMPION)
    local = Path(mlflow.artifacts.download_artifacts(f"{CHAMPION}"))
    requirements = (local / "requirements.txt").read_text().split()
    pinned = {line.split("==")[0] for line in requirements if "==" in line}
    assert pinned == set(RUNTIME_PACKAGES) and "lightgbm" in pinned
    assert not any(line.startswith("casecast") for line in requirements)
    assert all("+" not in line for line in requirements)  # local builds resolve nowhere
    # One name at the top of the model's code, as of site-packages.
    assert {p.name for p in (local / "code").iterdir()} == {"casecast"}
    carried = {p.name for p in (local / "code" / "casecast").iterdir()}
    assert carried == {"data", "features", "models"}
    embedder = model.unwrap_python_model().estimator.embedder_
    assert embedder.cache_dir is None and embedder.device is None
    # The answer is typed: records per case, not JSON packed into strings.
    outputs = {c.name: c for c in model.metadata.get_output_schema().inputs}
    assert str(outputs["reasons"].type).startswith("Array(")
    assert str(outputs["articles"].type).startswith("Array(")


def _register(estimator_file, home, monkeypatch) -> str:
    """A pyfunc around ``estimator_file``, registered in a fresh home; its URI."""
    monkeypatch.setenv("CASECAST_HOME", str(home))
    configure_tracking(CasecastSettings())
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="model",
            python_model=OutcomeModel(),
            artifacts={ESTIMATOR_ARTIFACT: str(estimator_file)},
            registered_model_name="casecast-echr-violation",
            pip_requirements=["mlflow"],
        )
    return "models:/casecast-echr-violation/1"


def test_a_model_of_another_format_is_refused_with_what_to_do(tmp_path, monkeypatch):
    unfitted = tmp_path / "estimator.joblib"
    joblib.dump(CaseOutcomeClassifier(), unfitted)  # no format recorded, as older pickles
    uri = _register(unfitted, tmp_path, monkeypatch)
    with pytest.raises(ModelNotAvailableError, match="retrain it with `casecast train`"):
        load_pyfunc(uri)


def test_a_model_pickled_before_the_one_name_is_refused_with_what_to_do(tmp_path, monkeypatch):
    """Models registered before casecast installed as one package pickled their classes as
    top-level ``models.…``: loading one says to retrain instead of failing on an import."""
    legacy = tmp_path / "estimator.joblib"
    # A pickle naming the class where it used to live (GLOBAL, empty args, NEWOBJ, STOP).
    legacy.write_bytes(b"cmodels.outcome.classifier\nCaseOutcomeClassifier\n)\x81.")
    uri = _register(legacy, tmp_path, monkeypatch)
    with pytest.raises(ModelNotAvailableError, match="saved by an older version; retrain it"):
        load_pyfunc(uri)
