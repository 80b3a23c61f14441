"""`casecast data fetch echr` against a local file server holding a real-format release."""

import functools
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from casecast.data.datasets import get_dataset
from casecast.data.settings import DataSettings
from tests.cases import read_cases
from tests.conftest import read_raw_cases


@pytest.fixture()
def release_server(tmp_path: Path, echr_train_path, echr_dev_path) -> Iterator[tuple[str, dict]]:
    """Serve an ECHR_Dataset.zip laid out like the public one (one JSON file per case)."""
    import json

    cases = {"train": read_raw_cases(echr_train_path, 6), "dev": read_raw_cases(echr_dev_path, 4)}
    site = tmp_path / "site"
    site.mkdir()
    with zipfile.ZipFile(site / "ECHR_Dataset.zip", "w") as bundle:
        for split, rows in cases.items():
            for case in reversed(rows):  # the fetcher must sort by file name itself
                bundle.writestr(f"EN_{split}/{case['ITEMID']}.json", json.dumps(case))
            bundle.writestr(f"EN_{split}_Anon/{rows[0]['ITEMID']}.json", json.dumps(rows[0]))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", cases
    finally:
        server.shutdown()


def test_fetch_writes_the_shared_format(release_server, tmp_path: Path):
    url, cases = release_server
    settings = DataSettings(data_dir=tmp_path / "data", echr_source_url=f"{url}/ECHR_Dataset.zip")
    written = get_dataset("echr").fetch(settings)
    assert sorted(p.name for p in written) == ["en_dev.jsonl.gz", "en_train.jsonl.gz"]
    for split, rows in cases.items():
        corpus = read_cases(
            "echr", tmp_path / "data" / "echr_chalkidis2019" / f"en_{split}.jsonl.gz"
        )
        assert [r.case_id for r in corpus.records] == sorted(c["ITEMID"] for c in rows)
        by_id = {c["ITEMID"]: c for c in rows}
        for record in corpus.records:
            assert list(record.paragraphs) == [p.strip() for p in by_id[record.case_id]["TEXT"]]


def test_failed_download_leaves_nothing_behind(release_server, tmp_path: Path):
    url, _ = release_server
    settings = DataSettings(data_dir=tmp_path / "data", echr_source_url=f"{url}/missing.zip")
    with pytest.raises(OSError):
        get_dataset("echr").fetch(settings)
    folder = tmp_path / "data" / "echr_chalkidis2019"
    assert not any(folder.rglob("*.gz")) and not any(folder.rglob("*.part"))
