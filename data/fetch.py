"""Download public data releases for users without ``../shared/data``.

Each fetcher writes files in the same format as ``../shared/data`` so every loader and
command works unchanged on what it produced.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

CHUNK_BYTES = 1 << 20
ECHR_FOLDER = "echr_chalkidis2019"  # as data/specs/echr.yaml reads it
ECHR_SPLIT_FILES = {
    "train": "en_train.jsonl.gz",
    "dev": "en_dev.jsonl.gz",
    "test": "en_test.jsonl.gz",
}


def download(url: str, target: Path, timeout_s: float = 60.0) -> Path:
    """Stream ``url`` to ``target`` with a progress bar; a partial file never stays behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn())
        with Progress(*columns, transient=True) as progress, partial.open("wb") as out:
            task = progress.add_task("download", total=total)
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                progress.advance(task, len(chunk))
    partial.replace(target)
    return target


def fetch_echr(url: str, data_dir: Path) -> list[Path]:
    """Fetch ``ECHR_Dataset.zip`` and pack each English split into ``en_<split>.jsonl.gz``.

    The release has one JSON file per case (file name = ITEMID) in ``EN_train``, ``EN_dev``
    and ``EN_test``; cases are written sorted by file name, content unchanged.
    """
    folder = data_dir / ECHR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        archive = download(url, Path(scratch) / "ECHR_Dataset.zip")
        written: list[Path] = []
        with zipfile.ZipFile(archive) as bundle:
            for split, file_name in ECHR_SPLIT_FILES.items():
                members = sorted(
                    name
                    for name in bundle.namelist()
                    if name.endswith(".json") and f"EN_{split}/" in name and "_Anon" not in name
                )
                if not members:
                    continue
                partial = Path(scratch) / file_name
                with gzip.open(partial, "wt", encoding="utf-8") as out:
                    for name in members:
                        case = json.loads(bundle.read(name).decode("utf-8"))
                        out.write(json.dumps(case, ensure_ascii=False) + "\n")
                target = folder / file_name
                shutil.move(partial, target)
                written.append(target)
    if not written:
        raise ValueError(f"{url} has no EN_train/EN_dev/EN_test folders of JSON cases")
    return written
