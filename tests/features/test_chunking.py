import pytest

from casecast.features.chunking import ParagraphChunker, spread_positions, token_spans


def test_short_paragraphs_merge_up_to_the_budget():
    chunker = ParagraphChunker(max_tokens=10, overlap_tokens=2)
    chunks = chunker.chunk(["one two three", "four five six", "seven eight nine ten eleven"])
    assert [(c.first_paragraph, c.last_paragraph) for c in chunks] == [(0, 1), (2, 2)]
    assert chunks[0].text == "one two three\nfour five six"
    assert all(c.n_tokens <= 10 for c in chunks)


def test_long_paragraph_is_cut_into_overlapping_windows():
    words = [f"w{i}" for i in range(25)]
    chunks = ParagraphChunker(max_tokens=10, overlap_tokens=3).chunk([" ".join(words)])
    assert [c.text.split()[0] for c in chunks] == ["w0", "w7", "w14", "w21"]
    assert chunks[-1].text.split()[-1] == "w24"
    assert all(c.first_paragraph == c.last_paragraph == 0 for c in chunks)
    assert all(len(token_spans(c.text)) <= 10 for c in chunks)


def test_real_cases_are_covered_without_exceeding_the_budget(train_slice):
    chunker = ParagraphChunker(max_tokens=128, overlap_tokens=16)
    for record in train_slice.records[:40]:
        chunks = chunker.chunk(record.paragraphs)
        assert all(1 <= c.n_tokens <= 128 for c in chunks)
        covered = {p for c in chunks for p in range(c.first_paragraph, c.last_paragraph + 1)}
        assert covered == set(range(len(record.paragraphs)))
        for chunk in chunks:  # a passage is text of its own paragraphs, unchanged
            source = "\n".join(record.paragraphs[chunk.first_paragraph : chunk.last_paragraph + 1])
            assert chunk.text in source


def test_blank_paragraphs_are_skipped():
    chunks = ParagraphChunker(max_tokens=50).chunk(["", "  ", "facts"])
    assert [(c.text, c.first_paragraph) for c in chunks] == [("facts", 2)]


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        ParagraphChunker(max_tokens=10, overlap_tokens=10).fit()


def test_spread_positions_bound_and_nest():
    assert spread_positions(5, 0) == [0, 1, 2, 3, 4]
    assert spread_positions(3, 8) == [0, 1, 2]
    picked = spread_positions(40, 4)
    assert len(picked) == 4 and picked == sorted(picked)
    assert picked[-1] - picked[0] >= 20  # spread over the text, not bunched at the start
    for n in range(1, 120):
        for small in range(1, 6):
            assert set(spread_positions(n, small)) <= set(spread_positions(n, 64))
