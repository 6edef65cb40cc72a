"""pytest plugin for a sub-run of Scrapy's own feed-export tests (``tests/scrapy_suite/run.py``).

Loaded with ``-p wirecrawler_scrapy_suite`` into a pytest that runs from a copy of Scrapy's
sdist, never into the project's own pytest (this folder is on the sub-run's ``PYTHONPATH`` only,
under a top-level name: Scrapy's tests are the package ``tests`` there, so the project's
``tests`` must not be imported into that process).

``--wirecrawler-storage=DOTTED.PATH`` replaces Scrapy's file storage by that class the way a
project does, in the base settings every ``Settings()`` starts from: ``FEED_STORAGES_BASE``
``"file"`` and ``""`` (a bare path). That happens in ``pytest_configure``, before any test module
is collected or any crawler built. Without it the run is stock.

``--wirecrawler-report=PATH`` turns the plugin on: at the end it writes there, as JSON, every
test's outcome with a one-line reason, the Scrapy it imported, and which storage classes the
feed exporter built for ``file`` feeds, per test (counted by wrapping
``FeedExporter._get_storage``, which every storage the exporter uses goes through). Without it
the plugin does nothing.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

_FILE_SCHEMES = ("file", "")  # the keys a project's FEED_STORAGES sets for its file storage


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wirecrawler", "wirecrawler: Scrapy's tests on the project's feed storage")
    group.addoption(
        "--wirecrawler-storage",
        default="",
        metavar="DOTTED.PATH",
        help="feed storage class to use for file feeds in place of Scrapy's (empty: stock)",
    )
    group.addoption("--wirecrawler-report", default=None, metavar="PATH", help="write the run's JSON report there")


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _one_line(text: str, limit: int = 300) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    # pytest's repr of a big dict (a crawler's stats) is cut to its first keys: noise here.
    line = re.sub(r" in \{.*, \.\.\.\}$", " in {...}", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


_LOG_RECORD = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure)\b.*")


def _logged_error(caplog: str) -> str:
    """The first ERROR the test logged, as its exception and where it was raised, in one line.

    A feed that fails to store does not fail the crawl: Scrapy logs it, and the test then fails
    on a missing file or stat, which says nothing about why.
    """
    lines = caplog.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith(("ERROR", "CRITICAL")):
            continue
        message = line.split(None, 2)[-1]
        frame = None
        for follow in lines[index + 1 :]:
            if follow.startswith(_LOG_RECORD):
                break
            if match := _FRAME.match(follow):
                frame = match
            elif _EXCEPTION.match(follow):
                if frame is None:
                    return _one_line(follow)
                where = "/".join(Path(frame["file"]).parts[-2:])
                return _one_line(f"{follow} (raised at {where}:{frame['line']} in {frame['func']})")
        return _one_line(message)
    return ""


class Recorder:
    def __init__(self, config: pytest.Config, report_path: Path, storage: str) -> None:
        self.config = config
        self.report_path = report_path
        self.storage = storage
        self.current: str | None = None
        # nodeid -> Counter of class paths the exporter built for file feeds
        self.built: dict[str, Counter[str]] = {}
        # nodeid -> {"outcome": ..., "where": "path:line", "message": ..., "logged": first ERROR logged}
        self.results: dict[str, dict[str, str]] = {}

    # -- the swap and the count ----------------------------------------------------------------

    def install(self) -> None:
        import scrapy
        from scrapy.extensions.feedexport import FeedExporter
        from scrapy.settings import default_settings
        from scrapy.utils.misc import load_object

        self.scrapy_version = scrapy.__version__
        self.scrapy_file = str(Path(scrapy.__file__).resolve())
        self.swap_class = None
        if self.storage:
            try:
                self.swap_class = load_object(self.storage)
            except Exception as exc:
                raise pytest.UsageError(f"--wirecrawler-storage={self.storage}: cannot load it: {exc!r}") from exc
            if not isinstance(self.swap_class, type):
                raise pytest.UsageError(f"--wirecrawler-storage={self.storage} is not a class")
            for scheme in _FILE_SCHEMES:
                default_settings.FEED_STORAGES_BASE[scheme] = self.storage
        self.storages_base = dict(default_settings.FEED_STORAGES_BASE)

        original = FeedExporter._get_storage
        recorder = self

        def _get_storage(exporter: Any, uri: str, feed_options: dict[str, Any]) -> Any:
            storage = original(exporter, uri, feed_options)
            scheme = urlparse(uri).scheme
            if scheme in _FILE_SCHEMES or scheme not in exporter.storages:
                recorder.note(type(storage))
            return storage

        FeedExporter._get_storage = _get_storage

    def note(self, cls: type) -> None:
        key = self.current or "<outside a test>"
        self.built.setdefault(key, Counter())[_class_path(cls)] += 1
        if self.swap_class is not None and cls is self.swap_class:
            self.built[key]["<the --wirecrawler-storage class>"] += 1

    # -- outcomes --------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        self.current = item.nodeid
        try:
            return (yield)
        finally:
            self.current = None

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # A test (or fixture) that reset the base settings would quietly run on another storage.
        if self.storage:
            from scrapy.settings import default_settings

            for scheme in _FILE_SCHEMES:
                assert default_settings.FEED_STORAGES_BASE[scheme] == self.storage, (
                    f"FEED_STORAGES_BASE[{scheme!r}] is no longer {self.storage}"
                )

    def _record(self, nodeid: str, outcome: str, report: pytest.TestReport | pytest.CollectReport) -> None:
        where, message = "", ""
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
            where, message = f"{longrepr[0]}:{longrepr[1]}", longrepr[2]
        elif getattr(longrepr, "reprcrash", None) is not None:
            crash = longrepr.reprcrash
            path = Path(crash.path)
            if path.is_relative_to(self.config.rootpath):
                path = path.relative_to(self.config.rootpath)
            where, message = f"{path}:{crash.lineno}", crash.message
        elif longrepr is not None:
            message = str(longrepr).strip().splitlines()[-1] if str(longrepr).strip() else ""
        if not message and getattr(report, "wasxfail", ""):
            message = report.wasxfail
        logged = _logged_error(report.caplog) if outcome in ("failed", "error") else ""
        self.results[nodeid] = {"outcome": outcome, "where": where, "message": _one_line(message), "logged": logged}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.results.get(report.nodeid, {}).get("outcome") in ("failed", "error"):
            return  # the first failure says why; what comes after it adds nothing
        if report.failed:
            self._record(report.nodeid, "failed" if report.when == "call" else "error", report)
        elif report.skipped:
            self._record(report.nodeid, "xfailed" if hasattr(report, "wasxfail") else "skipped", report)
        elif report.when == "call":
            self._record(report.nodeid, "xpassed" if hasattr(report, "wasxfail") else "passed", report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._record(report.nodeid or "<collection>", "error", report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        report = {
            "scrapy_version": self.scrapy_version,
            "scrapy_file": self.scrapy_file,
            "storage": self.storage,
            "swap_class": _class_path(self.swap_class) if self.swap_class is not None else None,
            "feed_storages_base": self.storages_base,
            "exitstatus": int(exitstatus),
            "results": self.results,
            "built": {nodeid: dict(counts) for nodeid, counts in self.built.items()},
        }
        self.report_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.report_path.with_name(self.report_path.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.report_path)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    report_path = config.getoption("wirecrawler_report")
    if not report_path:
        return
    recorder = Recorder(config, Path(report_path), config.getoption("wirecrawler_storage") or "")
    recorder.install()
    config.pluginmanager.register(recorder, "wirecrawler-scrapy-suite-recorder")
