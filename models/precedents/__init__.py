"""The precedent index: build a version (``build``), load and search it (``index``), and what
it stores and answers (``types``)."""

from models.precedents.build import build_index, index_version
from models.precedents.files import read_manifest
from models.precedents.index import PrecedentIndex
from models.precedents.types import (
    MAX_QUERY_PASSAGES,
    MODES,
    CaseNotIndexedError,
    CaseSummary,
    IndexManifest,
    IndexUnavailableError,
    Mode,
    Passage,
    PrecedentHit,
    SearchFilters,
)

__all__ = [
    "MAX_QUERY_PASSAGES",
    "MODES",
    "CaseNotIndexedError",
    "CaseSummary",
    "IndexManifest",
    "IndexUnavailableError",
    "Mode",
    "Passage",
    "PrecedentHit",
    "PrecedentIndex",
    "SearchFilters",
    "build_index",
    "index_version",
    "read_manifest",
]
