import json
from pathlib import Path

import numpy as np
import pytest

from casecast.features.chunking import ParagraphChunker, spread_positions
from casecast.features.embedding import SentenceEmbedder
from casecast.models.precedents import (
    MAX_QUERY_PASSAGES,
    CaseNotIndexedError,
    IndexUnavailableError,
    PrecedentIndex,
    SearchFilters,
    build,
    build_index,
    progress,
    read_statuses,
)
from tests.cases import read_cases

N_CASES = 80


@pytest.fixture(scope="module")
def corpus(echr_train_path):
    """Every 25th of the first 2,000 cases: several years, states and outcomes."""
    return read_cases("echr", echr_train_path, limit=25 * N_CASES).subset(
        range(0, 25 * N_CASES, 25)
    )


@pytest.fixture(scope="module")
def parts(embedding_cache):
    return SentenceEmbedder(cache_dir=embedding_cache).fit(), ParagraphChunker(128, 16).fit()


@pytest.fixture(scope="module")
def index_root(tmp_path_factory, corpus, parts) -> Path:
    root = tmp_path_factory.mktemp("indexes")
    embedder, chunker = parts
    build_index(corpus, embedder, chunker, max_chunks_per_case=2, root=root)
    return root


@pytest.fixture(scope="module")
def index(index_root) -> PrecedentIndex:
    return PrecedentIndex.load(index_root, "echr")


def test_manifest_versions_the_index(index, corpus):
    manifest = index.manifest
    assert manifest.n_cases == len(index) == N_CASES
    assert manifest.data_fingerprint == corpus.fingerprint()
    assert manifest.embedding_model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest.version.startswith(corpus.fingerprint())
    assert 0 < manifest.n_chunks <= 2 * N_CASES


def test_a_cases_own_facts_retrieve_it_first(index, corpus, parts):
    """A long query is matched case to case (mean passage vectors). The quick index keeps 2
    passages of a case, which for a judgment of 100+ passages say little about the whole:
    such a case may miss the top from its own full facts (the full profile indexes all)."""
    first = 0
    for record in corpus.records[:25]:
        hits = index.search(index.embed_query(record.paragraphs), k=3, mode="semantic")
        if hits[0].case.case_id == record.case_id:
            first += 1
            # Its own facts match it well: 8 of them spread over a long case meet its 2
            # indexed passages at cosine 0.68 or more, above any other case.
            assert hits[0].score > 0.65
    assert first >= 23
    # The passages the index holds for a case ("more like this") are that case exactly.
    for record in corpus.records[:25]:
        stored = index.case_vectors(index.position(record.case_id))
        hits = index.search(stored, k=1, mode="semantic")
        assert hits[0].case.case_id == record.case_id
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_a_single_passage_finds_its_case_unless_another_holds_a_verbatim_copy(index, corpus):
    """ECHR repeats paragraphs across related cases (e.g. the same decree in Yerevan
    expropriation cases): only such a copy may rank above the passage's own case."""
    first = 0
    for record in corpus.records[:40]:
        stored = index.case_vectors(index.position(record.case_id))
        hits = index.search(stored[:1], k=5, mode="semantic")
        ids = [h.case.case_id for h in hits]
        assert record.case_id in ids
        own = ids.index(record.case_id)
        first += own == 0
        assert hits[own].passages[0].score == pytest.approx(1.0, abs=1e-4)
        for ahead in hits[:own]:
            assert ahead.passages[0].score > 0.999
    assert first >= 36


def test_best_passage_is_shown_with_its_paragraph_numbers(index, corpus):
    record = corpus.records[7]
    stored = index.case_vectors(index.position(record.case_id))
    hits = index.search(stored[:1], k=5, mode="semantic")
    own = next(h for h in hits if h.case.case_id == record.case_id)
    best = own.passages[0]
    first, last = best.paragraphs
    assert best.text.split("\n")[0] in record.paragraphs[first - 1 : last]
    summary, paragraphs = index.case(record.case_id)
    assert summary.title == record.title and paragraphs == list(record.paragraphs)


