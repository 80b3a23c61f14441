"""Which class mix a served probability answers for, and the probabilities restated for it.

A model's probabilities answer for the mix of its calibration (the balanced one for ECHR,
whose train/dev files were balanced by their authors); later years come in other mixes (two
thirds and more violations). Per data set the service answers for the mix it was trained
for, for one a data scientist sets (``violation=0.66``), or for the one estimated from its
own recent predictions (their decisions, by the model's decision rates on its temporal
hold-out: no labels); the model restates every probability for it by Bayes' rule
(``CaseOutcomeClassifier.at_class_mix``) and the class most probable at that mix is
decided. Every answer says which mix it answers for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from casecast.models.class_mix import MAX_MIX_ERROR, parse_class_mix

TRAINED, ESTIMATED = "trained", "estimated"
log = logging.getLogger("casecast.serving")
Source = Literal["trained", "set", "estimated"]


@dataclass(frozen=True)
class ServedMix:
    shares: dict[str, float]  # by class, in the model's order
    source: Source
    cases: int | None = None  # recent predictions it was estimated from
    error: float | None = None  # the estimate's largest standard error
    note: str = ""  # why the trained mix is served where another was asked for


def check_rule(rule: str) -> str:
    """A setting's value, refused at start-up when it cannot be a mix rule."""
    if rule not in (TRAINED, ESTIMATED) and "=" not in rule:
        raise ValueError(f"class mix {rule!r}: trained, estimated or class=share,...")
    return rule


class ClassMixPolicy:
    """One data set's rule: ``trained``, ``estimated`` or shares such as ``violation=0.66``.

    ``recent(version, n)`` gives the probabilities (as trained) of the latest ``n``
    predictions of a model version; an estimate needs ``min_cases`` of them and is kept for
    ``refresh_s`` seconds.
    """

    def __init__(
        self,
        rule: str,
        recent: Callable[[str, int], Sequence[Mapping[str, float]]] | None,
        window: int = 500,
        min_cases: int = 100,
        refresh_s: float = 60.0,
    ) -> None:
        self.rule = check_rule(rule)
        self.recent, self.window, self.min_cases = recent, window, min_cases
        self.refresh_s = refresh_s
        self._cached: tuple[str, float, ServedMix] | None = None

    def mix(self, version: str, estimator: Any) -> ServedMix | None:
        """The mix answered for; None for a model with no reference mix (no calibration)."""
        calibration = getattr(estimator, "calibration_", None)
        if calibration is None:
            return None
        classes = [str(c) for c in estimator.classes_]
        trained = dict(zip(classes, map(float, calibration.reference_mix_), strict=True))
        if self.rule == TRAINED:
            return ServedMix(trained, "trained")
        if self.rule != ESTIMATED:
            try:
                shares = parse_class_mix(self.rule, classes)
            except ValueError as error:  # a setting this model's classes do not fit
                log.error("%s", error)
                return ServedMix(trained, "trained", note=f"the mix set is not used: {error}")
            return ServedMix(dict(zip(classes, map(float, shares), strict=True)), "set")
        cached = self._cached
        if cached and cached[0] == version and time.monotonic() - cached[1] < self.refresh_s:
            return cached[2]
        served = self._estimate(version, estimator, classes, trained)
        if served.source == ESTIMATED:  # a fallback is looked at again on the next answer
            self._cached = (version, time.monotonic(), served)
        return served

    def _estimate(
        self, version: str, estimator: Any, classes: list[str], trained: dict[str, float]
    ) -> ServedMix:
        rows = self.recent(version, self.window) if self.recent else []
        if len(rows) < self.min_cases:
            note = (
                f"{len(rows)} recent predictions, fewer than the {self.min_cases} an estimate needs"
            )
            return ServedMix(trained, "trained", len(rows), note=note)
        probabilities = np.array([[row.get(c, 0.0) for c in classes] for row in rows])
        estimate = estimator.estimate_class_mix(probabilities)
        if estimate is None:
            return ServedMix(trained, "trained", len(rows), note="the model cannot estimate a mix")
        error = float(estimate.error.max())
        if error > MAX_MIX_ERROR:
            note = f"the estimate's standard error {error:.2f} is too large to answer for"
            return ServedMix(trained, "trained", len(rows), error, note)
        shares = dict(zip(classes, map(float, estimate.shares), strict=True))
        return ServedMix(shares, "estimated", len(rows), error)
