"""Case preparation, the feature matrices and occlusion units, each on its own."""

import numpy as np
import pandas as pd
import pytest

from casecast.data.schema import model_input
from casecast.features.embedding import SentenceEmbedder
from casecast.models.outcome.cases import CasePreparer, input_frame
from casecast.models.outcome.explain import occlusion_units
from casecast.models.outcome.features import CaseFeatures
from tests.cases import read_cases


@pytest.fixture(scope="module")
def prepared(echr_train_path, embedding_cache):
    corpus = read_cases("echr", echr_train_path, limit=40)
    frame = input_frame(pd.DataFrame(model_input(corpus.records)), ("respondent",), ("year",))
    preparer = CasePreparer(SentenceEmbedder(cache_dir=embedding_cache), max_chunks_per_case=2)
    return preparer.fit().transform(frame)


def test_each_case_embeds_at_most_its_budget_of_passages(prepared):
    assert len(prepared) == 40 and prepared.dimension == 384
    for chunks, picks, vectors in zip(prepared.chunks, prepared.embedded, prepared.vectors,
                                      strict=True):  # fmt: skip
        assert len(picks) == min(2, len(chunks)) and vectors.shape == (len(picks), 384)
    assert list(prepared.inputs.columns) == ["respondent", "year"]


def test_the_matrices_hold_one_row_per_case_and_per_paragraph(prepared):
    features = CaseFeatures(char_features=1000, text_max_features=5000, n_jobs=1)
    m = features.fit_transform(prepared)
    n_paragraphs = sum(len(p) for p in prepared.paragraphs)
    assert m.text.shape[0] == m.embeddings.shape[0] == len(m) == 40
    assert m.paragraphs.shape[0] == len(m.paragraph_owner) == n_paragraphs
    assert m.characters is not None and m.characters.shape == (40, 1000)
    assert m.embeddings.shape[1] == 2 * 384  # mean and max pooled
    names = features.structured_names()
    assert names[:3] == ["year", "log_paragraphs", "log_characters"]
    assert m.structured.shape[1] == len(names) == len(features.structured_mean_)
    year = features.field_columns("year")
    np.testing.assert_array_equal(year, [0])
    assert all(names[i].startswith("respondent=") for i in features.field_columns("respondent"))
    # transform gives what fit_transform gave; take() keeps paragraphs with their cases.
    again = features.transform(prepared)
    np.testing.assert_allclose(again.structured, m.structured)
    assert (again.text != m.text).nnz == 0
    part = m.take(np.array([3, 1]))
    assert len(part) == 2 and part.paragraphs.shape[0] == (
        len(prepared.paragraphs[3]) + len(prepared.paragraphs[1])
    )
    assert set(part.paragraph_owner) == {0, 1}


def test_occlusion_removes_each_passage_or_each_sentence_of_a_short_text(prepared):
    units = occlusion_units(prepared, 0)
    spans = {(c.first_paragraph, c.last_paragraph) for c in prepared.chunks[0]}
    assert {(u.first, u.last) for u in units} == spans and not any(u.sentence for u in units)
    for unit in units:
        kept = len(prepared.paragraphs[0]) - (unit.last - unit.first + 1)
        assert len(unit.occluded) == kept
