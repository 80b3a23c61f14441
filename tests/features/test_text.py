"""The fast accent stripper is scikit-learn's, character for character."""

from sklearn.feature_extraction.text import strip_accents_unicode

from data.schema import Corpus
from features.text import legal_tfidf, strip_accents


def test_strip_accents_matches_scikit_learn_on_real_judgments(train_slice: Corpus) -> None:
    texts = [r.text for r in train_slice.records]
    texts.append("Суд приговорил её к штрафу; ст. 12.8 КоАП РФ, «ё» и «й» — Beyazıt, Košice, Ærø")
    accented = [t for t in texts if strip_accents_unicode(t) != t]
    assert len(accented) >= 3  # the check below compares real accented text, not ASCII
    assert [strip_accents(t) for t in texts] == [strip_accents_unicode(t) for t in texts]


def test_legal_tfidf_folds_accents() -> None:
    vectorizer = legal_tfidf(min_df=1).fit(["Košice court", "Kosice judge", "Prague tribunal"])
    assert "kosice" in vectorizer.vocabulary_ and "košice" not in vectorizer.vocabulary_
