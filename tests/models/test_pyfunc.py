"""Loading a registered model that this code cannot run fails at load time, with a message."""

import joblib
import mlflow
import pytest

from models.outcome import CaseOutcomeClassifier
from models.pyfunc import ESTIMATOR_ARTIFACT, OutcomeModel
from models.registry import ModelNotAvailableError, configure_tracking, load_pyfunc
from models.settings import CasecastSettings


def test_a_model_without_the_stacked_estimator_is_refused_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("CASECAST_HOME", str(tmp_path))
    configure_tracking(CasecastSettings())
    unfitted = tmp_path / "estimator.joblib"
    joblib.dump(CaseOutcomeClassifier(), unfitted)  # stands in for an older model's pickle
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="model",
            python_model=OutcomeModel(),
            artifacts={ESTIMATOR_ARTIFACT: str(unfitted)},
            registered_model_name="casecast-echr-violation",
            pip_requirements=["casecast"],
        )
    with pytest.raises(ModelNotAvailableError, match="retrain it with `casecast train`"):
        load_pyfunc("models:/casecast-echr-violation/1")