def test_results_carry_outcome_and_at_most_three_passages(index, corpus, parts):
    hits = index.search(index.embed_query(corpus.records[3].paragraphs), k=5, mode="semantic")
    outcomes = {o.case_id: o for o in corpus.outcomes}
    for hit in hits:
        assert hit.case.outcome == outcomes[hit.case.case_id].label
        assert 1 <= len(hit.passages) <= 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_filters_exclude_what_they_should(index, corpus, parts):
    query = index.embed_query(corpus.records[0].paragraphs)
    respondent = corpus.records[0].parties[0]
    only_state = index.search(query, k=50, filters=SearchFilters(respondent=respondent))
    assert only_state and all(respondent in h.case.parties for h in only_state)
    year = sorted(r.decision_year for r in corpus.records)[N_CASES // 2]
    in_year = index.search(query, k=N_CASES, filters=SearchFilters(year_min=year, year_max=year))
    assert len(in_year) == sum(r.decision_year == year for r in corpus.records) < N_CASES
    assert all(h.case.year == year for h in in_year)
    later = index.search(query, k=N_CASES, filters=SearchFilters(year_min=year + 1))
    assert all(h.case.year > year for h in later)
    wins = index.search(query, k=50, filters=SearchFilters(outcome="violation"))
    assert wins and all(h.case.outcome == "violation" for h in wins)
    without = index.search(
        query, k=5, filters=SearchFilters(exclude_case_ids=(corpus.records[0].case_id,))
    )
    assert corpus.records[0].case_id not in {h.case.case_id for h in without}
    assert index.search(query, k=5, filters=SearchFilters(respondent="XXX")) == []


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexUnavailableError, match="casecast index --dataset echr"):
        PrecedentIndex.load(tmp_path, "echr")


