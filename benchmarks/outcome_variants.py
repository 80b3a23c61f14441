"""Outcome-model variants on one data set's temporal split, beside the simple baselines.

Prints macro-F1, accuracy and ECE (beside the ECE a perfectly calibrated model would show on
these cases) for each variant on the same validation cases (the data set's
``validation_from`` year on), next to the global majority class and the majority of each
group (e.g. each kind of proceeding). A variant is a set of estimator parameters over
the data set's own, and optionally another encoder:

    python benchmarks/outcome_variants.py --dataset ru \\
        --variant "english:model=all-MiniLM-L6-v2,stemmer=" \\
        --variant "tfidf-only:use_embeddings=false" --variant "shipped:" \\
        --variant 'no intro particulars:categorical=["proceeding"]'

``--fractions 0.25,0.5,0.75`` adds a learning curve: each variant fitted again on random
shares of the earlier cases (``--repeats`` draws each), scored on the same later ones, to
tell whether more decisions would help. Macro-F1 comes with its bootstrap standard error
over the validation cases, and each variant's accuracy and macro-F1 differences from the
baselines with paired bootstrap 95% intervals: the majority class of the training years, and
the strong null of Katz et al. (2017), each case given the most frequent outcome of the
``--null-window`` years (terms) before its own, over every decision known then.

Embeddings come from the shared cache (``CASECAST_EMBEDDING_CACHE``): fill it first with
``casecast index`` or ``casecast train`` so this measures models, not the encoder.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import sklearn.base
from sklearn.metrics import accuracy_score, f1_score

from casecast.data.datasets import get_dataset, load_corpus
from casecast.data.schema import Corpus, model_input
from casecast.models.settings import CasecastSettings
from casecast.training.fitting import make_estimator, temporal_split
from casecast.training.metrics import classification_report


def _assignments(text: str) -> list[str]:
    """Split at commas between assignments, not inside a JSON value:
    categorical=["proceeding","charge"],track_record={"keys":[["charge"]],"window":5}."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def parse_variant(text: str) -> tuple[str, dict[str, Any], str | None]:
    name, _, assignments = text.partition(":")
    params: dict[str, Any] = {}
    model = None
    for item in filter(None, _assignments(assignments)):
        key, _, raw = item.partition("=")
        if key == "model":
            model = raw
            continue
        params[key] = _value(raw)
    return name, params, model


def _value(raw: str) -> Any:
    """JSON where it parses (numbers, true/false, null), else the text; empty is None."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def group_majority(groups_train: list[str], y_train: np.ndarray, groups_test: list[str],
                   fallback: str) -> np.ndarray:  # fmt: skip
    by_group: dict[str, Counter[str]] = {}
    for group, label in zip(groups_train, y_train, strict=True):
        by_group.setdefault(group, Counter())[label] += 1
    return np.asarray(
        [by_group[g].most_common(1)[0][0] if g in by_group else fallback for g in groups_test]
    )


def macro_f1_standard_error(truth: np.ndarray, predicted: np.ndarray, draws: int = 1000,
                            seed: int = 0) -> float:  # fmt: skip
    """Bootstrap standard error of macro-F1 over the scored cases."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(truth), size=(draws, len(truth)))
    scores = [f1_score(truth[p], predicted[p], average="macro", zero_division=0) for p in picks]
    return float(np.std(scores, ddof=1))


def recent_majority(times: np.ndarray, labels: np.ndarray, scored: np.ndarray, window: int,
                    fallback: str) -> np.ndarray:  # fmt: skip
    """For each scored case, the most frequent outcome of the ``window`` years before its
    own (all decisions of those years, whatever the split), ``fallback`` when there are none."""
    out = []
    for when in times[scored]:
        earlier = labels[(times < when) & (times >= when - window)]
        out.append(Counter(earlier.tolist()).most_common(1)[0][0] if len(earlier) else fallback)
    return np.asarray(out)


Interval = tuple[float, float, float]  # a difference, then its 95% interval


