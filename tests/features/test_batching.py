"""Concurrent encoder calls grouped into shared batches, with the real MiniLM encoder."""

import threading

import numpy as np
import pytest

from casecast.features import batching
from casecast.features.embedding import DEFAULT_MODEL, load_encoder


@pytest.fixture
def grouping():
    sizes: list[int] = []
    batching.configure(0.05, max_texts=64, observe=sizes.append)
    yield sizes
    batching.configure(0.0)


def test_concurrent_calls_share_batches_and_each_gets_its_own_vectors(grouping, train_slice):
    encoder = load_encoder(DEFAULT_MODEL)
    texts = [p for record in train_slice.records[:12] for p in record.paragraphs[:2]]
    calls = [texts[i : i + 2] for i in range(0, len(texts), 2)]  # 12 callers, 2 texts each
    alone = [encoder.encode(call, "passage", 32) for call in calls]
    wrapped = batching.grouped(encoder)
    assert wrapped is not encoder and wrapped.model_id == encoder.model_id
    results: list[np.ndarray | None] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def ask(i: int) -> None:
        start.wait()
        results[i] = wrapped.encode(calls[i], "passage", 32)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, expected in zip(results, alone, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert sum(grouping) == len(texts)
    assert max(grouping) > 2 and len(grouping) < len(calls)  # calls were grouped


def test_a_failing_batch_reaches_each_caller_and_the_worker_goes_on(grouping):
    wrapped = batching.grouped(load_encoder(DEFAULT_MODEL))
    with pytest.raises(ValueError, match="Unsupported input type"):
        wrapped.encode([None], "passage", 32)  # not a text: the encoder refuses it
    vectors = wrapped.encode(["The applicant was detained."], "query", 32)
    assert vectors.shape == (1, 384)


def test_grouping_is_off_unless_configured():
    encoder = load_encoder(DEFAULT_MODEL)
    assert batching.grouped(encoder) is encoder
