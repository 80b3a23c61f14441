"""The outcome estimator on real ECHR cases, and the guard that nothing leaks into it."""

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from casecast.data.datasets import get_dataset
from casecast.data.schema import model_input
from casecast.data.text import split_sentences
from casecast.features.embedding import SentenceEmbedder
from casecast.models.class_mix import class_mix_error
from casecast.models.outcome import CaseOutcomeClassifier, FieldEffect, PassageEffect
from casecast.models.outcome.calibration import latest_holdout, time_order
from tests.cases import parse_case as parse_row
from tests.conftest import read_raw_cases

N_CASES = 160
# Everything the ECHR spec names as stated by the judgment: blanked, nothing may change.
STATED_BY_THE_JUDGMENT = (
    *get_dataset("echr").file.post_decision,
    "VIOLATED_ARTICLES",
    "NON_VIOLATED_ARTICLES",
)


def parse_case(case: dict):
    return parse_row("echr", case)


@pytest.fixture(scope="module")
def raw_cases(echr_train_path) -> list[dict]:
    return read_raw_cases(echr_train_path, N_CASES)


@pytest.fixture(scope="module")
def frame_and_labels(raw_cases) -> tuple[pd.DataFrame, np.ndarray]:
    parsed = [parse_case(case) for case in raw_cases]
    frame = pd.DataFrame(model_input(r for r, _ in parsed))
    return frame, np.asarray([o.label for _, o in parsed])


@pytest.fixture(scope="module")
def fitted(frame_and_labels, raw_cases, embedding_cache) -> CaseOutcomeClassifier:
    frame, labels = frame_and_labels
    articles = [parse_case(case)[1].violated for case in raw_cases]
    estimator = CaseOutcomeClassifier(
        embedder=SentenceEmbedder(cache_dir=embedding_cache), calibration_fraction=0.35
    )
    return estimator.fit(frame[:120], labels[:120], articles=articles[:120])


def test_probabilities_are_valid_and_rank_unseen_cases(fitted, frame_and_labels):
    frame, labels = frame_and_labels
    proba = fitted.predict_proba(frame)
    assert proba.shape == (len(frame), 2)
    assert np.all((proba >= 0) & (proba <= 1)) and np.allclose(proba.sum(axis=1), 1)
    assert list(fitted.classes_) == ["no_violation", "violation"]
    held_out = labels[120:] == "violation"
    assert roc_auc_score(held_out, proba[120:, 1]) > 0.6


def test_calibration_is_learnt_on_the_latest_cases(fitted, frame_and_labels):
    frame, _ = frame_and_labels
    """The temperature comes from the latest 35% of the 120 training cases by year."""
    assert fitted.calibration_ is not None
    assert fitted.calibration_.holdout_cases_ == 42
    years = np.sort(frame["year"][:120].to_numpy())
    assert fitted.calibration_.holdout_from_ == years[-42]
    assert 0.05 <= fitted.calibration_.temperature_ <= 20


def test_the_calibration_hold_out_is_scored_by_learners_of_earlier_cases(fitted, frame_and_labels):
    """The temperature is learnt on the latest cases as scored by a fit of the earlier ones."""
    frame, labels = frame_and_labels
    cases = fitted.prepare(frame[:120])
    m = fitted.features_.transform(cases)
    target = np.searchsorted(fitted.classes_, labels[:120])
    split = latest_holdout(target, time_order(cases.inputs, "year"), 0.35, 2)
    assert split is not None and len(split.holdout) == 42
    np.testing.assert_array_equal(np.sort(np.concatenate(split)), np.arange(120))
    years = cases.inputs["year"].to_numpy()
    assert years[split.earlier].max() <= years[split.holdout].min()
    stack = clone(fitted.stack_)
    scores, holdout_scores = stack.fit_out_of_fold(m, target, split)
    by_earlier = stack.fit_base(m.take(split.earlier), target, split.earlier)
    expected = stack.score_block(by_earlier, m.take(split.holdout))
    np.testing.assert_allclose(holdout_scores, expected)
    assert holdout_scores.shape == (42, scores.shape[1])
    # The fitted model's temperature comes from exactly those scores.
    scaler, meta = stack.fit_meta(scores[split.earlier], m.structured[split.earlier],
                                  target[split.earlier])  # fmt: skip
    log_proba = stack.meta_log_proba(scaler, meta, holdout_scores, m.structured[split.holdout])
    refitted = clone(fitted.calibration_).fit(log_proba, target[split.holdout])
    # Equal up to summation order (BLAS threads; see the parallel-folds test).
    assert refitted.temperature_ == pytest.approx(fitted.calibration_.temperature_, rel=1e-4)


