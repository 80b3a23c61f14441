"""The precedent index: build a version (``build``), load and search it (``index``), and what
it stores and answers (``types``), how far a build has come (``progress``)."""

from casecast.models.precedents.build import build_index, index_version
from casecast.models.precedents.files import is_complete, read_manifest
from casecast.models.precedents.index import PrecedentIndex
from casecast.models.precedents.progress import BuildStatus, read_statuses
from casecast.models.precedents.types import (
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