def test_corrupt_index_is_refused_clearly(index_root, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(index_root, copy)
    version = (copy / "echr" / "CURRENT").read_text()
    (copy / "echr" / version / "vectors.npy").write_bytes(b"not a numpy file")
    with pytest.raises(IndexUnavailableError, match="unreadable"):
        PrecedentIndex.load(copy, "echr")


def test_crashed_build_leaves_the_previous_index_serving(index_root, corpus, parts, monkeypatch):
    embedder, chunker = parts
    before = (index_root / "echr" / "CURRENT").read_text()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(build, "write_lines", crash)
    with pytest.raises(OSError, match="disk full"):
        build_index(corpus.subset(range(20)), embedder, chunker, 2, index_root)
    assert (index_root / "echr" / "CURRENT").read_text() == before
    assert not list((index_root / "echr").glob(".build-*"))
    assert len(PrecedentIndex.load(index_root, "echr")) == N_CASES


def test_rebuilding_the_same_data_reuses_the_version(index_root, corpus, parts):
    embedder, chunker = parts
    manifest = json.loads(
        (
            index_root / "echr" / (index_root / "echr" / "CURRENT").read_text() / "manifest.json"
        ).read_text()
    )
    again = build_index(corpus, embedder, chunker, 2, index_root)
    assert again.built_at == manifest["built_at"] and again.version == manifest["version"]


def test_empty_query_returns_nothing(index):
    assert index.search(np.zeros((0, 384), dtype=np.float32), k=5) == []
    assert index.search(np.zeros((0, 384), dtype=np.float32), "  ", k=5, mode="keyword") == []


def test_keyword_mode_finds_a_rare_term(index, corpus):
    """A name that occurs in one case finds that case by words alone, with the passage the
    name is in shown first when that passage is indexed."""
    import re
    from collections import Counter

    def names(text: str) -> set[str]:
        return {w.lower() for w in re.findall(r"[A-Z][a-z]{6,}", text)}

    passages: dict[str, list[str]] = {}
    for row in range(index.manifest.n_chunks):
        case = index.cases[int(index.stored.chunk_case[row])].case_id
        passages.setdefault(case, []).append(index.stored.passage_text(row))
    # Counted however it is written: BM25 reads lower-cased words.
    whole = {r.case_id: set(re.findall(r"\w+", r.text.lower())) for r in corpus.records}
    counts = Counter(word for words in whole.values() for word in words)
    case_id, rare = next(
        (case, word)
        for case, texts in passages.items()
        for word in sorted(names(" ".join(texts)))
        if counts[word] == 1
    )
    hits = index.search(np.zeros((0, 384), dtype=np.float32), rare, k=3, mode="keyword")
    assert hits[0].case.case_id == case_id
    assert rare in hits[0].passages[0].text.lower()


def test_keyword_mode_reads_the_whole_case_not_only_its_indexed_passages(index, corpus):
    """A word found only outside a case's indexed passages still finds the case."""
    import re
    from collections import Counter

    indexed = {}
    for row in range(index.manifest.n_chunks):
        case = index.cases[int(index.stored.chunk_case[row])].case_id
        text = index.stored.passage_text(row)
        indexed[case] = indexed.get(case, "") + " " + text.lower()
    words = {r.case_id: set(re.findall(r"\w+", r.text.lower())) for r in corpus.records}
    counts = Counter(word for found in words.values() for word in found)
    case_id, word = next(
        (case, word)
        for case, found in words.items()
        for word in sorted(found)
        if counts[word] == 1
        and word.isalpha()
        and len(word) >= 8
        and word not in indexed.get(case, "")
    )
    hits = index.search(np.zeros((0, 384), dtype=np.float32), word, k=3, mode="keyword")
    assert hits and hits[0].case.case_id == case_id
    assert hits[0].passages  # its indexed passages are shown, in text order


def test_hybrid_differs_from_both_parts_when_they_disagree(index, corpus, parts):
    for record in corpus.records[:40]:
        text = record.paragraphs[-1]
        vectors = index.embed_query([text])
        semantic = [h.case.case_id for h in index.search(vectors, text, 10, mode="semantic")]
        keyword = [h.case.case_id for h in index.search(vectors, text, 10, mode="keyword")]
        if semantic[:3] != keyword[:3]:
            break
    else:
        pytest.fail("no query on which the two parts disagree")
    hybrid = [h.case.case_id for h in index.search(vectors, text, 10, mode="hybrid")]
    assert hybrid != semantic and hybrid != keyword
    assert set(hybrid[:3]) <= set(semantic[:10]) | set(keyword[:10])


def test_articles_filter_keeps_cases_that_ruled_on_them(index, corpus, parts):
    hits = index.search(
        index.embed_query(corpus.records[0].paragraphs),
        "",
        k=N_CASES,
        filters=SearchFilters(articles=("6",)),
        mode="semantic",
    )
    expected = {o.case_id for o in corpus.outcomes if "6" in (*o.violated, *o.non_violated)}
    assert {h.case.case_id for h in hits} == expected and expected


def test_ann_path_agrees_with_exact_search(tmp_path, corpus, parts):
    embedder, chunker = parts
    build_index(corpus, embedder, chunker, 2, tmp_path, ann_min_passages=1)
    graph = PrecedentIndex.load(tmp_path, "echr")
    assert graph.stored.ann is not None and graph.manifest.ann.startswith("hnsw")
    for record in corpus.records[:15]:
        query = graph.embed_query(record.paragraphs)
        approximate = graph.search(query, k=5, mode="semantic")
        exact = graph.search(query, k=5, mode="semantic", exact=True)
        assert approximate[0].case.case_id == exact[0].case.case_id == record.case_id
        assert [h.case.case_id for h in approximate] == [h.case.case_id for h in exact]
    version = (tmp_path / "echr" / "CURRENT").read_text()
    (tmp_path / "echr" / version / "ann.faiss").write_bytes(b"broken")
    with pytest.raises(IndexUnavailableError, match="unreadable"):
        PrecedentIndex.load(tmp_path, "echr")


def _copy_of(index_root: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(index_root, copy)
    return copy / "echr" / (copy / "echr" / "CURRENT").read_text()


def test_an_index_with_files_of_different_lengths_is_refused(index_root, tmp_path):
    version = _copy_of(index_root, tmp_path)
    chunk_case = np.load(version / "chunk_case.npy")
    np.save(version / "chunk_case.npy", chunk_case[:-1])
    with pytest.raises(IndexUnavailableError, match="inconsistent"):
        PrecedentIndex.load(tmp_path / "copy", "echr")


def test_an_index_built_with_another_encoder_is_refused(index_root, tmp_path):
    version = _copy_of(index_root, tmp_path)
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["embedding_model_id"] = "sentence-transformers/some-other-model"
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexUnavailableError, match=r"was built with .*some-other-model"):
        PrecedentIndex.load(tmp_path / "copy", "echr")


def test_the_index_embeds_a_text_query_as_it_embedded_its_own_passages(index, corpus, parts):
    embedder, chunker = parts
    record = corpus.records[3]
    vectors = index.embed_query(record.paragraphs)
    chunks = chunker.chunk(record.paragraphs)
    picks = spread_positions(len(chunks), MAX_QUERY_PASSAGES)
    expected = embedder.transform([chunks[i].text for i in picks])
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    assert len(index.embed_query(record.paragraphs, max_passages=2)) == min(2, len(chunks))
    by_text = index.search_text(record.text, k=5)
    by_parts = index.search(vectors, record.text, k=5)
    assert [h.case.case_id for h in by_text] == [h.case.case_id for h in by_parts]
    assert by_text[0].case.case_id == record.case_id


def test_more_like_a_case_excludes_it_and_refuses_an_unknown_one(index, corpus):
    case_id = corpus.records[0].case_id
    hits = index.search_case(case_id, k=5)
    assert hits and case_id not in {h.case.case_id for h in hits}
    with pytest.raises(CaseNotIndexedError, match="not in the echr index"):
        index.search_case("001-none")


def test_matching_words_mark_the_rare_words_a_query_shares_with_a_passage(index, corpus):
    record = corpus.records[3]
    passage = max(record.paragraphs, key=len)
    words = index.matching_words(record.text, [passage, "The applicant and the Government."])
    assert 1 <= len(words[0]) <= 12  # a case's own facts share distinctive words with it
    vocabulary, frequency = index.stored.case_keyword.vocab_dict, index.stored.case_frequency
    for word in words[0]:
        assert word in passage and word.lower() in record.text.lower()
        assert frequency[vocabulary[word.lower()]] <= 0.1 * index.manifest.n_cases
    assert words[1] == []  # words most cases hold carry nothing
    assert index.matching_words("the of and", [passage]) == [[]]


def test_each_passage_found_by_meaning_names_the_query_passage_it_is_closest_to(index, corpus):
    record = corpus.records[11]
    hits = index.search_text(record.text, k=3, mode="semantic")
    paragraphs = [p.strip() for p in record.paragraphs]
    for hit in hits:
        for passage in hit.passages:
            first, last = passage.query_paragraphs
            assert 1 <= first <= last <= len(paragraphs)
            assert passage.query_text and passage.query_text.split()[0] in paragraphs[first - 1]
    # Words alone have no query passage to point at.
    keyword = index.search_text(record.text, k=3, mode="keyword")
    assert all(p.query_paragraphs is None for hit in keyword for p in hit.passages)


def test_a_build_records_how_far_it_came_and_that_it_finished(tmp_path, corpus, parts):
    embedder, chunker = parts
    manifest = build_index(corpus.subset(range(10)), embedder, chunker, 2, tmp_path)
    [status] = read_statuses(tmp_path / "echr")
    assert (status.version, status.state, status.max_chunks_per_case) == (
        manifest.version,
        "done",
        2,
    )
    assert status.total == status.done == manifest.n_chunks and status.error is None
    assert status.cached == status.total  # the module's index embedded these passages already


@pytest.mark.e2e
def test_an_interrupted_build_says_so_and_resumes_from_the_cache(tmp_path, corpus, monkeypatch):
    """The embedding cache commits block by block: a build stopped after its first block
    embeds only the rest when started again."""
    embedder = SentenceEmbedder(cache_dir=tmp_path / "cache", cache_block=8).fit()
    chunker = ParagraphChunker(128, 16).fit()
    reported: list[int] = []

    def stop_after_one_block(done: int) -> None:
        reported.append(done)
        if len(reported) == 2:  # the cache's count, then the first block: as a user's Ctrl-C
            raise KeyboardInterrupt

    few = corpus.subset(range(6))
    with pytest.raises(KeyboardInterrupt):
        build_index(few, embedder, chunker, 4, tmp_path / "indexes", stop_after_one_block)
    assert reported == [0, 8]
    [stopped] = read_statuses(tmp_path / "indexes" / "echr")
    assert stopped.state == "stopped" and stopped.done == 8 < stopped.total
    assert not (tmp_path / "indexes" / "echr" / "CURRENT").exists()

    reported.clear()
    manifest = build_index(few, embedder, chunker, 4, tmp_path / "indexes", reported.append)
    [done] = read_statuses(tmp_path / "indexes" / "echr")
    assert done.state == "done" and done.cached == 8
    # The first block came from the cache; only the rest was embedded, block by block.
    assert reported[0] == 8 and sum(reported[1:]) == manifest.n_chunks - 8
    assert all(0 < n <= 8 for n in reported[1:])


def test_a_build_whose_process_is_gone_reads_as_stopped(tmp_path, monkeypatch):
    import subprocess
    import sys

    monkeypatch.setattr(progress, "WRITE_EVERY_S", 0.0)

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    reporter = progress.BuildReporter(tmp_path, "echr", "v-test", 0)
    reporter.__enter__()
    reporter.start(100)
    reporter.advance(0)
    reporter.advance(40)
    [running] = read_statuses(tmp_path)
    assert running.state == "embedding" and running.share == 0.4
    path = progress.status_path(tmp_path, "v-test")
    path.write_text(json.dumps({**json.loads(path.read_text()), "pid": int(ended.stdout)}))
    [gone] = read_statuses(tmp_path)
    assert gone.state == "stopped" and gone.done == 40