def test_article_heads_give_a_probability_and_a_call_per_article(fitted, frame_and_labels):
    frame, _ = frame_and_labels
    heads = fitted.articles_
    assert "6" in fitted.article_labels == heads.labels_
    # The heads have a penalty of their own, weaker than the text learner's.
    assert {head.C for head in heads.models_} == {fitted.article_C} != {fitted.text_C}
    details = fitted.predict_details(frame[120:160])
    answers = details.articles
    assert answers is not None and len(answers) == 40
    decided = fitted.classes_[details.probabilities.argmax(axis=1)]
    assert fitted.article_class_ == "violation" and {"violation", "no_violation"} <= set(decided)
    # The heads estimate P(article | violation), fitted on the violation cases alone.
    given = heads.predict(fitted.features_.transform(fitted.prepare(frame[120:160])).text)
    violation = details.probabilities[:, list(fitted.classes_).index("violation")]
    for answer, conditional, label, p in zip(answers, given, decided, violation, strict=True):
        assert [a.article for a in answer] == heads.labels_
        for a, c in zip(answer, conditional, strict=True):  # P(article) = P(a | v) P(v)
            assert a.probability == pytest.approx(c.probability * p, abs=2e-4)
        called = [a.predicted for a in answer]
        over = [c.predicted for c in conditional]  # each head's threshold, on its own scale
        if label == "no_violation":  # the answer agrees with its verdict: no article
            assert not any(called)
        elif any(over):
            assert called == over
        else:  # a violation names at least its likeliest article
            likeliest = max(range(len(answer)), key=lambda i: conditional[i].probability)
            assert called == [i == likeliest for i in range(len(answer))]


def test_leaking_and_outcome_fields_never_change_a_prediction(fitted, raw_cases):
    """Blank BRANCH, DOCNAME, IMPORTANCE, JUDGES and every outcome field: same answers."""
    cases = raw_cases[120:]
    blanked = []
    for case in copy.deepcopy(cases):
        for name in STATED_BY_THE_JUDGMENT:
            case[name] = [] if isinstance(case[name], list) else ""
        blanked.append(case)
    original = pd.DataFrame(model_input(parse_case(c)[0] for c in cases))
    scrubbed = pd.DataFrame(model_input(parse_case(c)[0] for c in blanked))
    assert np.array_equal(fitted.predict_proba(original), fitted.predict_proba(scrubbed))


def test_the_model_reads_only_text_respondent_and_year(fitted):
    names = fitted.get_feature_names_out()
    scores = ("text:", "paragraphs_", "embedding:", "text_trees:", "text_characters:")
    structured = [n for n in names if not n.startswith(scores)]
    derived_from_text = {"log_paragraphs", "log_characters"}
    assert all(n.startswith("respondent=") or n in {"year", *derived_from_text} for n in structured)
    assert list(fitted.feature_names_in_) == ["text", "respondent", "year"]


def test_text_drives_the_answer(fitted, frame_and_labels):
    frame, _ = frame_and_labels
    row = frame.iloc[[130]].copy()
    other = row.copy()
    other["text"] = frame.iloc[0]["text"]
    assert not np.allclose(fitted.predict_proba(row), fitted.predict_proba(other))


def test_reasons_name_real_passages_of_the_input(fitted, frame_and_labels):
    frame, _ = frame_and_labels
    rows = frame.iloc[[125, 140]]
    for (_, row), reasons in zip(rows.iterrows(), fitted.explain(rows, top_k=3), strict=True):
        passages = [r for r in reasons if isinstance(r, PassageEffect)]
        fields = [r for r in reasons if isinstance(r, FieldEffect)]
        assert 1 <= len(passages) <= 3 and len(passages) + len(fields) == len(reasons)
        assert {f.field for f in fields} <= {"respondent", "year"}
        paragraphs = row["text"].split("\n\n")
        for reason in passages:
            first, last = reason.first_paragraph, reason.last_paragraph
            assert 1 <= first <= last <= len(paragraphs) and not reason.sentence
            assert reason.excerpt.rstrip("…")[:100] in "\n\n".join(paragraphs[first - 1 : last])
        effects = [abs(round(r.effect, 4)) for r in passages]
        assert effects == sorted(effects, reverse=True)


