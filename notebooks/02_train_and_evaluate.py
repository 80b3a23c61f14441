# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Training and evaluating, step by step
#
# What `casecast train` does, one step at a time, with the package's own functions: the
# temporal split (earlier years fit, later years score, as a court would use the model),
# the embedding of the passages (cached on disk), the fit, the figures beside the majority
# rule, calibration, and the reasons of one estimate. The last cell runs the whole stage
# as the command does, which logs and registers a new version in MLflow.

# %% tags=["parameters"]
import os

DATASET = os.environ.get("CASECAST_NOTEBOOK_DATASET", "echr")
LIMIT = int(os.environ["CASECAST_NOTEBOOK_LIMIT"]) if "CASECAST_NOTEBOOK_LIMIT" in os.environ else None

# %%
import numpy as np
import pandas as pd

from casecast.data.datasets import get_dataset, load_corpus
from casecast.data.schema import model_input
from casecast.models.registry import configure_tracking
from casecast.models.settings import CasecastSettings
from casecast.training.fitting import at_estimated_mix, embed_corpus, make_estimator, temporal_split
from casecast.training.metrics import classification_report, reliability_figure

settings = CasecastSettings()
configure_tracking(settings)  # the home's MLflow store, as every command uses
print(f"casecast home: {settings.home}")
spec = get_dataset(DATASET, settings)
corpus = load_corpus(DATASET, settings, LIMIT)
frame = pd.DataFrame(model_input(corpus.records))  # the inputs only: no outcome column
labels = np.asarray(corpus.labels())
earlier, later = temporal_split(corpus, spec.validation_from)
print(f"{int(earlier.sum())} cases before {spec.validation_from} fit, {int(later.sum())} score")

# %%
estimator = make_estimator(settings, spec)  # the spec's fields and hyperparameters
embed_corpus(estimator, frame)  # every passage once, into the on-disk cache
estimator.fit(frame[earlier], labels[earlier])
probabilities = estimator.predict_proba(frame[later])
classes = list(estimator.classes_)
report = classification_report(labels[later], probabilities, classes, spec.positive_class)
pd.Series({k: v for k, v in report.items() if isinstance(v, float | int)}).round(3)

# %% [markdown]
# A model must beat the majority rule (`majority_*`) to tell cases apart at all. Calibration:
# the ECE beside the ECE a perfectly calibrated model would show on as many cases (it is not
# zero on a few hundred), and restated for the later years' class mix, estimated from the
# model's own decisions, never the labels.

# %%
at_estimated_mix(estimator, labels[later], probabilities, spec.positive_class)

# %%
reliability_figure(labels[later], probabilities, classes, spec.positive_class, "later years")

# %% [markdown]
# Every estimate comes with its reasons: the passages and fields that moved it the most.

# %%
print(f"estimate: {dict(zip(classes, probabilities[0].round(3), strict=True))}")
pd.DataFrame([effect.as_dict() for effect in estimator.explain(frame[later].head(1))[0]])

# %% [markdown]
# ## The whole stage, as `casecast train` runs it
# Validation as above, a refit on all the cases, the model card, and a new registered
# version in MLflow (champion only if it is the first; promotion goes through the gates).

# %%
from casecast.training.train import summary, train

result = train(DATASET, settings, LIMIT)
print(summary(result))
