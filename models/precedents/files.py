"""The on-disk format of an index version: JSON lines with byte offsets, the BM25 and HNSW
files, the manifest, and the ``CURRENT`` pointer swapped atomically."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from casecast.models.precedents.types import CURRENT, HNSW_EF_CONSTRUCTION, HNSW_M, IndexManifest


def write_lines(stem: Path, items: Iterable[Any]) -> None:
    """A JSON-lines file plus byte offsets, so one item is read without the rest."""
    offsets = [0]
    with stem.with_suffix(".jsonl").open("wb") as out:
        for item in items:
            data = json.dumps(item, ensure_ascii=False).encode("utf-8") + b"\n"
            out.write(data)
            offsets.append(offsets[-1] + len(data))
    np.save(stem.with_suffix(".offsets.npy"), np.asarray(offsets, dtype=np.int64))


def read_manifest(directory: Path) -> IndexManifest:
    return IndexManifest(**json.loads((directory / "manifest.json").read_text()))


def is_complete(directory: Path) -> bool:
    return (directory / "manifest.json").is_file()


def point_current(dataset_dir: Path, version: str) -> None:
    pointer = dataset_dir / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    pointer.write_text(version)
    os.replace(pointer, dataset_dir / CURRENT)


def keyword_engine(texts: Sequence[str], language: str, stemmer: str | None = None) -> Any:
    """BM25 over ``texts``, tokenised with ``language``'s stop words and, when given, the
    ``stemmer`` Snowball algorithm (the one tokenisation of every keyword index and of the
    evaluation's reference)."""
    import bm25s

    engine = bm25s.BM25()
    tokens = bm25s.tokenize(
        list(texts), stopwords=language, stemmer=_stemmer(stemmer), show_progress=False
    )
    engine.index(tokens, show_progress=False)
    return engine


def word_tokens(words: Sequence[str], language: str, stemmer: str | None = None) -> list[list[str]]:
    """Each word's token as the keyword indexes read it (empty for a stop word)."""
    import bm25s

    if not words:
        return []
    return bm25s.tokenize(
        list(words),
        stopwords=language,
        stemmer=_stemmer(stemmer),
        return_ids=False,
        show_progress=False,
    )


def query_tokens(text: str, language: str, stemmer: str | None = None) -> list[str]:
    """A query's distinct words, tokenised as the indexed texts were."""
    import bm25s

    if not text.strip():
        return []
    tokens = bm25s.tokenize(
        [text],
        stopwords=language,
        stemmer=_stemmer(stemmer),
        return_ids=False,
        show_progress=False,
    )[0]
    return list(dict.fromkeys(tokens))


_STEMMERS = threading.local()  # a PyStemmer stemmer is not safe to share between threads


def _stemmer(algorithm: str | None) -> Any:
    if algorithm is None:
        return None
    import Stemmer

    per_thread = _STEMMERS.__dict__
    if algorithm not in per_thread:
        per_thread[algorithm] = Stemmer.Stemmer(algorithm)
    return per_thread[algorithm]


def write_keyword_index(
    directory: Path, texts: list[str], language: str, stemmer: str | None = None
) -> None:
    keyword_engine(texts, language, stemmer).save(str(directory), show_progress=False)


def write_ann_index(path: Path, vectors: np.ndarray) -> None:
    import faiss

    graph = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    graph.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(graph, str(path))


def read_line(stem: Path, offsets: np.ndarray, row: int) -> Any:
    with stem.with_suffix(".jsonl").open("rb") as handle:
        handle.seek(int(offsets[row]))
        return json.loads(handle.read(int(offsets[row + 1] - offsets[row])))


def load_keyword_index(directory: Path) -> Any:
    import bm25s

    if not (directory / "params.index.json").is_file():
        raise OSError(f"no keyword index in {directory}")
    return bm25s.BM25.load(str(directory), show_progress=False)


def load_ann_index(path: Path) -> Any:
    import faiss

    try:
        return faiss.read_index(str(path))
    except RuntimeError as error:  # FAISS reports a bad file as RuntimeError
        raise OSError(str(error)) from error
