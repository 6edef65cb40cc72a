"""Scrapy's own feed-export tests, run twice: on Scrapy's file storage and on the project's.

The tests come from the sdist of the Scrapy release the project pins, fetched and unpacked once
by ``make scrapy-suite`` into ``.cache/scrapy-<version>/``; their extra dependencies
(``tests/scrapy_suite/requirements.txt``) are installed by the same target into
``<venv>/scrapy-suite/``, a folder on the sub-runs' ``PYTHONPATH`` only: pytest-twisted in the
venv itself would load into the project's own pytest and install a reactor there.

Each sub-run is a pytest of its own, in its own copy of the sdist's ``conftest.py``,
``pyproject.toml`` (Scrapy's pytest settings) and ``tests/``, never under the project's
``pytest.ini``. The copy leaves out the sdist's ``scrapy/``, so the Scrapy under test is the one
installed in the venv, the one the project runs on. The plugin ``plugin/wirecrawler_scrapy_suite.py``
swaps the storage in (for the project's run) and reports outcomes and the storage classes built.

The project's storage is named by its dotted path in ``WIRECRAWLER_FEED_STORAGE`` (default
``wirecrawler.feeds.FileFeedStorage``).

    .venv/bin/python -m tests.scrapy_suite.run      # both runs, the differences, exit 1 if any
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SCRAPY_VERSION = "2.19.0"
ROOT = Path(__file__).resolve().parents[2]
SDIST_DIR = ROOT / ".cache" / f"scrapy-{SCRAPY_VERSION}"
DEPS_DIR = Path(sys.prefix) / "scrapy-suite"  # the Makefile's $(VENV)/scrapy-suite
PLUGIN_DIR = Path(__file__).resolve().parent / "plugin"
PLUGIN = "wirecrawler_scrapy_suite"
MAKE_TARGET = "make scrapy-suite"
TEST_GLOB = "tests/test_feedexport*.py"
# What the sub-runs import beyond the project's venv (requirements.txt here) and what they use of it.
NEEDED_MODULES = ("pytest_twisted", "pyftpdlib", "decorator", "greenlet", "twisted", "scrapy", "wirecrawler")

STOCK_STORAGE = "scrapy.extensions.feedexport.FileFeedStorage"
DEFAULT_PROJECT_STORAGE = "wirecrawler.feeds.FileFeedStorage"
SUBRUN_TIMEOUT = 900  # seconds for one sub-run; each takes well under a minute
PASSING = ("passed", "xfailed")  # xfailed: Scrapy's expected failure happened, as on stock
SWAP_MARKER = "<the --wirecrawler-storage class>"  # the plugin's count of the class swapped in
SUMMARY_KEY: pytest.StashKey[list[str]] = pytest.StashKey()  # the sub-runs' summaries, for conftest.py


def project_storage() -> str:
    return os.environ.get("WIRECRAWLER_FEED_STORAGE") or DEFAULT_PROJECT_STORAGE


def feedexport_test_files(sdist: Path = SDIST_DIR) -> list[str]:
    return sorted(str(path.relative_to(sdist)) for path in sdist.glob(TEST_GLOB))


def subrun_env() -> dict[str, str]:
    """The environment of a sub-run: none of the outer pytest's or a Scrapy project's variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "SCRAPY_")) and key not in ("PYTHONPATH", "PYTHONSTARTUP")
    }
    # The plugin, the extra test dependencies, and the project (its storage must import).
    env["PYTHONPATH"] = os.pathsep.join([str(PLUGIN_DIR), str(DEPS_DIR), str(ROOT)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def setup_problem() -> str | None:
    """Why the sub-runs cannot start, with what to run; None when they can."""
    if not SDIST_DIR.is_dir() or not feedexport_test_files():
        return f"Scrapy {SCRAPY_VERSION}'s sdist is not unpacked in {SDIST_DIR} (no {TEST_GLOB}): run `{MAKE_TARGET}`"
    check = "import importlib.util as u, sys; m = [n for n in sys.argv[1:] if u.find_spec(n) is None]; sys.exit(' '.join(m) or 0)"
    done = subprocess.run(
        [sys.executable, "-c", check, *NEEDED_MODULES],
        env=subrun_env(),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        missing = done.stderr.strip() or done.stdout.strip()
        return f"the sub-runs cannot import: {missing} (looked in {DEPS_DIR} and the venv): run `{MAKE_TARGET}`"
    return None


@dataclass
class SubRun:
    label: str
    storage: str  # the class swapped in; "" for stock
    returncode: int
    seconds: float
    output: str = field(repr=False)
    report: dict = field(default_factory=dict, repr=False)

    @property
    def results(self) -> dict[str, dict[str, str]]:
        return self.report.get("results", {})

    def with_outcome(self, *outcomes: str) -> list[str]:
        return sorted(nodeid for nodeid, result in self.results.items() if result["outcome"] in outcomes)

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for result in self.results.values():
            counted[result["outcome"]] = counted.get(result["outcome"], 0) + 1
        return counted

    def built(self) -> dict[str, int]:
        """Storage classes the feed exporter built for file feeds, over the whole run."""
        total: dict[str, int] = {}
        for counts in self.report.get("built", {}).values():
            for name, count in counts.items():
                total[name] = total.get(name, 0) + count
        return total

    def tests_building(self, class_path: str) -> list[str]:
        return sorted(nodeid for nodeid, counts in self.report.get("built", {}).items() if counts.get(class_path))

    def summary(self) -> str:
        counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.counts().items()))
        return f"{self.label} run ({self.storage or STOCK_STORAGE}): exit {self.returncode}, {counts or 'no tests'}, {self.seconds:.1f} s"

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def _prepare(workdir: Path) -> Path:
    """A private copy of Scrapy's test harness: its conftest writes keys into tests/keys."""
    suite = workdir / "suite"
    suite.mkdir(parents=True)
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy2(SDIST_DIR / name, suite / name)
    shutil.copytree(SDIST_DIR / "tests", suite / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    return suite


def run_one(label: str, storage: str, workdir: Path, timeout: float = SUBRUN_TIMEOUT) -> SubRun:
    suite = _prepare(workdir)
    report_path = workdir / "report.json"
    command = [
        sys.executable, "-m", "pytest",
        "-c", "pyproject.toml", "--rootdir", ".",
        "-q", "-rfE", "-p", "no:cacheprovider",
        "--basetemp", str(workdir / "tmp"),
        "-p", PLUGIN,
        "--wirecrawler-report", str(report_path),
        "--wirecrawler-storage", storage,
        *feedexport_test_files(),
    ]  # fmt: skip
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=suite,
            env=subrun_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        returncode, output = done.returncode, done.stdout
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        returncode, output = -1, (out.decode(errors="replace") if isinstance(out, bytes) else out)
        output += f"\n[the {label} sub-run did not finish in {timeout:.0f} s and was killed]"
    seconds = time.monotonic() - started
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    return SubRun(label, storage, returncode, seconds, output, report)


def run_both(workdir: Path, storage: str | None = None) -> tuple[SubRun, SubRun]:
    """The stock run and the project's, side by side (each mostly waits on its mock server)."""
    storage = storage or project_storage()
    with ThreadPoolExecutor(max_workers=2) as pool:
        stock = pool.submit(run_one, "stock", "", workdir / "stock")
        project = pool.submit(run_one, "project", storage, workdir / "project")
        return stock.result(), project.result()


def regressions(stock: SubRun, project: SubRun) -> list[str]:
    """Each test that passes on Scrapy's storage and not on the project's, with why."""
    if not project.report:
        return [f"all {len(stock.with_outcome(*PASSING))}: the project run did not run (exit {project.returncode}):\n{project.tail(10)}"]
    lines = []
    for nodeid in stock.with_outcome(*PASSING):
        result = project.results.get(nodeid, {"outcome": "not run", "where": "", "message": ""})
        if result["outcome"] not in PASSING:
            where = f" ({result['where']})" if result["where"] else ""
            logged = f"; logged: {result['logged']}" if result.get("logged") else ""
            lines.append(f"{nodeid}: {result['outcome']}{where}: {result['message']}{logged}")
    return lines


def storage_problems(stock: SubRun, project: SubRun) -> list[str]:
    """Proof that the project's run used the project's storage and the stock run Scrapy's."""
    problems = []
    venv_scrapy = str(Path(importlib.util.find_spec("scrapy").origin).resolve())
    for run in (stock, project):
        if not run.report:
            problems.append(f"the {run.label} run wrote no report (exit {run.returncode}):\n{run.tail()}")
            continue
        if run.report["scrapy_version"] != SCRAPY_VERSION:
            problems.append(f"the {run.label} run imported Scrapy {run.report['scrapy_version']}, not {SCRAPY_VERSION}")
        if run.report["scrapy_file"] != venv_scrapy:
            problems.append(f"the {run.label} run imported Scrapy from {run.report['scrapy_file']}, not {venv_scrapy}")
    if not (stock.report and project.report):
        return problems
    ours = project.built().get(SWAP_MARKER, 0)
    if ours == 0:
        problems.append(f"the project run never built {project.storage} for a file feed: {project.built()}")
    # Every test whose feeds Scrapy's file storage served on stock had them served by ours.
    served_by_ours = set(project.tests_building(SWAP_MARKER))
    both_passed = set(stock.with_outcome(*PASSING)) & set(project.with_outcome(*PASSING))
    not_ours = [t for t in stock.tests_building(STOCK_STORAGE) if t in both_passed and t not in served_by_ours]
    if not_ours:
        problems.append(f"on stock these used Scrapy's file storage, in the project run not {project.storage}: {', '.join(not_ours)}")
    leaked = project.tests_building(STOCK_STORAGE)
    if leaked:
        problems.append(f"in the project run, Scrapy's own file storage still served: {', '.join(leaked)}")
    for scheme in ("file", ""):
        if project.report["feed_storages_base"].get(scheme) != project.storage:
            problems.append(f"the project run's FEED_STORAGES_BASE[{scheme!r}] is {project.report['feed_storages_base'].get(scheme)}")
    if not stock.built().get(STOCK_STORAGE):
        problems.append(f"the stock run never built {STOCK_STORAGE}: {stock.built()}")
    wirecrawler_in_stock = [name for name in stock.built() if name.startswith("wirecrawler.")]
    if wirecrawler_in_stock:
        problems.append(f"the stock run built the project's storage: {wirecrawler_in_stock}")
    return problems


def main() -> int:
    problem = setup_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="scrapy-suite-") as tmp:
        stock, project = run_both(Path(tmp))
    print(stock.summary())
    print(project.summary())
    if stock.returncode != 0:
        print(f"\nthe stock run failed:\n{stock.tail()}")
    problems = storage_problems(stock, project)
    for line in problems:
        print(f"\n{line}")
    lost = regressions(stock, project)
    built = project.built().get(SWAP_MARKER, 0)
    print(f"\n{project.storage} served {built} file feeds in the project run")
    print(f"\n{len(lost)} tests pass on Scrapy's storage and not on {project.storage}:")
    for line in lost:
        print(f"  {line}")
    return 1 if (stock.returncode != 0 or problems or lost) else 0


if __name__ == "__main__":
    sys.exit(main())
