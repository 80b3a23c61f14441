# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exploring a data set from its spec
#
# Everything casecast knows about a court's export is its spec file (`data/specs/*.yaml`, or
# one registered with `casecast data add`): where the files are, which columns are inputs,
# which are known only after the decision, the outcome's labels and the text masks. This
# notebook reads the export through the spec, as `casecast data validate` does. Notebooks
# explore; the logic lives in the packages. They find the same home as the commands, from
# any folder of the project.

# %% tags=["parameters"]
import os

DATASET = os.environ.get("CASECAST_NOTEBOOK_DATASET", "echr")
# Cases read from each source file (CI runs a small slice); unset: all of them.
LIMIT = int(os.environ["CASECAST_NOTEBOOK_LIMIT"]) if "CASECAST_NOTEBOOK_LIMIT" in os.environ else None

# %%
import pandas as pd

from casecast.data.datasets import get_dataset, load_corpus_with_report
from casecast.data.schema import model_input
from casecast.data.validate import validate
from casecast.models.settings import CasecastSettings

settings = CasecastSettings()
print(f"casecast home: {settings.home}")
spec = get_dataset(DATASET, settings)
print(spec.file.description, "|", spec.file.names)

# %% [markdown]
# What a model may read (the inputs, known before the decision), and what it never reads:
# the post-decision columns (shown to people, kept for the model card) and the masks that
# cut the outcome out of the text before any model or index sees it.

# %%
pd.DataFrame(
    [
        {"input": name, "column": rule.column or name, "type": rule.type, "label": rule.label}
        for name, rule in spec.file.inputs.items()
    ]
)

# %%
print("post-decision (never inputs):", ", ".join(spec.file.post_decision))
print("text masks:", spec.file.masks or "none")
print("outcome classes:", spec.file.outcome.classes, "| validation from", spec.validation_from)

# %% [markdown]
# ## The export as `casecast data validate` reports it
# Rows read and kept (and why the others were not), duplicates, decisions and labels per
# year, and leakage suspects: single columns or phrases of the text that predict the label
# almost perfectly on their own.

# %%
data_dir = settings.resolved_data_dir()
report = validate(spec.file, spec.path.parent, data_dir, limit=LIMIT and 2 * LIMIT)
summary = report.as_dict()
{key: summary[key] for key in ("rows", "duplicates", "date_range", "labels", "majority_rate")}

# %%
per_year = pd.DataFrame(report.labels_per_year).T.fillna(0).sort_index()
axes = per_year.plot(kind="bar", stacked=True, figsize=(10, 3), title="decisions per year")
axes.set_xlabel("year")
per_year.tail(10)

# %%
pd.DataFrame(summary["leakage_suspects"]) if report.suspects else "no leakage suspects"

# %% [markdown]
# ## The canonical cases
# The records every pipeline reads: text, inputs, decision year; the outcome held apart.

# %%
corpus, read_reports = load_corpus_with_report(DATASET, settings, LIMIT)
frame = pd.DataFrame(model_input(corpus.records))
frame["label"] = corpus.labels()
frame["characters"] = frame["text"].str.len()
print(f"{len(corpus)} cases from {len(read_reports)} files")
frame.groupby("label")["characters"].describe()

# %%
axes = frame.boxplot(column="characters", by="label", figsize=(6, 3))
axes.set_yscale("log")
