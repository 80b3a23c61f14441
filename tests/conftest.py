"""Shared fixtures: real ECHR slices from ../shared/data, the real embedding model, and one
model trained, registered and indexed through the real CLI for the whole session.

Two tiers. A test is end-to-end (``e2e``) when it needs a trained model, the encoder, a
browser or a database: marked by hand, or by asking for one of ``E2E_FIXTURES``. Every
other test is the fast tier (``pytest -m "not e2e"``), and loading an encoder fails it, so
the tier stays fast as tests are added."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casecast.data.fetch import ECHR_FOLDER as FOLDER
from casecast.data.fetch import ECHR_SPLIT_FILES as SPLIT_FILES
from casecast.data.schema import Corpus
from casecast.data.settings import DataSettings
from casecast.features import embedding
from tests.cases import read_cases

# Enough cases for both sides of the 2011 temporal split, small enough for 2 CPU cores.
CASES_PER_SPLIT = 150
# Fixtures that train, embed or start a database: a test that asks for one is end-to-end.
E2E_FIXTURES = frozenset(
    {"trained_home", "embedding_cache", "fusion_corpus", "fused_index_root", "postgres_url"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _fast_tier_loads_no_encoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Outside the e2e tier an encoder is never loaded (it takes seconds and memory)."""
    if request.node.get_closest_marker("e2e") is not None:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{request.node.nodeid} loads an encoder: mark it e2e")

    monkeypatch.setattr(embedding, "load_encoder", refuse)


@pytest.fixture(autouse=True)
def _isolated_mlflow_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    """mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI, which settings read: undo it."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")


def skip_or_fail(message: str) -> None:
    """Skip, saying why, on a developer's machine; fail in CI, where nothing may skip."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _data_dir() -> Path:
    return DataSettings().resolved_data_dir()


@pytest.fixture(scope="session")
def echr_dir() -> Path:
    folder = _data_dir() / FOLDER
    if not (folder / SPLIT_FILES["train"]).is_file():
        skip_or_fail(f"ECHR data not found in {folder}: put ../shared beside the checkout")
    return folder


@pytest.fixture(scope="session")
def echr_train_path(echr_dir: Path) -> Path:
    return echr_dir / SPLIT_FILES["train"]


@pytest.fixture(scope="session")
def echr_dev_path(echr_dir: Path) -> Path:
    return echr_dir / SPLIT_FILES["dev"]


@pytest.fixture(scope="session")
def train_slice(echr_train_path: Path) -> Corpus:
    return read_cases("echr", echr_train_path, limit=CASES_PER_SPLIT)


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(scope="session")
def trained_home(
    tmp_path_factory: pytest.TempPathFactory, echr_dir: Path, embedding_cache: Path
) -> Iterator[Path]:
    """A casecast home in which `casecast train` and `casecast index` ran on real slices."""
    from casecast.training.cli import app

    home = tmp_path_factory.mktemp("casecast-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASECAST_HOME", str(home))
        patch.setenv("CASECAST_DATA_DIR", str(echr_dir.parent))
        patch.setenv("CASECAST_EMBEDDING_CACHE", str(embedding_cache))
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        runner = CliRunner()
        for command in ("train", "index"):
            result = runner.invoke(app, [command, "--limit", str(CASES_PER_SPLIT)])
            assert result.exit_code == 0, result.output + repr(result.exception)
        yield home


def read_raw_cases(path: Path, limit: int) -> list[dict]:
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for _, line in zip(range(limit), handle, strict=False)]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (Debian's server binaries), as a SQLAlchemy URL; the
    tests that use it skip, saying why, where the binaries or the driver are missing."""
    import importlib.util
    import os
    import shutil
    import subprocess

    # On the PATH, or where Debian's postgresql package puts them.
    debian = ":".join(sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")))
    search = f"{os.environ.get('PATH', '')}:{debian}"
    initdb, pg_ctl = shutil.which("initdb", path=search), shutil.which("pg_ctl", path=search)
    if initdb is None or pg_ctl is None:
        skip_or_fail(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        )
    if importlib.util.find_spec("psycopg") is None:
        skip_or_fail("psycopg is not installed: pip install 'psycopg[binary]'")
    import tempfile

    # PostgreSQL refuses to run as root: the cluster then belongs to nobody, in a folder
    # nobody can reach (pytest's own temporary folders are private to their user).
    run_as = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="casecast-postgres-"))
    if run_as:
        shutil.chown(folder, "nobody")
    data = folder / "data"
    subprocess.run([*run_as, initdb, "-D", str(data), "-A", "trust", "-U", "casecast"],
                   check=True, capture_output=True)  # fmt: skip
    options = f"-p 55432 -k {folder} -c listen_addresses=''"
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options,
                    "-w", "start"], check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql+psycopg://casecast@/postgres?host={folder}&port=55432"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-w", "stop", "-m", "fast"],
                       check=False, capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


# Learned fusion on a slice with earlier years to learn from: queries of 2011-2012 train the
# ranker (candidates before 2011); 2013 is held out.
FUSION_HELD_OUT_FROM = 2013


def _fusion_training():
    from casecast.data.datasets import shared_articles as relevance
    from casecast.models.precedents.fusion_training import FusionTraining

    # 30 queries cannot show a gain over RRF beyond two standard errors: this ranker is kept
    # whatever its validation year says (tests/models/test_fusion.py checks the rule itself).
    return FusionTraining(
        relevance, FUSION_HELD_OUT_FROM, max_queries=30, min_queries=20, validation_ses=-math.inf
    )


FUSION_TRAINING = _fusion_training()


@pytest.fixture(scope="session")
def fusion_corpus(echr_train_path: Path) -> Corpus:
    """Every 10th of the first 4,000 cases: 1978-2013, two thirds of them before 2011."""
    return read_cases("echr", echr_train_path, limit=4000).subset(range(0, 4000, 10))


@pytest.fixture(scope="session")
def fused_index_root(
    tmp_path_factory: pytest.TempPathFactory, fusion_corpus: Corpus, embedding_cache: Path
) -> Path:
    """An index of ``fusion_corpus`` whose build fitted a fusion ranker."""
    from casecast.features.chunking import ParagraphChunker
    from casecast.features.embedding import SentenceEmbedder
    from casecast.models.precedents import build_index

    root = tmp_path_factory.mktemp("fused")
    embedder = SentenceEmbedder(cache_dir=embedding_cache).fit()
    chunker = ParagraphChunker(128, 16).fit()
    build_index(fusion_corpus, embedder, chunker, 2, root, fusion=FUSION_TRAINING)
    return root
