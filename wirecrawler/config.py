"""The project's own settings: their names, the old names they replace, and the paths a run uses.

Every project setting is named ``WIRECRAWLER_*`` and has its default written once, in the
config object that reads it; ``settings.py`` holds Scrapy's own settings only.

- ``WireConfig`` (below): ``WIRECRAWLER_STATE_DIR``, ``_FEED_DIR``, ``_SEEN_STORE``,
  ``_SEEN_STORE_ENABLED``, ``_LEASE_SECONDS``, ``_RENDER``, ``_GC_THRESHOLD``;
- ``wirecrawler.middlewares.PacingConfig``: ``WIRECRAWLER_RETRY_AFTER_MAX``, ``_RETRY_BACKOFF``;
- ``wirecrawler.render.addon.RenderConfig``: ``WIRECRAWLER_RENDER_CHROMIUM``,
  ``_RENDER_MAX_PAGES``, ``_RENDER_WAIT_TIMEOUT``;
- ``wirecrawler.runs.history.ReportConfig``: ``WIRECRAWLER_REPORTS_KEPT``;
- ``wirecrawler.retention.RetentionConfig``: ``WIRECRAWLER_FEED_RETENTION_DAYS``;
- ``wirecrawler.metrics.MetricsConfig``: ``WIRECRAWLER_METRICS_DIR``;
- ``wirecrawler.runs.statuspage.StatusPageConfig``: ``WIRECRAWLER_STATUS_PAGE``;
- ``wirecrawler.runs.checks.Thresholds``: the monitors' ``WIRECRAWLER_MIN_ROWS_PER_LISTING_PAGE``,
  ``_MIN_FILL_RATES``, ``_FILL_RATE_MIN_RECORDS``, ``_MIN_LEAD_SHARE``, ``_MAX_RETRIES``,
  ``_MAX_RUN_GAP_MINUTES``, ``_FAIL_ON_RUN_GAP``;
- ``wirecrawler.metrics.MetricsConfig``: ``WIRECRAWLER_METRICS_DIR``;
- ``wirecrawler.runs.statuspage.StatusPageConfig``: ``WIRECRAWLER_STATUS_PAGE``.

Settings named before that rule keep working for one release: the ``RenamedSettings`` add-on
copies each old name to its new one, with a deprecation warning naming the new one.

Each config object reads its settings through a ``wirecrawler.settingvalues.SettingsReader``, which
checks every value: a bad one is a ``SettingError`` naming the setting, its value and the fix.
``wirecrawler.preflight`` reads them all, and checks the paths a run needs, before the first request.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.utils.conf import closest_scrapy_cfg

from wirecrawler.settingvalues import SettingsReader, read_strictly

# Old name -> new name. Remove an entry one release after it was added.
RENAMED = {
    "SEEN_STORE": "WIRECRAWLER_SEEN_STORE",
    "SEEN_STORE_ENABLED": "WIRECRAWLER_SEEN_STORE_ENABLED",
    "RENDER": "WIRECRAWLER_RENDER",
    "RENDER_CHROMIUM": "WIRECRAWLER_RENDER_CHROMIUM",
    "RENDER_MAX_PAGES": "WIRECRAWLER_RENDER_MAX_PAGES",
    "RENDER_WAIT_TIMEOUT": "WIRECRAWLER_RENDER_WAIT_TIMEOUT",
    # Inside Scrapy's own RETRY_* names, where they read as Scrapy's.
    "RETRY_AFTER_MAX": "WIRECRAWLER_RETRY_AFTER_MAX",
    "RETRY_BACKOFF": "WIRECRAWLER_RETRY_BACKOFF",
}


class RenamedSettings:
    """``ADDONS`` entry, first of the project's: an old setting name still works, with a warning.

    An old name's value moves to the new name at the old name's priority, unless the new name
    is set too: then the new one wins. Components read only the new names.
    """

    def update_settings(self, settings) -> None:
        self.move_old_names(settings)

    @staticmethod
    def move_old_names(settings) -> None:
        """Each old name set moves to its new one (with a warning), unless the new one wins."""
        for old, new in RENAMED.items():
            old_priority = settings.getpriority(old)
            if old_priority is None:
                continue
            warnings.warn(
                f"The setting {old} is deprecated and will be removed in the next release: use {new}",
                ScrapyDeprecationWarning,
                stacklevel=3,  # where the add-on is applied
            )
            new_priority = settings.getpriority(new)
            if new_priority is None or new_priority < old_priority:
                settings.set(new, settings[old], priority=old_priority)


def project_root() -> Path:
    """The folder of the project's ``scrapy.cfg``, found from the working directory upward, as
    Scrapy finds its settings; the working directory when there is none (a Scrapyd egg)."""
    cfg = closest_scrapy_cfg()
    return Path(cfg).parent if cfg else Path.cwd()


def _from_project_root(path: Path) -> Path:
    """A relative path in a setting means the same place from wherever the crawl is started."""
    return path if path.is_absolute() else project_root() / path


OBJECT_SCHEME = "s3://"  # wirecrawler.store.objects.SCHEME, without importing boto3's side
SHARED_SCHEMES = ("postgresql://", "postgres://")  # wirecrawler.store.pgstore.SCHEMES


@dataclass(frozen=True)
class WireConfig:
    """Where a run keeps its state and publishes its feeds, and what it does beyond Scrapy.

    Two set-ups: one host (a SQLite store, feeds in a local folder with its publication log),
    or several hosts (``WIRECRAWLER_SEEN_STORE=postgresql://…`` and ``WIRECRAWLER_FEED_DIR=
    s3://bucket/prefix``: the log, the seen set and the crawl lease in PostgreSQL, the files in
    object storage; ``wirecrawler.store.pgstore``). Then ``feed_dir`` is a local folder of the
    host's own, ``<state dir>/feeds``, for its run reports and the files being written.
    """

    # Relative paths are relative to the project root, wherever the crawl is started from.
    state_dir: Path = Path(".wirecrawler")  # the seen store and run state live here
    feed_dir: Path = Path("feeds")  # feeds/leads/, feeds/briefs/, feeds/reports/ and the publication log
    seen_store: str | None = None  # sqlite:///path or postgresql://…; None: seen.sqlite3 in the state directory
    seen_store_enabled: bool = True  # off: every run publishes everything it parses (tests only)
    feed_objects: str | None = None  # s3://bucket/prefix: the feeds go to object storage (several hosts)
    # How long the shared store's lease outlives its last renewal: a crawl that dies holds it
    # that long at most. Renewed every third of it while the crawl runs.
    lease_seconds: float = 120.0
    render: bool = False  # listing and article pages rendered in Chromium (wirecrawler.render)
    gc_threshold: int = 10_000  # CPython's youngest-generation threshold in a crawl; 0: CPython's own

    @classmethod
    def from_settings(cls, settings) -> WireConfig:
        """The settings, with relative paths resolved against the project root (``project_root``).

        Raises ``SettingError`` for a value it cannot use."""
        return read_strictly(settings, cls.read)

    @classmethod
    def read(cls, reader: SettingsReader) -> WireConfig:
        """As ``from_settings``; a bad value is recorded in *reader* and its default used."""
        state_dir = _from_project_root(Path(reader.text("WIRECRAWLER_STATE_DIR", str(cls.state_dir))))
        seen_store = reader.text("WIRECRAWLER_SEEN_STORE", f"sqlite:///{state_dir / 'seen.sqlite3'}")
        feed_value = reader.text("WIRECRAWLER_FEED_DIR", str(cls.feed_dir))
        feed_objects = feed_value if feed_value.startswith(OBJECT_SCHEME) else None
        shared = seen_store.startswith(SHARED_SCHEMES)
        if feed_objects and not shared:
            reader.problem(
                "WIRECRAWLER_FEED_DIR", feed_value, "feeds in object storage need the shared store, whose log publishes them",
                "set WIRECRAWLER_SEEN_STORE=postgresql://user@host/database too, or use a local folder",
            )  # fmt: skip
        elif shared and not feed_objects:
            reader.problem(
                "WIRECRAWLER_SEEN_STORE", seen_store, "the shared store publishes to object storage, not a local folder",
                "set WIRECRAWLER_FEED_DIR=s3://bucket/prefix too, or use a sqlite:/// store",
            )  # fmt: skip
        return cls(
            state_dir=state_dir,
            feed_dir=state_dir / "feeds" if feed_objects else _from_project_root(Path(feed_value)),
            seen_store=_sqlite_url_from_project_root(seen_store),
            seen_store_enabled=reader.boolean(
                "WIRECRAWLER_SEEN_STORE_ENABLED", cls.seen_store_enabled, "the seen store"
            ),
            feed_objects=feed_objects,
            lease_seconds=reader.number(
                "WIRECRAWLER_LEASE_SECONDS", cls.lease_seconds, "the shared store's lease", minimum=3.0, maximum=86400.0,
            ),
            render=reader.boolean("WIRECRAWLER_RENDER", cls.render, "rendering in Chromium"),
            gc_threshold=reader.whole(
                "WIRECRAWLER_GC_THRESHOLD", cls.gc_threshold, "the garbage collector's threshold",
                minimum=0, note="0: CPython's own",
            ),
        )  # fmt: skip

    @property
    def shared(self) -> bool:
        """Several hosts: the store in PostgreSQL, the feeds in object storage."""
        return self.feed_objects is not None

    @property
    def spool_dir(self) -> Path:
        """The shared set-up's local folder for feed files being written, before their upload."""
        return self.feed_dir / "spool"

    @property
    def feed_root(self) -> str:
        """Where the per-kind feeds and their log go: the object storage URL, or the local folder."""
        return self.feed_objects or str(self.feed_dir)


def _sqlite_url_from_project_root(url: str) -> str:
    """``sqlite:///relative/path`` made absolute against the project root; other values as they are
    (the store refuses what it cannot use, with a message naming the setting)."""
    prefix = "sqlite:///"
    path = url[len(prefix) :] if url.startswith(prefix) else None
    if not path or path == ":memory:" or path.startswith("/"):
        return url
    return f"{prefix}{project_root() / path}"
