"""CPython's garbage collector, set for a crawl.

For every response Scrapy makes and drops many short-lived container objects (asyncio tasks
and futures, Deferreds, requests, parsed rows), and the crawl's own state grows page by page.
At CPython's default threshold (a collection of the youngest generation every 700 net
allocations of containers) a 2,310-page benchmark crawl ran about 2,400 collections, whose
passes over the older generations took about a sixth of its CPU (bench/README.md). A higher
threshold makes them rare; garbage caught in reference cycles waits a little longer for
collection, a few MB at most. Objects freed by reference counting, nearly all of them, go at
once either way.
"""

from __future__ import annotations

import gc
import logging

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class CollectorThreshold:
    """Extension: the youngest generation's threshold while the engine runs, restored after."""

    def __init__(self, threshold: int):
        self.threshold = threshold
        self.saved: tuple[int, ...] | None = None

    @classmethod
    def from_crawler(cls, crawler):
        threshold = crawler.settings.getint("WIRECRAWLER_GC_THRESHOLD")
        if threshold <= 0:
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
