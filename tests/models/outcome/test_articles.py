"""Article heads: thresholds of best F1 and articles in reading order."""

import numpy as np
from scipy import sparse

from casecast.models.outcome.articles import (
    ArticleEstimate,
    ArticleHeads,
    agree_with_verdict,
    article_order,
    best_f1_threshold,
)
from casecast.models.outcome.stack import StackedCaseClassifier


def test_the_threshold_is_the_cut_off_of_best_f1():
    truth = np.array([0, 0, 0, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.6, 0.4, 0.7, 0.9])
    assert best_f1_threshold(truth, scores) == 0.4  # 3 of 3 positives, one false alarm
    assert best_f1_threshold(np.zeros(6, int), scores) == 0.5


def test_articles_sort_by_their_number():
    articles = ["P4-2", "13", "6", "3", "P1-1", "5"]
    assert sorted(articles, key=article_order) == ["P1-1", "P4-2", "3", "5", "6", "13"]


def test_heads_are_fitted_only_for_articles_with_enough_cases():
    rng = np.random.default_rng(0)
    X = sparse.csr_matrix((rng.random((120, 30)) < 0.3).astype(float))
    word = X[:, 0].toarray().ravel() > 0
    articles = [["6"] if w else [] for w in word]
    articles[:5] = [["3", *a] for a in articles[:5]]  # too rare for a head
    heads = ArticleHeads(C=4.0).fit(X, articles, StackedCaseClassifier().folds)
    assert heads.labels_ == ["6"]
    answers = heads.predict(X)
    assert len(answers) == 120 and all(len(a) == 1 for a in answers)
    called = np.array([a[0].predicted for a in answers])
    assert (called == word).mean() > 0.9


def test_articles_agree_with_the_verdict():
    estimates = [ArticleEstimate("3", 0.2, False), ArticleEstimate("6", 0.4, False)]
    named = agree_with_verdict(estimates, violation=True)
    assert [e.article for e in named if e.predicted] == ["6"]  # the likeliest, though below
    assert [e.probability for e in named] == [0.2, 0.4]  # how sure each is, unchanged
    called = [ArticleEstimate("3", 0.9, True), ArticleEstimate("6", 0.4, False)]
    assert agree_with_verdict(called, violation=True) == called
    assert not any(e.predicted for e in agree_with_verdict(called, violation=False))
    assert agree_with_verdict([], violation=True) == []
