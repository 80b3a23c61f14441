"""Track records: how earlier decisions of a group came out, as features of a new case.

A group is the cases that share the values of some fields (a respondent state; a court and a
kind of proceeding; the whole court when there are none). For a case decided at time ``t``
the record counts only decisions at times strictly before ``t`` (so neither the case's own
outcome nor any later one can reach it, nor one of the same year when times are years),
within ``window``, each weighted by ``0.5 ** (age / half_life)``. Rates are shrunk toward
the rate of a larger group (``shrinkage`` cases' worth of it): the group of the first field
alone for groups of several fields (a justice's record in criminal cases toward the
justice's record), else the whole court's record over the same years.

``TrackRecord`` keeps group records of one outcome per decision; ``PanelRecord`` keeps the
records of the members who decide together (each justice's votes) and describes a case's
panel by their records.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted


@dataclass(frozen=True)
class RecordValue:
    """One group record for one case: the shrunk class rates and what they rest on."""

    rates: np.ndarray  # per class, shrunk
    cases: int  # earlier decisions of the group within the window (unweighted)
    first: float | None  # the earliest and latest times counted
    last: float | None


def _key_values(value: Any, separator: str | None) -> list[str]:
    """A field's value as group keys: several for a delimited value ("FRA;ITA")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].lstrip("-").isdigit():
        text = text[:-2]  # 8.0 read as a float is the code 8
    if not text:
        return []
    if separator:
        return [part.strip() for part in text.split(separator) if part.strip()]
    return [text]


def record_name(kind: str, fields: Sequence[str]) -> str:
    """A kind of record's name, its feature names' prefix: ``record:respondent``,
    ``panel:issueArea+lcDispositionDirection``, ``record:court`` (the whole court)."""
    return f"{kind}:{'+'.join(fields) if fields else 'court'}"


class _Records(TransformerMixin, BaseEstimator):
    """What both kinds of record share: their kinds of group, named."""

    kind = ""
    groups_: list[tuple[str, ...]]

    def group_names(self) -> list[str]:
        """Each kind of group's name, in the order of ``keys``."""
        check_is_fitted(self, "groups_")
        return [record_name(self.kind, fields) for fields in self.groups_]


