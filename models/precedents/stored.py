"""One stored index version, read from its folder and checked: the passage vectors and
where each passage sits, the case summaries, the documents and passages as text, the two
BM25 indexes, the HNSW graph (large indexes), the language means (multilingual encoders)
and the fusion ranker (where the build kept one).

Read-only once loaded, so any number of searches share it. Everything a search computes
per query lives elsewhere (``ranking``, ``results``, ``highlight``).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from casecast.models.precedents.files import (
    load_ann_index,
    load_keyword_index,
    read_line,
    read_manifest,
)
from casecast.models.precedents.fusion import FusionRanker
from casecast.models.precedents.scoring import case_centroids
from casecast.models.precedents.types import (
    CURRENT,
    FORMAT,
    CaseSummary,
    IndexManifest,
    IndexUnavailableError,
)


class StoredIndex:
    """The files of one index version (``directory``), loaded and checked for agreement."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            self.manifest: IndexManifest = read_manifest(directory)
            if self.manifest.format != FORMAT:
                raise ValueError(f"format {self.manifest.format}, this server reads {FORMAT}")
            self.vectors: np.ndarray = np.load(directory / "vectors.npy")
            self.chunk_case: np.ndarray = np.load(directory / "chunk_case.npy")
            self.chunk_span: np.ndarray = np.load(directory / "chunk_span.npy")
            cases = json.loads((directory / "cases.json").read_text())
            self.cases: list[CaseSummary] = [CaseSummary(**c) for c in cases]
            self.passage_offsets: np.ndarray = np.load(directory / "passages.offsets.npy")
            self.document_offsets: np.ndarray = np.load(directory / "documents.offsets.npy")
            self.keyword: Any = load_keyword_index(directory / "keyword")
            self.case_keyword: Any = load_keyword_index(directory / "case_keyword")
            self.ann: Any = (
                load_ann_index(directory / "ann.faiss") if self.manifest.ann != "none" else None
            )
            self.document_mean: np.ndarray | None = (
                np.load(directory / "document_mean.npy") if self.manifest.centering else None
            )
            # Hybrid's learned fusion, where the build kept one; else hybrid ranks by RRF.
            loaded = FusionRanker.load(directory)
            self.fusion: FusionRanker | None = loaded[0] if loaded else None
            self.fusion_info: dict[str, Any] | None = loaded[1] if loaded else None
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise IndexUnavailableError(
                f"precedent index at {directory} is unreadable ({error}): rebuild it with "
                f"`casecast index --dataset {directory.parent.name}`"
            ) from error
        sizes = {len(self.vectors), len(self.chunk_case), len(self.chunk_span),
                 len(self.passage_offsets) - 1, self.manifest.n_chunks}  # fmt: skip
        if len(sizes) != 1:
            raise IndexUnavailableError(
                f"precedent index at {directory} is inconsistent: rebuild it"
            )
        self.positions = {c.case_id: i for i, c in enumerate(self.cases)}
        # Passages are stored case by case; each case's first row.
        self.case_starts = np.searchsorted(self.chunk_case, np.arange(len(self.cases)))
        self.passages_per_case = np.bincount(self.chunk_case, minlength=len(self.cases))
        self.years = np.asarray([c.year if c.year is not None else -1 for c in self.cases])
        self.case_centroids = case_centroids(self.vectors, self.chunk_case, self.case_starts)

    @staticmethod
    def current_version(root: Path, dataset: str) -> str | None:
        """The version ``CURRENT`` names now (None when nothing was built)."""
        pointer = root / dataset / CURRENT
        return pointer.read_text().strip() if pointer.is_file() else None

    @classmethod
    def current(cls, root: Path, dataset: str) -> StoredIndex:
        """The version of ``dataset`` that ``CURRENT`` names."""
        version = cls.current_version(root, dataset)
        if version is None:
            raise IndexUnavailableError(
                f"no precedent index for {dataset} in {root}: "
                f"run `casecast index --dataset {dataset}`"
            )
        return cls(root / dataset / version)

    def __len__(self) -> int:
        return len(self.cases)

    def rows(self, case: int) -> range:
        """The passage rows of the case at position ``case``."""
        start = int(self.case_starts[case])
        stop = (
            int(self.case_starts[case + 1]) if case + 1 < len(self.cases) else len(self.chunk_case)
        )
        return range(start, stop)

    def passage_text(self, row: int) -> str:
        return str(read_line(self.directory / "passages", self.passage_offsets, row))

    def paragraphs(self, case: int) -> list[str]:
        """Every paragraph of the case at position ``case``, as indexed."""
        return list(read_line(self.directory / "documents", self.document_offsets, case))

    def case_vectors(self, case: int) -> np.ndarray:
        """The stored passage vectors of one case ("more like this" needs no new embedding)."""
        return self.vectors[self.chunk_case == case]

    @cached_property
    def case_frequency(self) -> np.ndarray:
        """How many cases hold each keyword token (from the whole-case BM25 index)."""
        return np.diff(np.asarray(self.case_keyword.scores["indptr"]))
