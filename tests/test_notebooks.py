"""The notebooks: each a jupytext percent file paired with its .ipynb, holding no logic of
its own, and all of them run (nbmake, in a Jupyter kernel) from a subfolder of a project,
finding the same home as the commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("*.py"))


def _code(notebook: object) -> list[str]:
    return [c.source.strip() for c in notebook.cells if c.cell_type == "code"]  # type: ignore[attr-defined]


def test_every_notebook_is_a_percent_file_paired_with_its_ipynb_in_step():
    assert len(SOURCES) >= 4
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == {p.stem for p in SOURCES}
    for source in SOURCES:
        paired = jupytext.read(source.with_suffix(".ipynb"))
        assert _code(jupytext.read(source)) == _code(paired), (
            f"{source.name} and its .ipynb differ: `jupytext --sync notebooks/{source.name}`"
        )
        assert paired.metadata["jupytext"]["formats"] == "ipynb,py:percent"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_a_notebook_defines_nothing_of_its_own(source: Path):
    """Notebooks call the packages; a function or class here would live only here."""
    code = "\n".join(_code(jupytext.read(source)))
    assert not re.search(r"^(async\s+)?(def|class)\s", code, re.MULTILINE)
    assert "from casecast." in code


@pytest.mark.e2e
def test_the_notebooks_run_in_a_kernel_from_a_subfolder_of_the_project(
    trained_home: Path, embedding_cache: Path, echr_dir: Path, tmp_path: Path
):
    project = tmp_path / "project"
    shutil.copytree(trained_home, project / ".casecast")
    shutil.copytree(NOTEBOOKS, project / "notebooks", ignore=shutil.ignore_patterns("*.py"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASECAST_", "MLFLOW_"))}
    env |= {
        "CASECAST_DATA_DIR": str(echr_dir.parent),
        "CASECAST_EMBEDDING_CACHE": str(embedding_cache),
        "CASECAST_NOTEBOOK_LIMIT": "150",  # as the trained home was trained
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "--overwrite", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(project / "notebooks"), str(project / "notebooks")],
        cwd=project / "notebooks", env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"{len(SOURCES)} passed" in done.stdout
    # Everything went to the home's store: no MLflow files beside the notebooks.
    assert not {"mlflow.db", "mlruns", "mlartifacts"} & {
        p.name for p in (project / "notebooks").iterdir()
    }

    def printed(name: str) -> str:
        cells = json.loads((project / "notebooks" / f"{name}.ipynb").read_text())["cells"]
        return "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))

    # The same home as the commands, found from the notebooks' folder.
    assert f"casecast home: {project / '.casecast'}" in printed("01_explore_a_data_set")
    # The second notebook registered a version; the third compared it with the champion.
    assert re.search(r"registered casecast-echr-violation v2\b", printed("02_train_and_evaluate"))
    compared = printed("03_compare_two_versions")
    assert "held-out cases" in compared and re.search(r"(passed|FAILED) macro_f1", compared)
