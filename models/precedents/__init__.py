"""The precedent index: build a version (``build``), load and search it (``index``), and what
it stores and answers (``types``), how far a build has come (``progress``)."""

from models.precedents.build import build_index, index_version
from models.precedents.files import is_complete, read_manifest
from models.precedents.index import PrecedentIndex
from models.precedents.progress import BuildStatus, read_statuses
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
    "BuildStatus",
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
    "is_complete",
    "read_manifest",
    "read_statuses",
]
