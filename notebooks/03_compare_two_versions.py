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
# # Comparing two versions before promoting one
#
# `casecast compare` and `casecast promote` in a notebook: both versions' validation
# predictions on the held-out cases both hold, every figure's difference with its paired
# bootstrap 95% interval, overall and per group, and the gates the challenger must pass
# (the tolerances in the data set's spec, `gates:`). Nothing here moves an alias.

# %% tags=["parameters"]
import os

DATASET = os.environ.get("CASECAST_NOTEBOOK_DATASET", "echr")
LIMIT = int(os.environ["CASECAST_NOTEBOOK_LIMIT"]) if "CASECAST_NOTEBOOK_LIMIT" in os.environ else None

# %%
import matplotlib.pyplot as plt
import pandas as pd

from casecast.data.datasets import get_dataset
from casecast.models.registry import configure_tracking
from casecast.models.settings import CasecastSettings
from casecast.training.compare import compare_versions, resolve_ref, rows
from casecast.training.gates import judge
from casecast.training.versions import model_name, version_table

settings = CasecastSettings()
configure_tracking(settings)
print(f"casecast home: {settings.home}")
spec = get_dataset(DATASET, settings)
versions = pd.DataFrame(version_table(DATASET))
versions

# %% [markdown]
# The champion against the newest other version (with only one version, train a challenger
# first, as the second notebook's last cell or `casecast train` does).

# %%
name = model_name(DATASET)
champion = resolve_ref(name, "champion")
others = [v for v in versions["version"].astype(int) if str(v) != champion.version]
if not others:
    from casecast.training.train import train

    others = [int(train(DATASET, settings, LIMIT).version)]
challenger = resolve_ref(name, str(max(others)))
comparison = compare_versions(spec, champion, challenger)
print(f"{comparison.n_cases} held-out cases; {comparison.draws} bootstrap draws")
pd.DataFrame(rows(comparison), columns=["metric", champion.label, challenger.label, "difference", "95% interval"])

# %%
pd.DataFrame(
    [
        {"group": f"{g.kind}={g.group}", "cases": g.n,
         "difference": d.difference if d else None, "low": d.low if d else None,
         "high": d.high if d else None}
        for g in comparison.groups
        for d in [comparison.main_difference(g)]
    ]
).sort_values("cases", ascending=False).head(15)

# %% [markdown]
# The gates: would `casecast promote` move `@champion` to the challenger?

# %%
for gate in judge(comparison, spec.file.gates):
    print(gate.describe())

# %%
figure, axes = plt.subplots(figsize=(4, 4))
for label, bins in comparison.reliability.items():
    if bins:
        predicted, observed = zip(*[(b[0], b[1]) for b in bins], strict=True)
        axes.plot(predicted, observed, marker="o", label=label)
axes.plot([0.5, 1], [0.5, 1], color="grey", linestyle=":")
axes.set(xlabel="confidence", ylabel="share right", title="reliability on the same cases")
axes.legend()
