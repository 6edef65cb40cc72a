"""Item pipelines: sightings become records, then duplicates are dropped before the feeds."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from wirecrawler.extensions import SeenStoreExtension
from wirecrawler.items import HoldsSightings, Sighting
from wirecrawler.news.records import RECORD_CLASSES, build_record
from wirecrawler.runs.checks import Thresholds

logger = logging.getLogger(__name__)


class RecordPipeline:
    """Normalises a sighting into a feed record: repaired text, dateline, id and resolved time.

    Counts every record it builds, new or not, and how many have each field the monitors
    watch filled (``wirecrawler.runs.checks``): a layout change shows there even when nothing is new.

    A run that closes before it went idle (SIGTERM, SIGINT: "shutdown") never gets to the
    spider's release of its sightings (``spider_idle``). Scrapy closes the item pipelines after
    the responses in flight are scraped and before ``spider_closed`` closes the feeds: the last
    moment items can still reach a feed. So on closing, this first stage takes what the spider
    still holds (leads of the fetched articles, briefs of the fetched listing pages) through the
    pipelines; what was not fetched stays unseen and comes in the next run. After a finished
    run the spider holds nothing and this does nothing.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.watched_fields = list(Thresholds.from_settings(crawler.settings).min_fill_rates)
        # Per record: one count for its kind and one per watched field filled. The stat names are
        # made once: formatting them per record cost a fifth of this pipeline (bench/README.md, fifth round).
        self._built_stat = {kind: f"wirecrawler/records_built/{kind}" for kind in RECORD_CLASSES}
        self._filled_stats = {
            kind: [(name, f"wirecrawler/fields_filled/{kind}/{name}") for name in self.watched_fields]
            for kind in RECORD_CLASSES
        }

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, Sighting):
            return item
        built = build_record(item)
        for problem in built.problems:
            self.stats.inc_value("wirecrawler/labels_unreadable")
            logger.warning("Unreadable time label for %s: %s", item.url or item.source_url, problem)
        kind = built.record.kind
        self.stats.inc_value(self._built_stat[kind])
        record = ItemAdapter(built.record)
        for name, stat in self._filled_stats[kind]:
            if record[name]:
                self.stats.inc_value(stat)
        return built.record

    async def close_spider(self):
        spider = self.crawler.spider
        if not isinstance(spider, HoldsSightings) or not spider.holds_sightings():
            return
        sightings = spider.release()
        logger.warning("Closing before the crawl finished: releasing the %d sightings collected so far", len(sightings))
        for sighting in sightings:
            await self.crawler.engine.scraper.start_itemproc_async(sighting, response=None)


class DuplicateRecord(DropItem):
    """A record whose (kind, id) this run already emitted or a published feed already holds.

    Routine, not a warning: every run reads again the stories the listing still shows. Scrapy
    would log each at WARNING with the whole item; the ``records_parsed`` monitor counts them.
    """

    def __init__(self, message: str):
        super().__init__(message, log_level="DEBUG")


class DedupePipeline:
    """Every (kind, id) once per run, and never again once it reached a published feed."""

    def __init__(self, crawler):
        self.stats = crawler.stats
        extension = crawler.get_extension(SeenStoreExtension)
        self.store = extension.store if extension else None
        self.emitted: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        adapter = ItemAdapter(item)
        key = (adapter["kind"], adapter["id"])
        if key in self.emitted:
            self.stats.inc_value("wirecrawler/dropped/duplicate_in_run")
            raise DuplicateRecord(f"{key[0]} {key[1]} already emitted in this run")
        if self.store is not None and self.store.contains(*key):
            self.stats.inc_value("wirecrawler/dropped/seen_before")
            raise DuplicateRecord(f"{key[0]} {key[1]} already published by an earlier run")
        self.emitted.add(key)
        self.stats.inc_value(f"wirecrawler/emitted/{key[0]}")
        return item
