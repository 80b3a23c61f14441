"""The thresholds a data set's spec sets for watching its models: the gates a challenger
passes before it becomes champion (`gates:`), and when drift alarms (`drift:`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """A spec's sections: unknown keys are errors, and a read spec does not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Gates(Strict):
    """When `casecast promote` refuses a challenger: when, with 95% confidence, it is worse
    than the champion by more than the tolerance (paired bootstrap on the same held-out
    cases). Tolerances are in the metric's own units."""

    main_metric: Literal["macro_f1", "accuracy", "roc_auc"] = "macro_f1"
    main: float = Field(default=0.0, ge=0, description="the main metric may be this much worse")
    calibration: float = Field(default=0.01, ge=0, description="ECE may be this much higher")
    group: float = Field(default=0.02, ge=0, description="each group's main metric")
    min_group_cases: int = Field(default=30, ge=5, description="fewer: too few to tell")


class DriftRule(Strict):
    """When `casecast drift` alarms (and exits non-zero): recent cases against the training
    data. A test alarms when its p-value is below ``p_value`` (for the fields: divided by
    their number) and, where it has one, its effect reaches the threshold."""

    p_value: float = Field(default=0.01, gt=0, lt=1, description="significance of each test")
    field_effect: float = Field(
        default=0.1, ge=0, le=1, description="total variation (categories) or KS statistic"
    )
    class_rate: float = Field(
        default=0.1, ge=0, le=1, description="predicted class rates: total variation"
    )
    class_mix: float = Field(
        default=0.1, ge=0, le=1, description="a class's estimated share, beyond 2 standard errors"
    )
    min_cases: int = Field(default=30, ge=5, description="fewer recent cases: no verdict")
    max_cases: int = Field(default=1000, ge=50, description="cases each side embeds and tests")
    permutations: int = Field(default=500, ge=99, description="of the embedding shift test")