def paired_differences(truth: np.ndarray, ours: np.ndarray, theirs: np.ndarray,
                       draws: int = 1000, seed: int = 0) -> dict[str, Interval]:  # fmt: skip
    """Accuracy and macro-F1 of ``ours`` minus ``theirs`` on the same cases: the difference
    and its paired bootstrap 95% interval (the same draws for both)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(truth), size=(draws, len(truth)))
    found = {}
    for name, score in (
        ("accuracy", lambda t, p: float(np.mean(t == p))),
        ("macro_f1", lambda t, p: float(f1_score(t, p, average="macro", zero_division=0))),
    ):
        spread = [score(truth[k], ours[k]) - score(truth[k], theirs[k]) for k in picks]
        low, high = np.quantile(spread, [0.025, 0.975])
        found[name] = (score(truth, ours) - score(truth, theirs), float(low), float(high))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ru")
    parser.add_argument("--variant", action="append", default=[], help="name:key=value,...")
    parser.add_argument("--group", default="court", help="record field of the group majority")
    parser.add_argument(
        "--loader-sections",
        action="store_true",
        help="texts as the loader gives them, without the language's section parser (the "
        "inputs before the parser existed; set language=none in variants too)",
    )
    parser.add_argument("--fractions", default="", help="shares of the earlier cases: 0.25,0.5")
    parser.add_argument("--repeats", type=int, default=3, help="draws of each share")
    parser.add_argument("--null-window", type=int, default=10, help="years of the strong null")
    args = parser.parse_args()
    fractions = [float(f) for f in args.fractions.split(",") if f]

    spec = get_dataset(args.dataset)
    base = CasecastSettings()
    if args.loader_sections:
        paths = spec.default_splits(base.resolved_data_dir())
        corpus = functools.reduce(Corpus.concat, [spec.read_split(p) for p in paths])
    else:
        corpus = load_corpus(spec.name, base)
    frame = pd.DataFrame(model_input(corpus.records))
    labels = np.asarray(corpus.labels())
    earlier, later = temporal_split(corpus, spec.validation_from)
    print(f"{spec.name}: {int(earlier.sum())} cases before {spec.validation_from}, "
          f"{int(later.sum())} from it on")  # fmt: skip

    majority = Counter(labels[earlier].tolist()).most_common(1)[0][0]
    groups = [str(getattr(r, args.group)) for r in corpus.records]
    by_group = group_majority(
        [g for g, k in zip(groups, earlier, strict=True) if k], labels[earlier],
        [g for g, k in zip(groups, later, strict=True) if k], majority,
    )  # fmt: skip
    truth = labels[later]
    times = pd.to_numeric(frame[spec.time_field], errors="coerce").to_numpy(float)
    null = recent_majority(times, labels, later, args.null_window, majority)
    baselines = {"majority": np.full_like(truth, majority), f"last {args.null_window} years": null}
    rows = [
        ("global majority", f1_score(truth, np.full_like(truth, majority), average="macro"),
         accuracy_score(truth, np.full_like(truth, majority)), None, None, 0.0),
        (f"majority per {args.group}", f1_score(truth, by_group, average="macro"),
         accuracy_score(truth, by_group), None, None, 0.0),
        (f"last {args.null_window} years' majority", f1_score(truth, null, average="macro"),
         accuracy_score(truth, null), None, None, 0.0),
    ]  # fmt: skip
    versus: list[tuple[str, str, str, Interval]] = []
    curve: list[tuple[str, float, float, float]] = []
    for text in args.variant or ["shipped:"]:
        name, params, model = parse_variant(text)
        settings = base.model_copy(update={"embedding_model": model}) if model else base
        estimator = make_estimator(settings, spec).set_params(**params)
        started = time.perf_counter()
        estimator.fit(frame[earlier], labels[earlier])
        probabilities = estimator.predict_proba(frame[later])
        report = classification_report(
            truth, probabilities, list(estimator.classes_), spec.positive_class
        )
        seconds = time.perf_counter() - started
        rows.append((name, report["macro_f1"], report["accuracy"], report["ece"],
                     report["ece_if_calibrated"], seconds))  # fmt: skip
        decided = np.asarray(estimator.classes_)[probabilities.argmax(axis=1)]
        error = macro_f1_standard_error(truth, decided)
        print(f"  {name}: {estimator.embedder_.model_id_} {params} ({seconds:.0f} s), "
              f"macro-F1 {report['macro_f1']:.3f} ± {error:.3f}")  # fmt: skip
        for baseline, predicted in baselines.items():
            for metric, found in paired_differences(truth, decided, predicted).items():
                versus.append((name, baseline, metric, found))
        for fraction in fractions:
            scores = [
                _fit_share(estimator, frame, labels, earlier, later, fraction, seed)
                for seed in range(args.repeats)
            ]
            curve.append((name, fraction, float(np.mean(scores)), float(np.std(scores))))

    # ECE if calibrated: what a perfectly calibrated model would show on these cases.
    print(f"\n{'variant':<28} {'macro-F1':>9} {'accuracy':>9} {'ECE':>7} "
          f"{'if calibrated':>14} {'fit+score s':>12}")  # fmt: skip
    for name, macro_f1, accuracy, ece, noise, seconds in rows:
        ece_text = f"{ece:.3f}" if ece is not None else "-"
        noise_text = f"{noise:.3f}" if noise is not None else "-"
        print(f"{name:<28} {macro_f1:>9.3f} {accuracy:>9.3f} {ece_text:>7} {noise_text:>14} "
              f"{seconds:>12.0f}")  # fmt: skip
    print("\ndifferences from the baselines (paired bootstrap 95% interval)")
    for name, baseline, metric, (difference, low, high) in versus:
        print(f"{name:<28} {'- ' + baseline:<18} {metric:<9} {difference:+.3f} "
              f"[{low:+.3f}, {high:+.3f}]")  # fmt: skip
    if curve:
        print(f"\nlearning curve ({args.repeats} draws a share; 1.0 is the row above)")
        print(f"{'variant':<28} {'share':>6} {'cases':>6} {'macro-F1':>9} {'sd':>6}")
        for name, fraction, mean, spread in curve:
            cases = round(fraction * int(earlier.sum()))
            print(f"{name:<28} {fraction:>6.2f} {cases:>6} {mean:>9.3f} {spread:>6.3f}")


def _fit_share(estimator: Any, frame: pd.DataFrame, labels: np.ndarray, earlier: np.ndarray,
               later: np.ndarray, fraction: float, seed: int) -> float:  # fmt: skip
    """Macro-F1 on the later cases of the estimator refitted on a random share of the
    earlier ones (the same temporal split, fewer decisions to learn from)."""
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(earlier)
    chosen = np.sort(rng.choice(rows, size=round(fraction * len(rows)), replace=False))
    share = sklearn.base.clone(estimator).fit(frame.iloc[chosen], labels[chosen])
    decided = share.classes_[share.predict_proba(frame[later]).argmax(axis=1)]
    return float(f1_score(labels[later], decided, average="macro", zero_division=0))


if __name__ == "__main__":
    main()
