"""Crawler extensions: the seen store's life cycle, and CPython's garbage collector set for a crawl.

The run's verdict, monitors and report are the extension ``wirecrawler.runs.verdict.RunVerdict``.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from wirecrawler.config import WireConfig
from wirecrawler.store.faults import crash_point
from wirecrawler.store.feednames import kind_folders
from wirecrawler.store.seen import (
    MEMORY,
    SCHEME,
    SeenStore,
    SeenStoreBusy,
    SeenStoreError,
    SeenStoreUnavailable,
    StoreLock,
    sqlite_path,
)

if TYPE_CHECKING:  # imported when used: psycopg and boto3 only for the shared set-up
    from wirecrawler.store.objects import ObjectFeeds
    from wirecrawler.store.pgstore import SharedStore

logger = logging.getLogger(__name__)


class SeenStoreExtension:
    """The seen store's life cycle, and the feed journal that the file feeds keep in it.

    At start, holding the store's lock: migrate the store, then settle the journal a killed
    crawl left (``wirecrawler.store.seen``). During the run each file feed (``wirecrawler.feeds``)
    journals its temporary file, then the (kind, id) pairs of the valid records it holds (none
    for a ``-O``/``-o`` file) and its name before it is published; when its slot closes with the
    file published, those pairs are committed and the entry goes, in one transaction. Records
    no per-kind feed published stay uncommitted, so the next run emits them again rather than
    losing them. A store that cannot be used (another live crawl holds its lock, a
    newer schema) stops the crawl at start, before it fetches anything.

    With the shared store (``WireConfig.shared``: PostgreSQL and object storage), the lock is
    the store's lease, taken at start and renewed every third of its length while the crawl
    runs; a crawl whose lease is lost stops at once (``lease_lost``), since it may publish
    nothing more. Its feeds (``wirecrawler.objectfeeds``) commit their ids as they publish.
    """

    def __init__(self, crawler, config: WireConfig):
        self.crawler = crawler
        self.store: SeenStore | SharedStore | None = None
        self.objects: ObjectFeeds | None = None  # the shared set-up's feed storage
        self.lock: StoreLock | None = None
        self.lease_renewal: task.LoopingCall | None = None
        self.refusal: SeenStoreError | None = None  # why the store cannot be used, if it cannot
        # The (kind, id) of every record emitted and not yet published: keys only, never the
        # records, which a long run would hold by the thousand.
        self.unpublished: set[tuple[str, str]] = set()
        try:
            if config.shared:
                self._open_shared(config)
            else:
                self._open(sqlite_path(config.seen_store))
        except SeenStoreError as unusable:
            self.refusal = unusable
            crawler.signals.connect(self.refuse_to_start, signal=signals.spider_opened)
            return
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.feed_slot_closed, signal=signals.feed_slot_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)
        if config.shared:
            crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        config = WireConfig.from_settings(crawler.settings)
        if not config.seen_store_enabled:
            raise NotConfigured("WIRECRAWLER_SEEN_STORE_ENABLED is off")
        return cls(crawler, config)

    def _open(self, path: str) -> None:
        if path != MEMORY:
            self.lock = StoreLock.acquire(path)
        try:
            self.store = SeenStore.open(f"{SCHEME}{path}")
        except SeenStoreError:
            if self.lock is not None:
                self.lock.release()
            raise
        self._count_recovered(self.store.recover())

    def _open_shared(self, config: WireConfig) -> None:
        from wirecrawler.store.objects import ObjectFeeds
        from wirecrawler.store.pgstore import SharedStore

        store = SharedStore.open(config.seen_store)
        try:
            store.acquire_lease(config.lease_seconds)
            self.objects = ObjectFeeds.connect(config.feed_objects)
            recovery = store.recover(self.objects, kind_folders(self.crawler.settings.getdict("FEEDS")))
        except BaseException:
            if self.objects is not None:
                self.objects.close()
            if store.epoch is not None:
                store.release_lease()
            store.close()
            raise
        self.store = store
        self._count_recovered(recovery)
        # Holding the lease, this host's crawl is the only one: files a killed crawl was writing are garbage.
        leftovers = list(config.spool_dir.glob(".tmp-*")) if config.spool_dir.is_dir() else []
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        if leftovers:
            self.crawler.stats.inc_value("wirecrawler/recovered/temp_files_removed", len(leftovers))
        logger.info("Shared store %s: lease taken (epoch %d), feeds to %s", store.location, store.epoch, self.objects.url)

    def _count_recovered(self, recovery) -> None:
        for name, count in vars(recovery).items():
            if count:
                self.crawler.stats.inc_value(f"wirecrawler/recovered/{name}", count)

    def refuse_to_start(self, spider):
        """Closes the spider before it fetches anything. The refusal is said once, in the run's
        last line (``wirecrawler.runs.verdict``, which reads it from the stats), with the exit
        status of its reason: 75 for a store another crawl holds or a server that cannot be
        reached now, 78 for an unusable store."""
        if isinstance(self.refusal, SeenStoreBusy):
            reason = "seen_store_busy"
        elif isinstance(self.refusal, SeenStoreUnavailable):
            reason = "seen_store_unavailable"
        else:
            reason = "seen_store_unusable"
        self.crawler.stats.set_value("wirecrawler/not_started", str(self.refusal))
        raise CloseSpider(reason)

    # --- The shared store's lease.

    def spider_opened(self, spider) -> None:
        self.lease_renewal = task.LoopingCall(self._renew_lease)
        self.lease_renewal.start(self.store.lease_seconds / 3, now=False)

    def _renew_lease(self) -> None:
        try:
            self.store.renew_lease()
        except SeenStoreError as lost:  # LeaseLost, or the server gone for longer than a restart
            self.lease_renewal.stop()
            self.lease_renewal = None
            logger.error("Stopping the crawl: %s", lost)
            self.crawler.stats.set_value("wirecrawler/lease_lost", str(lost))
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="lease_lost"))

    # --- The feed journal, written by wirecrawler.feeds.FileFeedStorage.

    def feed_file_begun(self, storage) -> None:
        """A feed's temporary file is about to be created."""
        log_dir = storage.log.feed_dir if storage.log is not None else None
        self.store.journal_writing(storage.temp_path, storage.target, log_dir=log_dir, kind=storage.kind, run=storage.run)

    def feed_file_complete(self, storage, name: Path, *, renamed: bool = False) -> None:
        """A feed is about to be published as *name*, with the (kind, id) pairs of its records;
        *renamed*: it already was about to be, under a name another run has just taken."""
        if renamed:
            self.store.journal_retarget(storage.temp_path, name)
        else:
            self.store.journal_publishing(storage.temp_path, storage.keys, name)

    def feed_file_published(self, storage) -> None:
        """A feed is in place: its records reached a published feed (their ids are committed when
        its slot closes, which Scrapy may do after it stored the next feed)."""
        self.unpublished.difference_update(storage.keys)

    def has_unpublished(self, kind: str) -> bool:
        """Whether a record of *kind* emitted in this run has reached no published feed yet."""
        return any(record_kind == kind for record_kind, _ in self.unpublished)

    def feed_file_abandoned(self, storage) -> None:
        self.store.discard_unpublished(storage.temp_path)

    # --- Signals.

    def item_scraped(self, item, spider):
        record = ItemAdapter(item)
        self.unpublished.add((record["kind"], record["id"]))
        crash_point("item_scraped")

    def feed_slot_closed(self, slot):
        storage = slot.storage
        if not getattr(storage, "published", False) or getattr(storage, "committed_when_published", False):
            return
        added = self.store.commit_published(storage.temp_path)
        crash_point("after_seen_commit")
        self.crawler.stats.inc_value("wirecrawler/seen_committed", added)
        if storage.kind is not None:
            logger.info("Seen store %s: %d new ids committed after publishing %s", self.store.location, added, storage.published_path)

    def engine_stopped(self):
        if self.unpublished:
            logger.warning(
                "%d records reached no published feed; their ids stay uncommitted and the next run emits them again",
                len(self.unpublished),
            )
        if self.lease_renewal is not None:
            self.lease_renewal.stop()
        if self.objects is not None:
            self.objects.close()
            try:
                self.store.release_lease()
            except SeenStoreError as exc:  # lost already, or the server gone: it expires by itself
                logger.warning("Could not end the lease on the shared store now (%s): it expires by itself", exc)
        self.store.close()
        if self.lock is not None:
            self.lock.release()