def test_a_one_paragraph_account_is_explained_sentence_by_sentence(fitted, frame_and_labels):
    """A claimant's short account is one passage: removing it all would say nothing about
    which of its words matter, so each sentence is a reason of its own."""
    frame, _ = frame_and_labels
    sentences = split_sentences(" ".join(frame.iloc[130]["text"].split("\n\n")[1:]))
    account = ""
    for sentence in sentences:  # as much as one 128-token passage holds
        if len(f"{account} {sentence}".split()) > 90:
            break
        account = f"{account} {sentence}".strip()
    assert len(split_sentences(account)) >= 3
    row = pd.DataFrame({"text": [account], "respondent": ["RUS"], "year": [2012]})
    reasons = fitted.explain(row, top_k=3)[0]
    passages = [r for r in reasons if isinstance(r, PassageEffect)]
    assert len(passages) == 3 and len({r.excerpt for r in passages}) == 3
    for reason in passages:
        assert reason.excerpt in sentences and reason.sentence
        assert reason.first_paragraph == reason.last_paragraph == 1
    # The strongest sentence's effect is what removing it does (its words; the embedding
    # of the account is kept in the explanation, re-computed here).
    top = passages[0]
    without = account.replace(top.excerpt, " ", 1)
    predicted = int(fitted.predict_proba(row).argmax())
    change = fitted.predict_proba(row) - fitted.predict_proba(row.assign(text=[without]))
    assert np.sign(change[0, predicted]) == np.sign(top.effect)


def test_field_reasons_are_measured_against_the_average_training_case(fitted, frame_and_labels):
    frame, _ = frame_and_labels
    reference = fitted.features_.structured_mean_
    names = list(fitted.get_feature_names_out())[-len(reference) :]
    respondents = frame["respondent"][:120]
    for value in ("TUR", "RUS"):
        share = (respondents == value).mean()
        assert reference[names.index(f"respondent={value}")] == pytest.approx(share)
    # Two cases that differ only in the state: their state effects differ by exactly the
    # difference of their estimates (one common reference).
    row = frame.iloc[[130]].reset_index(drop=True)
    pair = pd.concat([row.assign(respondent="TUR"), row.assign(respondent="RUS")])
    proba = fitted.predict_proba(pair)
    assert proba[0].argmax() == proba[1].argmax()
    label = int(proba[0].argmax())
    effects = [
        next(r.effect for r in reasons if isinstance(r, FieldEffect) and r.field == "respondent")
        for reasons in fitted.explain(pair.reset_index(drop=True), top_k=5)
    ]
    assert effects[0] - effects[1] == pytest.approx(proba[0, label] - proba[1, label], abs=1e-9)


def test_missing_structured_fields_are_allowed(fitted, frame_and_labels):
    frame, _ = frame_and_labels
    proba = fitted.predict_proba(pd.DataFrame({"text": [frame.iloc[0]["text"]]}))
    assert proba.shape == (1, 2) and np.isclose(proba.sum(), 1)


def test_pickle_round_trip_keeps_predictions(fitted, frame_and_labels):
    frame, _ = frame_and_labels
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.allclose(restored.predict_proba(frame[:5]), fitted.predict_proba(frame[:5]))


def test_one_class_is_refused(frame_and_labels):
    frame, _ = frame_and_labels
    with pytest.raises(ValueError, match="two outcome classes"):
        CaseOutcomeClassifier().fit(frame[:3], ["violation"] * 3)


def test_tree_learner_ranks_unseen_cases_from_the_words_it_chose(fitted, frame_and_labels):
    frame, labels = frame_and_labels
    trees = fitted.stack_.base_.trees
    assert trees is not None
    vocabulary = fitted.features_.text_vectorizer_.get_feature_names_out()
    assert 0 < len(trees.columns_) <= min(fitted.tree_features, len(vocabulary))
    unseen = fitted.features_.transform(fitted.prepare(frame[120:]))
    tree_scores = fitted.stack_.base_scores(fitted.stack_.base_, unseen)["text_trees"]
    assert roc_auc_score(labels[120:] == "violation", tree_scores[:, 0]) > 0.6


def test_character_learner_ranks_unseen_cases(fitted, frame_and_labels):
    frame, labels = frame_and_labels
    assert fitted.features_.char_vectorizer_ is not None
    assert fitted.stack_.base_.characters is not None
    assert "text_characters:score" in fitted.get_feature_names_out()
    unseen = fitted.features_.transform(fitted.prepare(frame[120:]))
    scores = fitted.stack_.base_scores(fitted.stack_.base_, unseen)
    assert roc_auc_score(labels[120:] == "violation", scores["text_characters"][:, 0]) > 0.6


def test_parallel_folds_give_the_sequential_answer(frame_and_labels, embedding_cache):
    frame, labels = frame_and_labels
    answers = [
        CaseOutcomeClassifier(embedder=SentenceEmbedder(cache_dir=embedding_cache), n_jobs=jobs)
        .fit(frame[:80], labels[:80])
        .predict_proba(frame[80:])
        for jobs in (1, 2)
    ]
    # Equal up to floating-point summation order: BLAS may split a sum over threads
    # differently when two folds run at once (seen: 4e-6 in a full-suite run); a fold fitted
    # on the wrong cases would move probabilities by whole points.
    np.testing.assert_allclose(answers[0], answers[1], rtol=0, atol=1e-4)


