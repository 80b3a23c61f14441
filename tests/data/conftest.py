import gzip
import json

import pytest

from tests.cases import source_file


@pytest.fixture(scope="module")
def raw_cases() -> list[dict]:
    """Every Russian decision as stored, markup included."""
    path = source_file("ru")
    if not path.is_file():
        pytest.skip("Russian data not found")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]