class CollectorThreshold:
    """Extension: the youngest generation's threshold while the engine runs, restored after.

    For every response Scrapy makes and drops many short-lived container objects (asyncio tasks
    and futures, Deferreds, requests, parsed rows), and the crawl's own state grows page by page.
    At CPython's default threshold (a collection of the youngest generation every 700 net
    allocations of containers) a 2,310-page benchmark crawl ran about 2,400 collections, whose
    passes over the older generations took about a sixth of its CPU (bench/README.md). A higher
    threshold makes them rare; garbage caught in reference cycles waits a little longer for
    collection, a few MB at most. Objects freed by reference counting, nearly all of them, go at
    once either way.
    """

    def __init__(self, threshold: int):
        self.threshold = threshold
        self.saved: tuple[int, ...] | None = None

    @classmethod
    def from_crawler(cls, crawler):
        threshold = WireConfig.from_settings(crawler.settings).gc_threshold  # 0 or more
        if threshold == 0:
            raise NotConfigured("WIRECRAWLER_GC_THRESHOLD is 0: CPython's own collector settings")
        extension = cls(threshold)
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_started(self) -> None:
        self.saved = gc.get_threshold()
        gc.set_threshold(self.threshold, *self.saved[1:])
        logger.debug("Garbage collector threshold %d (was %d)", self.threshold, self.saved[0])

    def engine_stopped(self) -> None:
        if self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None
