"""Crawler extensions: the seen store's life cycle, and the run's outcome as an exit status."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured

from wirecrawler.config import WireConfig
from wirecrawler.seen import SeenStore

logger = logging.getLogger(__name__)


class SeenStoreExtension:
    """Opens the seen store for the run and commits ids once the feed holding them is published.

    Records reach the feeds through ``item_scraped``; each feed slot that closes with its file
    published commits the records it accepted. Records no feed published stay uncommitted, so
    the next run emits them again rather than losing them.
    """

    def __init__(self, crawler, config: WireConfig):
        self.crawler = crawler
        self.store = SeenStore.open(config.seen_store)
        self.unpublished: list = []
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.feed_slot_closed, signal=signals.feed_slot_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("SEEN_STORE_ENABLED", True):
            raise NotConfigured("SEEN_STORE_ENABLED is off")
        return cls(crawler, WireConfig.from_settings(crawler.settings))

    def item_scraped(self, item, spider):
        self.unpublished.append(item)

    def feed_slot_closed(self, slot):
        if not getattr(slot.storage, "published", False):
            return
        accepted = [item for item in self.unpublished if slot.filter.accepts(item)]
        keys = [(ItemAdapter(item)["kind"], ItemAdapter(item)["id"]) for item in accepted]
        added = self.store.commit(keys)
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


class RunOutcome:
    """Decides whether the run failed; ``scrapy crawl`` (wirecrawler.commands.crawl) exits by it.

    Scrapy exits 0 when requests failed, when a callback or a pipeline raised, or when a
    feed could not be stored. Every such event is logged at ERROR level by Scrapy or by this
    project, so a run fails when it logged an error, and the reasons name the counters.
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
        return found
