"""The import rules of the product design, checked on the source."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"data", "features", "models", "training", "serving"}
MAX_MODULE_LINES = 400
FORBIDDEN = {
    "features": OURS - {"features"},
    "data": {"features", "models", "training", "serving"},
    "models": {"training", "serving"},
    "training": {"serving"},
    "serving": {"training"},
}


def _module_name(path: Path) -> str:
    """The installed name of a source file: ``models/precedents/index.py`` is
    ``casecast.models.precedents.index``, a package's ``__init__.py`` the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(("casecast", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level and TYPE_CHECKING too);
    `from package import module` imports that module (its package's ``__init__`` runs first
    for any submodule, and is no arrow of the file's own)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = {f"{node.module}.{a.name}" for a in node.names}
            modules = {n for n in names if _is_module(n)}
            found |= modules | ({node.module} if modules != names else set())
    return found


def _is_module(name: str) -> bool:
    parts = name.split(".")
    if parts[0] != "casecast" or len(parts) < 2:
        return False
    where = ROOT.joinpath(*parts[1:])
    return where.with_suffix(".py").is_file() or (where / "__init__.py").is_file()


def _sources() -> list[Path]:
    return sorted(p for package in OURS for p in (ROOT / package).rglob("*.py"))


def _imports(package: str) -> set[tuple[str, str]]:
    """(file, the first of our packages it imports) for every import of ours in a package."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for name in _imported(path):
            parts = name.split(".")
            if parts[0] == "casecast" and len(parts) > 1:
                found.add((str(path.relative_to(ROOT)), parts[1]))
            elif parts[0] in OURS:  # the names before casecast installed as one package
                found.add((str(path.relative_to(ROOT)), f"top-level {parts[0]}"))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_design_allows(package):
    forbidden = FORBIDDEN[package] | {f"top-level {p}" for p in OURS}
    bad = sorted((where, name) for where, name in _imports(package) if name in forbidden)
    assert bad == []


def test_no_module_imports_itself_through_others():
    """Every arrow points down: no cycle among casecast's modules, counting imports made
    inside functions or only for type checking."""
    modules = {_module_name(p): p for p in _sources()}
    graph = {name: {m for m in _imported(path) if m in modules and m != name}
             for name, path in modules.items()}  # fmt: skip
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for after in sorted(graph[name]):
            if state.get(after) == 1:
                cycles.append([*path[path.index(after) :], after])
            elif after not in state:
                visit(after, [*path, after])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_no_module_is_longer_than_the_limit():
    long = {str(p.relative_to(ROOT)): n for p in _sources()
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}  # fmt: skip
    assert long == {}


def test_the_readme_is_a_front_door_and_its_links_lead_somewhere():
    import re

    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
