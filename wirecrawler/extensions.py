"""Crawler extensions: the seen store's life cycle, and the run's outcome as an exit status."""

from __future__ import annotations

import logging
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured

from wirecrawler.config import WireConfig
from wirecrawler.faults import crash_point
from wirecrawler.monitoring import RunMonitors
from wirecrawler.seen import MEMORY, SCHEME, SeenStore, SeenStoreBusy, SeenStoreError, StoreLock, sqlite_path

logger = logging.getLogger(__name__)


class SeenStoreExtension:
    """The seen store's life cycle, and the feed journal that the file feeds keep in it.

    At start, holding the store's lock: migrate the store, then settle the journal a killed
    crawl left (``wirecrawler.seen``). During the run each file feed (``wirecrawler.feeds``)
    journals its temporary file, then the (kind, id) pairs it holds before the rename; when its
    slot closes with the file published, those pairs are committed and the entry goes, in one
    transaction. Records no feed published stay uncommitted, so the next run emits them again
    rather than losing them. A store that cannot be used (another live crawl holds its lock, a
    newer schema) stops the crawl at start, before it fetches anything.
    """

    def __init__(self, crawler, config: WireConfig):
        self.crawler = crawler
        self.store: SeenStore | None = None
        self.lock: StoreLock | None = None
        self.refusal: SeenStoreError | None = None  # why the store cannot be used, if it cannot
        self.unpublished: list = []
        try:
            self._open(sqlite_path(config.seen_store))
        except SeenStoreError as unusable:
            self.refusal = unusable
            crawler.signals.connect(self.refuse_to_start, signal=signals.spider_opened)
            return
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.feed_slot_closed, signal=signals.feed_slot_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("SEEN_STORE_ENABLED", True):
            raise NotConfigured("SEEN_STORE_ENABLED is off")
        return cls(crawler, WireConfig.from_settings(crawler.settings))

    def _open(self, path: str) -> None:
        if path != MEMORY:
            self.lock = StoreLock.acquire(path)
        try:
            self.store = SeenStore.open(f"{SCHEME}{path}")
        except SeenStoreError:
            if self.lock is not None:
                self.lock.release()
            raise
        recovery = self.store.recover()
        for name, count in vars(recovery).items():
            if count:
                self.crawler.stats.inc_value(f"wirecrawler/recovered/{name}", count)

    def refuse_to_start(self, spider):
        busy = isinstance(self.refusal, SeenStoreBusy)
        logger.error("Not starting: %s", self.refusal)
        raise CloseSpider("seen_store_busy" if busy else "seen_store_unusable")

    # --- The feed journal, written by wirecrawler.feeds.AtomicFileFeedStorage.

    def feed_file_begun(self, temp: Path, target: Path) -> None:
        self.store.journal_writing(temp, target)

    def feed_file_complete(self, storage) -> None:
        """Journal the pairs of a feed about to be renamed: this run's records its filter takes."""
        accepted = (ItemAdapter(item) for item in self.unpublished if storage.item_filter.accepts(item))
        self.store.journal_publishing(storage.temp_path, [(item["kind"], item["id"]) for item in accepted])

    def feed_file_abandoned(self, temp: Path) -> None:
        self.store.discard_unpublished(temp)

    # --- Signals.

    def item_scraped(self, item, spider):
        self.unpublished.append(item)
        crash_point("item_scraped")

    def feed_slot_closed(self, slot):
        if not getattr(slot.storage, "published", False):
            return
        added = self.store.commit_published(slot.storage.temp_path)
        crash_point("after_seen_commit")
        self.unpublished = [item for item in self.unpublished if not slot.filter.accepts(item)]
        self.crawler.stats.inc_value("wirecrawler/seen_committed", added)
        logger.info("Seen store %s: %d new ids committed after publishing %s", self.store.location, added, slot.uri)

    def engine_stopped(self):
        if self.unpublished:
            logger.warning(
                "%d records reached no published feed; their ids stay uncommitted and the next run emits them again",
                len(self.unpublished),
            )
        self.store.close()
        if self.lock is not None:
            self.lock.release()


class RunOutcome:
    """Decides whether the run failed; ``scrapy crawl`` (wirecrawler.commands.crawl) exits by it.

    Scrapy exits 0 when requests failed, when a callback or a pipeline raised, or when a
    feed could not be stored. Every such event is logged at ERROR level by Scrapy or by this
    project, so a run fails when it logged an error, and the reasons name the counters.
    A failed end-of-run monitor (``wirecrawler.monitoring.RunMonitors``) fails it too.
    """

    REASONS = {
        "wirecrawler/requests_failed": "requests failed",
        "wirecrawler/layout_drift": "listing pages had no rows (layout drift)",
        "spider_exceptions/count": "spider callbacks raised",
        "wirecrawler/item_errors": "item pipelines raised",
        "log_count/ERROR": "errors were logged",
        "log_count/CRITICAL": "critical errors were logged",
    }

    def __init__(self, crawler):
        self.crawler = crawler
        self.finish_reason: str | None = None
        crawler.signals.connect(self.item_error, signal=signals.item_error)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def item_error(self, item, response, spider, failure):
        self.crawler.stats.inc_value("wirecrawler/item_errors")

    def spider_closed(self, spider, reason):
        self.finish_reason = reason

    def failures(self) -> list[str]:
        """Why the run failed, one phrase per cause; empty when it did not."""
        stats = self.crawler.stats
        found = [f"{count} {text}" for key, text in self.REASONS.items() if (count := stats.get_value(key, 0))]
        found += [
            f"{count} feeds could not be stored ({key})"
            for key, count in stats.get_stats().items()
            if key.startswith("feedexport/failed_count/") and count
        ]
        if self.finish_reason != "finished":
            found.append(f"the spider closed with reason {self.finish_reason!r}")
        monitors = self.crawler.get_extension(RunMonitors)
        if monitors is not None:
            found += monitors.failures()
        return found
