"""Building an index version: embed (through the cache), index words and vectors, write a
new folder atomically, point ``CURRENT`` at it."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from casecast.data.schema import PARAGRAPH_SEPARATOR, CaseOutcome, CaseRecord, Corpus
from casecast.features.chunking import ParagraphChunker, spread_positions
from casecast.features.embedding import SentenceEmbedder
from casecast.models.precedents.files import (
    is_complete,
    point_current,
    read_manifest,
    write_ann_index,
    write_keyword_index,
    write_lines,
)
from casecast.models.precedents.fusion_training import FusionTraining, fit_fusion
from casecast.models.precedents.index import PrecedentIndex
from casecast.models.precedents.languages import centred
from casecast.models.precedents.progress import BuildReporter
from casecast.models.precedents.types import (
    ANN_MIN_PASSAGES,
    FORMAT,
    HNSW_M,
    LANGUAGE_MEANS,
    CaseSummary,
    IndexManifest,
)


def index_version(
    fingerprint: str,
    embedder: SentenceEmbedder,
    chunker: ParagraphChunker,
    max_chunks_per_case: int,
    stemmer: str | None = None,
) -> str:
    model = embedder.model_id_.rstrip("/").split("/")[-1]
    stemmed = f"-s{stemmer}" if stemmer else ""
    return (
        f"{fingerprint}-{model}-{embedder.max_seq_length_}-c{chunker.max_tokens}"
        f"o{chunker.overlap_tokens}k{max_chunks_per_case}{stemmed}-f{FORMAT}"
    )


def build_index(
    corpus: Corpus,
    embedder: SentenceEmbedder,
    chunker: ParagraphChunker,
    max_chunks_per_case: int,
    root: Path,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    language: str = "en",
    ann_min_passages: int = ANN_MIN_PASSAGES,
    stemmer: str | None = None,
    fusion: FusionTraining | None = None,
    on_fusion_total: Callable[[int], None] | None = None,
) -> IndexManifest:
    """Embed (through the cache), index words and vectors, write a new version, make it
    CURRENT, and return its manifest (the folder is ``root / dataset / version``).
    ``language`` picks the keyword index's stop words, ``stemmer`` its Snowball stemmer;
    with ``fusion``, hybrid search's ranker is fitted on the new version before it is
    served (``progress`` then counts its queries, after ``on_fusion_total``)."""
    started = time.perf_counter()
    dataset_dir = root / corpus.dataset
    dataset_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = corpus.fingerprint()
    version = index_version(fingerprint, embedder, chunker, max_chunks_per_case, stemmer)
    target = dataset_dir / version
    if is_complete(target):
        point_current(dataset_dir, version)
        return read_manifest(target)

    # The build's state on disk as it goes, for a server or another shell to report.
    with BuildReporter(dataset_dir, corpus.dataset, version, max_chunks_per_case) as reporter:
        kept = [
            (r, o) for r, o in zip(corpus.records, corpus.outcomes, strict=True) if r.paragraphs
        ]
        chunk_lists = [chunker.chunk(r.paragraphs) for r, _ in kept]
        picks = [spread_positions(len(c), max_chunks_per_case) for c in chunk_lists]
        chunks = [chunk_lists[i][j] for i, p in enumerate(picks) for j in p]
        reporter.start(len(chunks))
        if on_total is not None:
            on_total(len(chunks))
        vectors = embedder.transform([c.text for c in chunks], progress=reporter.relay(progress))
        reporter.indexing()
        centering = LANGUAGE_MEANS if embedder.multilingual_ and len(vectors) else None
        document_mean = vectors.mean(axis=0) if centering else None
        if document_mean is not None:
            vectors = centred(vectors, document_mean)

        scratch = dataset_dir / f".build-{uuid.uuid4().hex[:8]}"
        scratch.mkdir()
        try:
            np.save(scratch / "vectors.npy", vectors)
            if document_mean is not None:
                np.save(scratch / "document_mean.npy", document_mean)
            np.save(
                scratch / "chunk_case.npy",
                np.repeat(np.arange(len(kept), dtype=np.int32), [len(p) for p in picks]),
            )
            np.save(
                scratch / "chunk_span.npy",
                np.asarray(
                    [(c.first_paragraph, c.last_paragraph) for c in chunks], dtype=np.int32
                ).reshape(-1, 2),
            )
            write_lines(scratch / "passages", (c.text for c in chunks))
            write_lines(scratch / "documents", (list(r.paragraphs) for r, _ in kept))
            write_keyword_index(scratch / "keyword", [c.text for c in chunks], language, stemmer)
            # Whole cases too: a case's keyword score reads all of it, whatever was embedded.
            whole_texts = [PARAGRAPH_SEPARATOR.join(r.paragraphs) for r, _ in kept]
            write_keyword_index(scratch / "case_keyword", whole_texts, language, stemmer)
            ann = "none"
            if len(chunks) >= ann_min_passages:
                write_ann_index(scratch / "ann.faiss", vectors)
                ann = f"hnsw-m{HNSW_M}"
            summaries = [asdict(_summary(r, o)) for r, o in kept]
            (scratch / "cases.json").write_text(json.dumps(summaries, ensure_ascii=False))
            manifest = IndexManifest(
                dataset=corpus.dataset,
                version=version,
                embedding_model=embedder.model,
                embedding_model_id=embedder.model_id_,
                embedding_max_seq_length=embedder.max_seq_length_,
                embedding_backend=embedder.backend_,
                keyword_stemmer=stemmer,
                centering=centering,
                data_fingerprint=fingerprint,
                chunk_tokens=chunker.max_tokens,
                chunk_overlap=chunker.overlap_tokens,
                max_chunks_per_case=max_chunks_per_case,
                n_cases=len(kept),
                n_chunks=len(chunks),
                dimension=int(vectors.shape[1]),
                built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                build_seconds=round(time.perf_counter() - started, 1),
                language=language,
                ann=ann,
                sources=list(corpus.sources),
            )
            # The manifest goes last: a folder without one is an unfinished build.
            (scratch / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2))
            if fusion is not None:
                fitted = fit_fusion(
                    PrecedentIndex(
                        scratch, Path(embedder.cache_dir) if embedder.cache_dir else None
                    ),
                    corpus,
                    fusion,
                    progress=progress,
                    on_total=on_fusion_total,
                )
                if fitted is not None:
                    manifest = dataclasses.replace(manifest, fusion=fitted["kind"])
                    (scratch / "manifest.json").write_text(json.dumps(asdict(manifest), indent=2))
            if target.exists():
                shutil.rmtree(target)
            os.replace(scratch, target)
        finally:
            if scratch.exists():
                shutil.rmtree(scratch, ignore_errors=True)
        point_current(dataset_dir, version)
    return manifest


def _summary(record: CaseRecord, outcome: CaseOutcome) -> CaseSummary:
    return CaseSummary(
        case_id=record.case_id,
        dataset=record.dataset,
        title=record.title,
        year=record.decision_year,
        court=record.court,
        parties=list(record.parties),
        outcome=outcome.label,
        violated=list(outcome.violated),
        examined=sorted(set(outcome.violated) | set(outcome.non_violated)),
        n_paragraphs=len(record.paragraphs),
    )
