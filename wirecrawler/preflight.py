"""The set-up a crawl needs, checked before its first request: every project setting and path.

``inspect`` reads every ``WIRECRAWLER_*`` setting once, through the config objects that own
their defaults (``WireConfig``, ``PacingConfig``, ``RenderConfig``, ``ReportConfig``,
``Thresholds``, ``RetentionConfig``, ``MetricsConfig``, ``StatusPageConfig``), and checks the
places the run writes: the state directory, the seen store's folder and URL, the feed directory
with its kind folders and its reports folder (each created, and a temporary file created and
dropped in it), and Chromium when rendering is on. Each problem is a ``SettingError``: one line naming the setting, its
value and the fix. ``check`` raises them together as a ``ConfigurationError``.

Two callers, one set of checks:
- ``scrapy crawl`` (``wirecrawler.commands.crawl``) runs them before it builds the crawler: a
  bad set-up is one line, exit 78 (EX_CONFIG), nothing fetched, no traceback, and a run report
  when the reports folder is usable;
- the ``Preflight`` extension, the first of the project's extensions (``settings.py``),
  runs them for every other way of starting a crawl (``scrapy runspider``, a ``CrawlerProcess``
  script), before the seen store is opened: there a bad set-up logs the same line and stops the
  crawler with a ``ConfigurationError``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from scrapy.exceptions import NotConfigured

from wirecrawler.config import SHARED_SCHEMES, RenamedSettings, WireConfig
from wirecrawler.metrics import MetricsConfig
from wirecrawler.middlewares import PacingConfig
from wirecrawler.render.addon import RenderConfig
from wirecrawler.retention import RetentionConfig
from wirecrawler.runs.checks import Thresholds
from wirecrawler.runs.history import ReportConfig
from wirecrawler.runs.statuspage import StatusPageConfig
from wirecrawler.settingvalues import ConfigurationError, SettingError, SettingsReader
from wirecrawler.store.seen import MEMORY, SeenStoreError, sqlite_path

logger = logging.getLogger(__name__)

WRITABLE_FOLDER = "set it to a writable folder"


@dataclass
class Findings:
    """What the preflight found: the problems, and where a refused run can still leave its report."""

    problems: list[SettingError] = field(default_factory=list)
    reports_dir: Path | None = None  # created and written to: usable; None when it is not
    reports_kept: int | None = None  # None when the setting is bad: then no report is removed

    def raise_problems(self) -> None:
        if self.problems:
            raise ConfigurationError(self.problems)


def effective_settings(settings):
    """*settings* as the crawler will have them once its add-ons ran: old names moved to the new.

    A copy; the deprecation warnings are left to the crawl itself, which gives them once.
    """
    settings = settings.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        RenamedSettings.move_old_names(settings)
    return settings


def inspect(settings) -> Findings:
    """Every problem of the set-up in *settings* (already through the add-ons: ``effective_settings``)."""
    reader = SettingsReader(settings)
    wire = WireConfig.read(reader)
    PacingConfig.read(reader)
    render = RenderConfig.read(reader)
    reports = ReportConfig.read(reader, wire.feed_dir)
    Thresholds.read(reader)
    RetentionConfig.read(reader)
    MetricsConfig.read(reader)
    StatusPageConfig.read(reader)
    found = Findings(problems=reader.problems)
    if not any(problem.name == "WIRECRAWLER_REPORTS_KEPT" for problem in found.problems):
        found.reports_kept = reports.keep

    state_value = reader.text("WIRECRAWLER_STATE_DIR", str(WireConfig.state_dir))
    found.problems += _folder_problems("WIRECRAWLER_STATE_DIR", state_value, wire.state_dir, "state directory")
    if wire.seen_store_enabled:
        found.problems += _store_problems(reader, wire)
    feed_value = reader.text("WIRECRAWLER_FEED_DIR", str(WireConfig.feed_dir))
    if wire.shared:  # the feeds go to object storage, checked when the crawl opens it; reports stay local
        feed_value = str(wire.feed_dir)
    feed_problems = _folder_problems("WIRECRAWLER_FEED_DIR", feed_value, wire.feed_dir, "feed directory")
    found.problems += feed_problems
    if not feed_problems:
        kind_folders = [] if wire.shared else _kind_folders(settings, wire.feed_dir)
        for folder, what in [*kind_folders, (reports.reports_dir, "reports folder")]:
            problems = _folder_problems("WIRECRAWLER_FEED_DIR", feed_value, folder, what)
            found.problems += problems
            if folder == reports.reports_dir and not problems:
                found.reports_dir = folder
    if wire.render and (problem := render.browser_problem()) is not None:
        found.problems.append(problem)
    return found


def check(settings) -> Findings:
    """``inspect``, raising a ``ConfigurationError`` that names every problem found."""
    found = inspect(settings)
    found.raise_problems()
    return found


def _kind_folders(settings, feed_dir: Path) -> list[tuple[Path, str]]:
    """The folders of the project's own feeds (``FEEDS`` entries with a ``wirecrawler_kind``)."""
    folders = []
    for uri, options in settings.getdict("FEEDS").items():
        kind = (options or {}).get("wirecrawler_kind")
        folder = os.path.dirname(str(uri)).replace("%(feed_dir)s", str(feed_dir))
        if kind and "%(" not in folder and "://" not in folder:
            folders.append((Path(folder), f"{kind} feed folder"))
    return folders


