"""casecast installs under one name: a wheel of the checkout holds only ``casecast`` (and its
metadata) at the top, with the ``casecast`` command, and the package list names every
folder of ours."""

import subprocess
import sys
import tomllib
import zipfile

from tests.test_layout import OURS, ROOT, _module_name, _sources


def test_every_package_folder_installs_under_the_one_name():
    """pyproject's package list names every folder of ours that holds an ``__init__.py``, as
    a subpackage of casecast, so that nothing else lands at the top of site-packages."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {_module_name(p) for p in _sources() if p.name == "__init__.py"}
    assert set(config["packages"]) == folders
    assert config["package-dir"] == {f"casecast.{p}": p for p in OURS}


def test_ci_runs_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test" in readme and "bash scripts/start" in readme
    assert "exec bash scripts/test" in ci


def test_the_wheel_puts_only_casecast_at_the_top_of_site_packages(tmp_path):
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = tmp_path.glob("casecast-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    assert {n.split("/")[0] for n in names} == {
        "casecast",
        wheel.name.split("-py")[0] + ".dist-info",
    }
    assert {n.split("/")[1] for n in names if n.startswith("casecast/")} == OURS
    assert "casecast = casecast.training.cli:app" in scripts
    # Data the packages read at run time travels with them.
    assert "casecast/serving/locales/en.json" in names
    assert any(n.startswith("casecast/data/queries/") for n in names)


def test_the_lock_file_pins_every_dependency_pyproject_names():
    """scripts/setup installs from requirements.lock: each runtime and development package
    pyproject.toml asks for is pinned there, to one version."""
    import re

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    names = {
        re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in wanted
    }
    lines = [line for line in (ROOT / "requirements.lock").read_text().splitlines()
             if line and not line.startswith("#")]  # fmt: skip
    pinned = {}
    for line in lines:
        name, _, version = line.partition("==")
        pinned[name.lower().replace("_", "-")] = version
    assert len(pinned) == len(lines) and all(pinned.values())  # one exact version each
    assert sorted(names - set(pinned)) == []