def test_the_class_mix_of_new_cases_is_estimated_without_their_labels(fitted, frame_and_labels):
    """Hold-out decision rates are kept, and more violations among the cases read as more."""
    frame, labels = frame_and_labels
    calibration = fitted.calibration_
    rates = calibration.decision_rates_
    assert rates.shape == (2, 2) and np.allclose(rates.sum(axis=1), 1)
    assert rates[1, 1] > rates[0, 1]  # violations are decided 'violation' more often
    assert list(calibration.reference_mix_) == [0.5, 0.5]  # a class-balanced model
    proba = fitted.predict_proba(frame[120:])
    violation = labels[120:] == "violation"
    mostly_violations = np.r_[np.flatnonzero(violation), np.flatnonzero(violation)[:5],
                              np.flatnonzero(~violation)[:5]]  # fmt: skip
    mostly_not = np.r_[np.flatnonzero(~violation), np.flatnonzero(violation)[:5]]
    high = fitted.estimate_class_mix(proba[mostly_violations])
    low = fitted.estimate_class_mix(proba[mostly_not])
    assert high.shares[1] > low.shares[1] + 0.2
    # The error counts the hold-out's own noise: more than the batch's alone.
    cases = calibration.holdout_class_cases_
    assert sum(cases) == calibration.holdout_cases_ and min(cases) > 0
    batch_alone = class_mix_error(rates, proba[mostly_not].argmax(axis=1))
    assert (low.error > batch_alone).all()


def test_probabilities_are_restated_for_a_class_mix(fitted, frame_and_labels):
    frame, _ = frame_and_labels
    proba = fitted.predict_proba(frame[120:130])
    np.testing.assert_allclose(fitted.at_class_mix(proba, [0.5, 0.5]), proba)
    later = fitted.at_class_mix(proba, [1 / 3, 2 / 3])
    assert (later[:, 1] > proba[:, 1]).all() and np.allclose(later.sum(axis=1), 1)
    with pytest.raises(ValueError, match="one positive share per class"):
        fitted.at_class_mix(proba, [1.0, 0.0])


@pytest.mark.parametrize("text", ["0", "The applicant was detained.", "x"])
def test_a_text_of_one_short_passage_is_estimated_and_explained(fitted, text):
    """Occluding the only passage leaves no paragraph at all: still an answer, not a crash."""
    details = fitted.predict_details(pd.DataFrame({"text": [text]}), explain=True)
    assert np.isclose(details.probabilities.sum(), 1) and details.reasons is not None
    assert all(abs(r.effect) <= 1 for r in details.reasons[0])


def test_track_records_are_fields_with_reasons_and_count_newer_decisions_for_later_cases(
    fitted, frame_and_labels, raw_cases
):
    frame, labels = frame_and_labels
    record = {"keys": [["respondent"]], "window": 10, "half_life": 3, "shrinkage": 10}
    estimator = clone(fitted).set_params(track_record=record).fit(frame[:120], labels[:120])
    names = list(estimator.get_feature_names_out())
    assert "record:respondent=violation" in names and "record:respondent:log_cases" in names
    case = frame.iloc[[130]].reset_index(drop=True)
    reasons = estimator.explain(case, top_k=10)[0]
    found = [r for r in reasons if isinstance(r, FieldEffect) and r.field == "record:respondent"]
    assert len(found) == 1 and "earlier decisions" in str(found[0].value)

    # Newer labelled decisions of the same state reach later cases only.
    state = frame["respondent"][:120].value_counts().index[0]
    latest = int(frame["year"].max())
    newer = frame[120:160].assign(respondent=state, year=latest + 1)
    later, same_year = (case.assign(respondent=state, year=y) for y in (latest + 2, latest + 1))
    columns = [n.startswith("record:") for n in names[-len(estimator.features_.structured_mean_) :]]

    def records(c: pd.DataFrame) -> np.ndarray:
        return estimator.features_.transform(estimator.prepare(c)).structured[0, columns]

    before = [records(c) for c in (later, same_year)]
    estimator.add_decisions(newer, np.full(len(newer), "violation"))
    after = [records(c) for c in (later, same_year)]
    assert after[0][0] > before[0][0] and after[0][1] > before[0][1]  # a higher rate, more cases
    np.testing.assert_array_equal(after[1], before[1])
