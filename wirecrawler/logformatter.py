"""Scrapy's log messages about pages and items, made only when they will be shown.

Scrapy asks its log formatter for a message on every response crawled and every item scraped
or dropped, and logs it even when ``LOG_LEVEL`` is above the message's level: its handler drops
the record only after the record (with the whole item) was built. At INFO that was 1.5 % of a
benchmark crawl's CPU for nothing (bench/README.md).
"""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter, LogFormatterResult


class ShownOnlyLogFormatter(LogFormatter):
    """``LOG_FORMATTER``: Scrapy's messages, none below ``LOG_LEVEL``."""

    def __init__(self, level: int):
        self.level = level

    @classmethod
    def from_crawler(cls, crawler):
        level = crawler.settings.get("LOG_LEVEL")
        if not isinstance(level, int):  # a name; one logging does not know hides nothing
            level = logging.getLevelNamesMapping().get(str(level).upper(), logging.NOTSET)
        return cls(level)

    def _shown(self, message: LogFormatterResult | None) -> LogFormatterResult | None:
        return message if message is not None and message["level"] >= self.level else None

    def crawled(self, request, response, spider):
        return self._shown(super().crawled(request, response, spider))

    def scraped(self, item, response, spider):
        return self._shown(super().scraped(item, response, spider))

    def dropped(self, item, exception, response, spider):
        return self._shown(super().dropped(item, exception, response, spider))
