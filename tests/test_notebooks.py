"""The notebooks run from their own folder and find the same home as the commands."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def test_the_echr_notebook_runs_from_a_subfolder_of_the_project(trained_home, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(trained_home, project / ".casecast")
    (project / "notebooks").mkdir()
    notebook = json.loads((NOTEBOOKS / "01_echr_data_and_model.ipynb").read_text())
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    program = "\n\n".join([*cells, "print('home:', settings.home)"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASECAST_", "MLFLOW_"))}
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=project / "notebooks",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == f"home: {project / '.casecast'}"
