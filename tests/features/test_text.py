"""The fast text features are scikit-learn's, character for character and value for value."""

from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer, strip_accents_unicode

from casecast.data.schema import Corpus
from casecast.features.text import CharNgramTfidf, legal_tfidf, strip_accents


def test_strip_accents_matches_scikit_learn_on_real_judgments(train_slice: Corpus) -> None:
    texts = [r.text for r in train_slice.records]
    texts.append("Суд приговорил её к штрафу; ст. 12.8 КоАП РФ, «ё» и «й» — Beyazıt, Košice, Ærø")
    accented = [t for t in texts if strip_accents_unicode(t) != t]
    assert len(accented) >= 3  # the check below compares real accented text, not ASCII
    assert [strip_accents(t) for t in texts] == [strip_accents_unicode(t) for t in texts]


def test_legal_tfidf_folds_accents() -> None:
    vectorizer = legal_tfidf(min_df=1).fit(["Košice court", "Kosice judge", "Prague tribunal"])
    assert "kosice" in vectorizer.vocabulary_ and "košice" not in vectorizer.vocabulary_


def _char_wb_reference(**params: Any) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32, **params
    )


@pytest.mark.parametrize(
    "params",
    [
        {"min_df": 1, "max_df": 1.0, "max_features": None},
        {"min_df": 2, "max_df": 0.5, "max_features": 5_000},  # every pruning step at work
    ],
)
def test_char_ngram_tfidf_is_scikit_learns_char_wb(
    train_slice: Corpus, params: dict[str, Any]
) -> None:
    texts = [r.text for r in train_slice.records]
    fitting, unseen = texts[:30], texts[30:]
    unseen.append("Суд приговорил её к штрафу; Beyazıt v. Turkey, a   b\tc")
    reference = _char_wb_reference(**params)
    expected = reference.fit_transform(fitting)
    ours = CharNgramTfidf(**params)
    got = ours.fit_transform(fitting)
    assert ours.vocabulary_ == reference.vocabulary_
    assert got.shape == expected.shape and abs(got - expected).max() == 0
    assert abs(ours.transform(unseen) - reference.transform(unseen)).max() == 0
    assert list(ours.get_feature_names_out()) == list(reference.get_feature_names_out())


def test_char_ngram_tfidf_refuses_a_corpus_pruned_empty() -> None:
    with pytest.raises(ValueError, match="no character n-gram"):
        CharNgramTfidf(min_df=3).fit(["one text", "another"])


def test_russian_stems_join_the_forms_of_a_word() -> None:
    import pickle

    from casecast.features.text import StemmingTokenizer

    tokenize = StemmingTokenizer("russian")
    assert tokenize("наркотического средства") == tokenize("наркотическое средство")
    assert tokenize("Суд приговорил") != tokenize("суд постановил")
    restored = pickle.loads(pickle.dumps(tokenize))
    assert restored("наркотическими средствами") == tokenize("наркотическое средство")
    vectorizer = legal_tfidf(min_df=1, max_df=1.0, stemmer="russian").fit(
        ["Хранил наркотическое средство.", "Изготовил наркотического средства."]
    )
    assert "наркотическ средств" in vectorizer.vocabulary_
    kept_letters = legal_tfidf(min_df=1, max_df=1.0, stemmer="russian").fit(["районный суд"])
    assert "й" in "".join(kept_letters.vocabulary_)  # accents are not stripped before stemming


def test_script_language_tells_kazakh_russian_and_english_apart() -> None:
    from casecast.features.text import script_language

    assert script_language("Сот бас бостандығынан айыру түрінде жаза тағайындады.") == "kk"
    assert script_language("Суд назначил наказание в виде лишения свободы.") == "ru"
    assert script_language("The court imposed a sentence of imprisonment.") == "en"
    assert script_language("Суд применил ст. 228 УК РФ (Criminal Code).") == "ru"
    assert script_language("2014 — 15:30") is None
