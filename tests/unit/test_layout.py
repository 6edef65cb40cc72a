"""The package's layout: pure subpackages import without Scrapy, no import loops, docstrings that match the tree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Plain Python: the wire grammar, the news, the store and the run's history are called by tests
# and tools without Scrapy. The Scrapy adapters stay thin around them.
PURE = [
    "wirecrawler.portal",
    "wirecrawler.news",
    "wirecrawler.store",
    "wirecrawler.runs.run",
    "wirecrawler.runs.checks",
    "wirecrawler.runs.history",
    "wirecrawler.runs.signals",
    "wirecrawler.runs.metrics",
    "wirecrawler.runs.statuspage",
    "wirecrawler.settingvalues",
    "wirecrawler.items",
    "wirecrawler.backfill.plan",
    "wirecrawler.backfill.state",
    "wirecrawler.backfill.progress",
    "testsites",
]
SUBPACKAGES = ["portal", "news", "store", "runs", "render", "local", "backfill"]

# Imports the named modules in a fresh interpreter in which Scrapy cannot be imported.
IMPORT_WITHOUT_SCRAPY = """
import importlib, importlib.abc, sys

class NoScrapy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "scrapy" or name.startswith("scrapy."):
            raise ModuleNotFoundError(f"No module named {name!r} (made unimportable for this test)")
        return None

sys.meta_path.insert(0, NoScrapy())
for name in sys.argv[1:]:
    importlib.import_module(name)
"""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules_of(name: str) -> list[str]:
    path = ROOT / name.replace(".", "/")
    if path.is_dir():
        return sorted(module_name(file) for file in path.rglob("*.py"))
    return [name]


def import_without_scrapy(names: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT_SCRAPY, *names], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_every_pure_module_imports_with_scrapy_unimportable():
    names = [module for package in PURE for module in modules_of(package)]
    assert len(names) > 15
    done = import_without_scrapy(names)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("module", ["wirecrawler.pipelines", "wirecrawler.runs.verdict", "wirecrawler.middlewares"])
def test_a_scrapy_side_module_does_not_import_so(module):
    """The check above can fail: modules that do use Scrapy are refused by it."""
    done = import_without_scrapy([module])
    assert done.returncode != 0 and "made unimportable" in done.stderr


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The project modules *path* imports, anywhere in it (a deferred import is still an import)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found & known


def import_graph() -> dict[str, set[str]]:
    files = [*ROOT.joinpath("wirecrawler").rglob("*.py"), *ROOT.joinpath("testsites").rglob("*.py")]
    known = {module_name(file) for file in files}
    return {module_name(file): imported_modules(file, known) - {module_name(file)} for file in files}


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """A loop of imports, as the modules along it; None when there is none."""
    state: dict[str, str] = {}  # module -> "open" while its imports are walked, then "done"

    def walk(module: str, path: list[str]) -> list[str] | None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target] if target in path else [*path, target]
            if target not in state and (loop := walk(target, [*path, target])):
                return loop
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (loop := walk(module, [module])):
            return loop
    return None


def test_no_module_imports_another_in_a_loop():
    graph = import_graph()
    assert graph["wirecrawler.pipelines"] >= {"wirecrawler.news.records", "wirecrawler.extensions"}
    assert cycle_in(graph) is None, " -> ".join(cycle_in(graph))


def test_the_loop_finder_finds_a_loop():
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_each_subpackage_docstring_names_each_of_its_modules(package):
    folder = ROOT / "wirecrawler" / package
    docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))) or ""
    modules = sorted(file.stem for file in folder.glob("*.py") if file.stem != "__init__")
    assert modules
    assert [module for module in modules if f"``{module}``" not in docstring] == []
    if f"wirecrawler.{package}" in PURE:
        assert "Pure" in docstring.split("\n")[0]
