"""Feed retention: at the end of a run, the feed files older than a number of days are pruned.

``FeedRetention`` is an extension, off by default. With ``-s WIRECRAWLER_FEED_RETENTION_DAYS=N``
(days, a fraction allowed) it prunes the feed directory once the engine has stopped, after the
run's own feeds were published: each file the publication log entered more than N days ago is
deleted and a ``pruned`` entry appended for it (``wirecrawler.store.readers.prune``), so a reader
following the log is told the file went on purpose. Files the log does not name are never touched.
``python -m wirecrawler feeds prune --keep-days N`` does the same by hand. In the shared set-up
(``WireConfig.shared``) it prunes the log in PostgreSQL and the objects it names, over
connections of its own: the crawl's store is closed, and its lease ended, by then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from scrapy import signals
from scrapy.exceptions import NotConfigured

from wirecrawler.config import WireConfig
from wirecrawler.settingvalues import SettingsReader, read_strictly
from wirecrawler.store.readers import FeedPlace, LocalFeeds, LogUnreadable, SharedFeeds, prune
from wirecrawler.store.seen import SeenStoreError

logger = logging.getLogger(__name__)

SETTING = "WIRECRAWLER_FEED_RETENTION_DAYS"
STAT = "wirecrawler/feeds_pruned"


@dataclass(frozen=True)
class RetentionConfig:
    keep_days: float = 0  # feed files entered longer ago than this are pruned after each run; 0: kept forever

    @classmethod
    def from_settings(cls, settings) -> RetentionConfig:
        """From Scrapy settings: ``WIRECRAWLER_FEED_RETENTION_DAYS``, a number of days, 0 or more.

        Raises ``SettingError`` for a value it cannot use."""
        return read_strictly(settings, cls.read)

    @classmethod
    def read(cls, reader: SettingsReader) -> RetentionConfig:
        """As ``from_settings``; a bad value is recorded in *reader* and its default used."""
        days = reader.number(SETTING, cls.keep_days, "the days feed files are kept", minimum=0, note="0: forever")
        return cls(keep_days=days)


class FeedRetention:
    """Prunes feed files older than ``WIRECRAWLER_FEED_RETENTION_DAYS`` when the engine stops.

    Logs one INFO line with the number of files pruned and counts them in the stat
    ``wirecrawler/feeds_pruned``. A file that cannot be deleted, or a log that cannot be read or
    appended to, is logged at ERROR with its path and stops the pruning, never the process.
    """

    def __init__(self, crawler, config: RetentionConfig, wire: WireConfig):
        self.crawler = crawler
        self.keep_days = config.keep_days
        self.wire = wire
        self.feed_dir = wire.feed_root  # for messages: the folder, or s3://bucket/prefix

    @classmethod
    def from_crawler(cls, crawler):
        config = RetentionConfig.from_settings(crawler.settings)
        if config.keep_days == 0:
            raise NotConfigured  # no message: keeping files is the normal case, not worth a warning
        extension = cls(crawler, config, WireConfig.from_settings(crawler.settings))
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        stats = self.crawler.stats
        pruned = []
        stats.set_value(STAT, 0)

        def count(file) -> None:
            pruned.append(file)
            stats.inc_value(STAT)

        try:
            place = self._place()
        except SeenStoreError as exc:
            logger.error("Feed retention could not open %s, nothing pruned: %s", self.feed_dir, exc)
            return
        try:
            result = prune(place, self.keep_days, datetime.now(UTC), on_pruned=count)
        except SeenStoreError as exc:  # the shared store or object storage gone mid-prune
            logger.error("Feed retention stopped after pruning %d files: %s", len(pruned), exc)
            return
        except OSError as exc:
            logger.error(
                "Feed retention stopped after pruning %d files: %s: %s",
                len(pruned),
                exc.filename or self.feed_dir,
                exc.strerror or exc,
            )
            return
        except LogUnreadable as exc:
            logger.error("Feed retention could not read the publication log, nothing pruned: %s", exc)
            return
        finally:
            place.close()
        for problem in result.problems:
            logger.warning("Feed retention in %s: %s", self.feed_dir, problem)
        missing = sum(file.was_missing for file in pruned)
        logger.info(
            "Feed retention: %d files older than %g days pruned from %s%s",
            len(pruned),
            self.keep_days,
            self.feed_dir,
            f" ({missing} of them were missing already)" if missing else "",
        )

    def _place(self) -> FeedPlace:
        if not self.wire.shared:
            return LocalFeeds(self.wire.feed_dir)
        from wirecrawler.store.objects import ObjectFeeds
        from wirecrawler.store.pgstore import SharedStore

        store = SharedStore.open(self.wire.seen_store)
        try:
            return SharedFeeds(store, ObjectFeeds.connect(self.wire.feed_objects))
        except BaseException:
            store.close()
            raise
