import gzip
import json

import pytest

from casecast.data import ru
from casecast.data.settings import DataSettings


@pytest.fixture(scope="module")
def raw_cases() -> list[dict]:
    """Every Russian decision as stored, markup included."""
    path = DataSettings().resolved_data_dir() / ru.FOLDER / ru.FILE
    if not path.is_file():
        pytest.skip("Russian data not found")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]
