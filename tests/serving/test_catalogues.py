"""The page's words: three complete catalogues, every key the page uses present in each,
the same placeholders in every language, and the language chosen as a reader expects."""

import re
from pathlib import Path

import pytest

from casecast.serving.page import LANGUAGES, catalogue, negotiate

SERVING = Path(__file__).resolve().parents[2] / "serving"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _used_keys() -> set[str]:
    script = (SERVING / "static" / "app.js").read_text()
    template = (SERVING / "templates" / "page.html").read_text()
    keys = set(re.findall(r"\bt\('([a-z_.0-9]+)'", script))
    keys |= set(re.findall(r"""t\[["']([a-z_.0-9]+)["']\]""", template))
    return keys


def test_every_language_has_every_key_with_the_same_placeholders():
    english = catalogue("en")
    for language in LANGUAGES:
        strings = catalogue(language)
        assert set(strings) == set(english), language
        for key, text in strings.items():
            assert text.strip(), (language, key)
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), (
                language,
                key,
            )


def test_every_key_the_page_uses_is_in_the_catalogues():
    used = _used_keys()
    assert len(used) > 60  # the page's words come from the catalogue, not from code
    assert used <= set(catalogue("en")), sorted(used - set(catalogue("en")))


def test_the_kazakh_and_russian_catalogues_are_not_english():
    english, russian, kazakh = catalogue("en"), catalogue("ru"), catalogue("kk")
    cyrillic = re.compile(r"[\u0400-\u04ff]")
    for key in english:
        words = PLACEHOLDER.sub("", english[key])
        if not re.search(r"[A-Za-z]{3,}", words) or "F1" in words or key == "lang.name":
            continue  # placeholders, symbols and numbers read the same
        assert cyrillic.search(russian[key]), key
        assert cyrillic.search(kazakh[key]), key
    assert any(ch in "әғқңөұүһі" for ch in "".join(kazakh.values()))  # Kazakh letters


@pytest.mark.parametrize(
    ("requested", "header", "expected"),
    [
        ("kk", "en-GB,en;q=0.9", "kk"),
        (None, "ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        (None, "en;q=0.5,kk;q=0.9", "kk"),
        (None, "de-DE,fr;q=0.9", "en"),
        ("xx", None, "en"),
        (None, "kk-KZ;q=notanumber,ru;q=0.2", "ru"),
    ],
)
def test_the_language_comes_from_the_switch_then_the_browser(requested, header, expected):
    assert negotiate(requested, header) == expected


def test_every_outcome_of_every_data_set_has_words_in_every_language():
    from casecast.data.datasets import DATASETS, get_dataset

    for language in LANGUAGES:
        strings = catalogue(language)
        for spec in map(get_dataset, DATASETS):
            for label in spec.classes:
                assert f"outcome.{label}" in strings, (language, spec.name, label)
            assert f"dataset.{spec.name}" in strings, (language, spec.name)


def test_every_named_value_of_every_data_set_has_its_name_in_every_language():
    """The form's lists, the factors and the group tables name coded values in the page's
    language; the English catalogue names them as the data set's spec does."""
    from casecast.data.datasets import DATASETS, get_dataset

    english = catalogue("en")
    named = [
        (f"value.{name}.{code}", label)
        for spec in map(get_dataset, DATASETS)
        for name, grouping in spec.group_fields.items()
        for code, label in grouping.values.items()
    ]
    assert len(named) > 14  # SCOTUS issue areas, Russian proceedings and records
    for key, label in named:
        assert english.get(key) == label, key
        for language in LANGUAGES:
            assert key in catalogue(language), (language, key)
