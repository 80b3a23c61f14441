from casecast.data.text import split_paragraphs, split_sentences, strip_html


def test_sentences_split_at_ends_not_at_abbreviations_or_initials():
    paragraph = (
        "6. The applicant, Mr. Ivanov, complained under Art. 6 of the Convention. In Smith "
        "v. Russia the Court found a violation! J. Smith was detained on 5 May 2004. Was it "
        "lawful? Заявитель обжаловал решение по ст. 12 КоАП. Суд отказал."
    )
    assert split_sentences(paragraph) == [
        "6. The applicant, Mr. Ivanov, complained under Art. 6 of the Convention.",
        "In Smith v. Russia the Court found a violation!",
        "J. Smith was detained on 5 May 2004.",
        "Was it lawful?",
        "Заявитель обжаловал решение по ст. 12 КоАП.",
        "Суд отказал.",
    ]
    assert split_sentences("no full stop at the end") == ["no full stop at the end"]
    assert split_sentences("  ") == []


def test_paragraphs_and_html():
    assert split_paragraphs("a  b\n\n\n c\r\n\r\nd") == ["a b", "c", "d"]
    assert strip_html("<p>One &amp; two</p><p>three</p>") == "One & two\n\nthree"