class TrackRecord(_Records):
    """The class rates of earlier decisions, per group of cases sharing ``keys``' fields.

    ``keys``: the groups, each a sequence of field names (an empty one: the whole court).
    ``time_column`` orders decisions (years or any number). ``separator`` splits a field with
    several values (a case against two states counts in both records, and its record sums
    theirs). Fitted on decisions (their fields and outcomes); ``add`` appends newer ones.
    """

    kind = "record"

    def __init__(
        self,
        keys: Sequence[Sequence[str]] = ((),),
        time_column: str = "year",
        window: float = 10.0,
        half_life: float = 4.0,
        shrinkage: float = 10.0,
        separator: str | None = ";",
    ) -> None:
        self.keys = keys
        self.time_column = time_column
        self.window = window
        self.half_life = half_life
        self.shrinkage = shrinkage
        self.separator = separator

    # -- learning ---------------------------------------------------------------------------

    def fit(
        self,
        X: pd.DataFrame,
        y: Sequence[Any] | np.ndarray,
        classes: Sequence[Any] | None = None,
    ) -> TrackRecord:
        """Keep the decisions ``X`` (their key fields and time) with outcomes ``y``."""
        labels = np.asarray(y)
        self.classes_ = np.asarray(classes) if classes is not None else np.unique(labels)
        self.groups_ = [tuple(k) for k in self.keys]
        self.fields_ = sorted({f for k in self.groups_ for f in k})
        self.history_ = self._decisions(X, labels)
        self._index()
        return self

    def add(self, X: pd.DataFrame, y: Sequence[Any] | np.ndarray) -> TrackRecord:
        """Append newer labelled decisions to the record (no refit of anything else)."""
        check_is_fitted(self, "history_")
        added = self._decisions(X, np.asarray(y))
        self.history_ = pd.concat([self.history_, added], ignore_index=True)
        self._index()
        return self

    def _decisions(self, X: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
        unknown = sorted(set(labels.tolist()) - set(self.classes_.tolist()))
        if unknown:
            raise ValueError(f"outcomes {unknown} are not among the classes {self.classes_}")
        missing = [f for f in [*self.fields_, self.time_column] if f not in X.columns]
        if missing:
            raise ValueError(f"the track record needs the fields {missing}")
        frame = pd.DataFrame({f: X[f].to_numpy() for f in self.fields_})
        frame["_time"] = pd.to_numeric(X[self.time_column], errors="coerce").to_numpy(float)
        frame["_class"] = np.searchsorted(self.classes_, labels)
        return frame[frame["_time"].notna()].reset_index(drop=True)

    def _index(self) -> None:
        """Class counts per group key and time: (keys, times, classes) per kind of group."""
        history = self.history_
        self.times_ = np.unique(history["_time"].to_numpy(float))
        time_at = np.searchsorted(self.times_, history["_time"].to_numpy(float))
        n_times, n_classes = len(self.times_), len(self.classes_)
        self.overall_ = np.zeros((n_times, n_classes))
        np.add.at(self.overall_, (time_at, history["_class"].to_numpy()), 1)
        self.counts_: list[dict[tuple[str, ...], np.ndarray]] = []
        columns = {f: history[f].tolist() for f in self.fields_}
        classes = history["_class"].to_numpy()
        for group in self.groups_:
            counts: dict[tuple[str, ...], np.ndarray] = {}
            for row in range(len(history)):
                for key in self._keys_of([columns[f][row] for f in group]):
                    if key not in counts:
                        counts[key] = np.zeros((n_times, n_classes))
                    counts[key][time_at[row], classes[row]] += 1
            self.counts_.append(counts)

    def _keys_of(self, values: Sequence[Any]) -> list[tuple[str, ...]]:
        parts = [_key_values(v, self.separator) for v in values]
        return [tuple(p) for p in itertools.product(*parts)]

    # -- the record of a case ---------------------------------------------------------------

    def weights(self, time: float) -> np.ndarray:
        """Each history time's weight for a decision at ``time``: 0 unless strictly earlier
        and within the window."""
        check_is_fitted(self, "times_")
        age = time - self.times_
        inside = (age > 0) & (age <= self.window)
        return np.where(inside, 0.5 ** (np.maximum(age, 0) / self.half_life), 0.0)

    def now(self) -> float:
        """The time of a case with none: just after the latest decision counted."""
        return float(self.times_[-1]) + 1 if len(self.times_) else 0.0

    def record(self, group: int, values: Sequence[Any], time: float | None) -> RecordValue:
        """The record of kind ``group`` (a position in ``keys``) for a case with the group's
        field ``values``, decided at ``time`` (None: now)."""
        when = self.now() if time is None or math.isnan(time) else float(time)
        return self._record_at(group, values, self.weights(when))

    def _record_at(self, group: int, values: Sequence[Any], weights: np.ndarray) -> RecordValue:
        prior = self._prior(group, values, weights)
        keys = self._keys_of(values) if self.groups_[group] else [()]
        found = [self.counts_[group][k] for k in keys if k in self.counts_[group]]
        if not found:
            return RecordValue(prior, 0, None, None)
        counts = np.sum(found, axis=0)  # (times, classes)
        weighted = weights @ counts
        total = float(weighted.sum())
        rates = (weighted + self.shrinkage * prior) / (total + self.shrinkage)
        counted = np.flatnonzero((weights > 0) & (counts.sum(axis=1) > 0))
        if not len(counted):
            return RecordValue(prior, 0, None, None)
        cases = int(counts[counted].sum())
        first, last = float(self.times_[counted[0]]), float(self.times_[counted[-1]])
        return RecordValue(rates, cases, first, last)

    def _prior(self, group: int, values: Sequence[Any], weights: np.ndarray) -> np.ndarray:
        """What a group's rates shrink toward: its first field's own record where that is a
        kind of group too, else the whole court's over the same years."""
        fields = self.groups_[group]
        if len(fields) > 1 and fields[:1] in self.groups_:
            return self._record_at(self.groups_.index(fields[:1]), values[:1], weights).rates
        overall = weights @ self.overall_
        if overall.sum() == 0:  # nothing earlier: the whole history's shares
            overall = self.overall_.sum(axis=0)
        return overall / max(overall.sum(), 1.0)

    # -- as features ------------------------------------------------------------------------

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Per kind of group: the shrunk rate of each class (of the positive class alone
        for two classes) and log(1 + earlier decisions counted)."""
        check_is_fitted(self, "history_")
        times = self._times(X)
        columns = {f: (X[f].tolist() if f in X.columns else [None] * len(X)) for f in self.fields_}
        out = np.zeros((len(X), len(self.get_feature_names_out())))
        cache: dict[tuple[Any, ...], np.ndarray] = {}
        for row in range(len(X)):
            features: list[float] = []
            for group, fields in enumerate(self.groups_):
                values = tuple(columns[f][row] for f in fields)
                memo = (group, values, times[row])
                if memo not in cache:
                    value = self.record(group, values, times[row])
                    cache[memo] = np.append(self._shown_rates(value.rates), math.log1p(value.cases))
                features.extend(cache[memo])
            out[row] = features
        return out

    def _shown_rates(self, rates: np.ndarray) -> np.ndarray:
        return rates[1:] if len(self.classes_) == 2 else rates

    def _times(self, X: pd.DataFrame) -> np.ndarray:
        if self.time_column not in X.columns:
            return np.full(len(X), np.nan)
        return pd.to_numeric(X[self.time_column], errors="coerce").to_numpy(float)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        shown = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        names: list[str] = []
        for name in self.group_names():
            names += [f"{name}={c}" for c in shown] + [f"{name}:log_cases"]
        return np.asarray(names, dtype=object)


class PanelRecord(_Records):
    """The members who decide a case together, described by their own earlier votes.

    Fitted on votes (one row per member per decision: ``member_column``, ``seat_column`` naming
    the bench the member sat on, ``time_column``, the case fields of ``keys`` and
    ``vote_column``, 1 for the positive outcome and 0 against it). A case's bench is the
    members of its ``seat_column`` value, or the latest bench before its time when that
    value is unknown. Per kind of group: the mean, lowest and highest shrunk rate of voting
    for the positive outcome among the bench, and the share of members above one half.
    """

    kind = "panel"

    def __init__(
        self,
        keys: Sequence[Sequence[str]] = ((),),
        member_column: str = "member",
        seat_column: str = "seat",
        vote_column: str = "vote",
        time_column: str = "year",
        window: float = 10.0,
        half_life: float = 4.0,
        shrinkage: float = 10.0,
    ) -> None:
        self.keys = keys
        self.member_column = member_column
        self.seat_column = seat_column
        self.vote_column = vote_column
        self.time_column = time_column
        self.window = window
        self.half_life = half_life
        self.shrinkage = shrinkage

    def fit(self, votes: pd.DataFrame, y: Any = None) -> PanelRecord:
        votes = votes[pd.to_numeric(votes[self.vote_column], errors="coerce").notna()]
        self.groups_ = [tuple(k) for k in self.keys]
        self.records_ = TrackRecord(
            keys=[(self.member_column, *k) for k in self.groups_],
            time_column=self.time_column,
            window=self.window,
            half_life=self.half_life,
            shrinkage=self.shrinkage,
            separator=None,
        ).fit(votes, votes[self.vote_column].astype(int).to_numpy(), classes=[0, 1])
        seats = votes.groupby(votes[self.seat_column].astype(str))
        self.benches_ = {
            seat: sorted(set(part[self.member_column].astype(str))) for seat, part in seats
        }
        self.bench_times_ = {
            seat: float(pd.to_numeric(part[self.time_column]).min()) for seat, part in seats
        }
        return self

    def bench(self, seat: Any, time: float | None) -> list[str]:
        """The members of bench ``seat``, or of the latest bench begun before ``time`` (the
        latest of all when the time is unknown too)."""
        check_is_fitted(self, "benches_")
        key = _key_values(seat, None)
        if key and key[0] in self.benches_:
            return self.benches_[key[0]]
        begun = list(self.bench_times_.items())
        if time is not None and not math.isnan(time):
            begun = [(s, t) for s, t in begun if t < time] or begun
        return self.benches_[max(begun, key=lambda pair: pair[1])[0]]

    def member_rates(self, group: int, row: pd.Series) -> dict[str, RecordValue]:
        """Each bench member's record of kind ``group`` for the case ``row``."""
        time = pd.to_numeric(pd.Series([row.get(self.time_column)]), errors="coerce").iloc[0]
        fields = self.groups_[group]
        return {
            member: self.records_.record(
                group, [member, *(row.get(f) for f in fields)], float(time)
            )
            for member in self.bench(row.get(self.seat_column), float(time))
        }

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "records_")
        out = np.zeros((len(X), 4 * len(self.groups_)))
        cache: dict[tuple[Any, ...], list[float]] = {}
        fields = [self.seat_column, self.time_column, *{f for g in self.groups_ for f in g}]
        for position, (_, row) in enumerate(X.iterrows()):
            memo = tuple(str(row.get(f)) for f in fields)
            if memo not in cache:
                features: list[float] = []
                for group in range(len(self.groups_)):
                    rates = np.array([v.rates[1] for v in self.member_rates(group, row).values()])
                    features += [rates.mean(), rates.min(), rates.max(), (rates > 0.5).mean()]
                cache[memo] = features
            out[position] = cache[memo]
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(
            [
                f"{name}:{stat}"
                for name in self.group_names()
                for stat in ("mean", "lowest", "highest", "share_above_half")
            ],
            dtype=object,
        )
