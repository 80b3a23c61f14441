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
# # Where the champion is wrong, and for whom
#
# The champion's own temporal validation (the held-out later years, recorded case by case
# with its training run): its most confident errors, and each group's figures (the groups
# the spec names for the model card) beside the group's majority outcome, with the mean
# estimate beside the observed rate. A model can be calibrated overall and still promise
# one group more than its cases bear out. Judges are not profiled: the groups are the
# spec's, and a judge is one only where the judge-features setting allows it.

# %% tags=["parameters"]
import os

DATASET = os.environ.get("CASECAST_NOTEBOOK_DATASET", "echr")
LIMIT = int(os.environ["CASECAST_NOTEBOOK_LIMIT"]) if "CASECAST_NOTEBOOK_LIMIT" in os.environ else None

# %%
import matplotlib.pyplot as plt
import pandas as pd

from casecast.data.datasets import get_dataset, load_corpus
from casecast.models.registry import configure_tracking
from casecast.models.settings import CasecastSettings
from casecast.training.compare import resolve_ref
from casecast.training.model_card import group_metrics
from casecast.training.scored import scored_cases
from casecast.training.versions import model_name

settings = CasecastSettings()
configure_tracking(settings)
print(f"casecast home: {settings.home}")
spec = get_dataset(DATASET, settings)
champion = resolve_ref(model_name(DATASET), "champion")
scored = scored_cases(champion.run_id, champion.label)
classes = list(scored.classes)
records = {r.case_id: r for r in load_corpus(DATASET, settings, LIMIT).records}
if missing := [case_id for case_id in scored.case_ids if case_id not in records]:
    raise ValueError(
        f"{len(missing)} of the champion's held-out cases are not among those read: read as "
        "many as it was trained on (CASECAST_NOTEBOOK_LIMIT), or all (unset it)"
    )
held_out = [records[case_id] for case_id in scored.case_ids]
truth = [classes[i] for i in scored.labels]
print(f"{champion.label}: {len(held_out)} held-out cases")

# %% [markdown]
# ## The most confident errors
# Read them: a wrong answer given with high confidence is what misleads a claimant most.

# %%
cases = pd.DataFrame(
    {
        "case": [r.title or r.case_id for r in held_out],
        "year": [r.decision_year for r in held_out],
        "outcome": truth,
        "answer": [classes[i] for i in scored.probabilities.argmax(axis=1)],
        "confidence": scored.probabilities.max(axis=1).round(3),
        **{kind: values for kind, values in scored.groups.items()},
    }
)
errors = cases[cases["outcome"] != cases["answer"]]
print(f"{len(errors)} errors of {len(cases)} ({len(errors) / len(cases):.1%})")
errors.sort_values("confidence", ascending=False).head(10)

# %%
cases.groupby(["outcome", "answer"]).size().unstack(fill_value=0)

# %% [markdown]
# ## Groups
# Each group kind of the spec: cases, accuracy beside the group's majority rule, macro-F1,
# ROC-AUC, ECE, and (binary tasks) the mean estimate beside the observed rate.

# %%
groups = group_metrics(spec, held_out, truth, scored.probabilities, classes, scored.positive)
first_kind = next(iter(groups))
table = pd.DataFrame(groups[first_kind])
print(first_kind)
table.head(15)

# %%
shown = table[~table["too_few"]].head(12)
if scored.positive is not None and len(shown):
    figure, axes = plt.subplots(figsize=(8, 3))
    positions = range(len(shown))
    axes.bar([p - 0.2 for p in positions], shown["mean_probability"], width=0.4, label="mean estimate")
    axes.bar([p + 0.2 for p in positions], shown["observed_rate"], width=0.4, label="observed rate")
    axes.set_xticks(list(positions), shown["group"], rotation=45, ha="right")
    axes.set(ylabel=f"P({scored.positive})", title=f"{first_kind}: estimate against outcome")
    axes.legend()
else:
    print("no group with enough cases to plot")

# %%
pd.DataFrame(
    [{"kind": kind, **row} for kind, rows in groups.items() for row in rows if not row["too_few"]]
)