def _folder_problems(name: str, value: str, folder: Path, what: str) -> list[SettingError]:
    """A folder the run writes in: created if missing, then a temporary file created there."""
    named = what if str(folder) == value else f"{what} {folder}"  # the setting's value says the path
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return [SettingError(name, value, f"the {named} is a file, not a folder", WRITABLE_FOLDER)]
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return [SettingError(name, value, f"cannot create the {what} {folder} ({reason})", WRITABLE_FOLDER)]
    try:
        # A new file, anonymous (O_TMPFILE where the file system has it): nothing is left behind.
        # Empty: this asks whether the folder takes files (permissions, a read-only mount), not
        # whether the disk has room, which can change mid-run and is handled where it is written.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return [SettingError(name, value, f"cannot write in the {what} {folder} ({reason})", WRITABLE_FOLDER)]
    return []


def _store_problems(reader: SettingsReader, wire: WireConfig) -> list[SettingError]:
    """The seen store's URL, and the folder its file, journal and lock go in."""
    name = "WIRECRAWLER_SEEN_STORE"
    given = reader.raw(name)
    if wire.seen_store.startswith(SHARED_SCHEMES):
        return []  # a server: reached, and refused with its reason, when the crawl opens it
    try:
        path = sqlite_path(wire.seen_store)
    except SeenStoreError:
        fix = (
            "set it to sqlite:///path/to/seen.sqlite3 (a relative path is from the project root),"
            " or postgresql://user@host/database for several hosts"
        )
        return [SettingError(name, given, "not a SQLite store URL", fix)]
    if path == MEMORY:
        return []
    store = Path(path)
    if store.is_dir():
        return [SettingError(name, given, f"{store} is a folder, not a store file", "name a file in a writable folder")]
    if given is None and store.parent == wire.state_dir:
        return []  # the default store, in the state directory, checked as such
    return _folder_problems(name, given if given is not None else wire.seen_store, store.parent, "seen store's folder")


class Preflight:
    """Extension: the preflight for a crawl started some other way than ``scrapy crawl``.

    A bad set-up is logged as the run's last word, ``Run failed: Configuration: ...``, and stops
    the crawler with a ``ConfigurationError`` before the seen store is opened or a request is
    made. A good one leaves nothing to do: the extension then switches itself off, silently.
    """

    @classmethod
    def from_crawler(cls, crawler):
        try:
            check(crawler.settings)
        except ConfigurationError as refused:
            logger.error("Run failed: %s", refused)
            raise
        raise NotConfigured  # no message: nothing is wrong
