"""The ``buitenland`` spider: the section listing, page by page, and the articles it links to.

The spider only fetches and reads pages (through ``wirecrawler.pages``) into the run's story
book. Once nothing more can arrive it releases the book's sightings to the item pipelines,
which turn them into records, drop what was seen, and hand the rest to the feeds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import cached_property
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from wirecrawler.extensions import SeenStoreExtension
from wirecrawler.pages import Page, belongs_to_section, parse_page
from wirecrawler.stories import StoryBook, all_older_than
from wirecrawler.timeline import parse_http_date

logger = logging.getLogger(__name__)

DEFAULT_START_URL = "https://www.zeelandnet.nl/nieuws/buitenland"
DEFAULT_MAX_PAGES = 10
DEFAULT_MAX_AGE_HOURS = 48.0
PAGE_KIND = "wirecrawler_page"  # request meta: "listing", "article" or "release"
RELEASE_URL = "data:,release"


def _positive(name: str, value, convert):
    try:
        number = convert(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number <= 0:
        raise ValueError(f"-a {name} must be a positive number, not {value!r}")
    return number


class BuitenlandSpider(scrapy.Spider):
    name = "buitenland"

    def __init__(
        self,
        start_url: str = DEFAULT_START_URL,
        max_pages: int | str = DEFAULT_MAX_PAGES,
        max_age_hours: float | str = DEFAULT_MAX_AGE_HOURS,
        *args,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        parts = urlsplit(start_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"-a start_url must be an http(s) URL, not {start_url!r}")
        self.start_url = start_url
        self.allowed_domains = [parts.hostname]
        self.max_pages = _positive("max_pages", max_pages, int)
        self.max_age = timedelta(hours=_positive("max_age_hours", max_age_hours, float))
        self.book = StoryBook()
        self.run_started = datetime.now(UTC)  # names the run's feed files

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.release_stories, signal=signals.spider_idle)
        return spider

    @cached_property
    def seen_store(self):
        """The run's seen store (extensions are built after the spider), or None when it is off."""
        extension = self.crawler.get_extension(SeenStoreExtension)
        return extension.store if extension else None

    async def start(self):
        yield self._request(self.start_url, "listing", self.parse_listing, page_number=1)

    def _request(self, url: str, kind: str, callback, **meta) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.request_failed, meta={PAGE_KIND: kind, **meta})

    def _inc(self, key: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(f"wirecrawler/{key}", count)

    def _reference(self, response) -> datetime:
        """The instant the page's time labels count back from: its ``Date`` header."""
        reference = parse_http_date(response.headers.get("Date"))
        if reference is None:
            self._inc("date_header_unusable")
            logger.warning("No usable Date header on %s; its times count from the local clock", response.url)
            reference = datetime.now(UTC)
        return reference

    def _read(self, response) -> Page | None:
        if not hasattr(response, "text"):
            self._inc("pages_malformed")
            logger.warning("Not a text page: %s (%s)", response.url, response.headers.get("Content-Type"))
            return None
        page = parse_page(response.text, response.url)
        for problem in page.problems:
            self._inc("parts_malformed")
            logger.warning("Malformed part of %s: %s", response.url, problem)
        return page

    def parse_listing(self, response):
        self._inc("pages/listing")
        page = self._read(response)
        if page is None:
            return
        reference = self._reference(response)
        rows = self.book.add_page(page, reference)
        if not rows:
            self._inc("layout_drift")
            logger.error(
                "Listing page %s has no rows (%d bytes): has the layout changed? Check wirecrawler/selectors.py",
                response.url,
                len(response.body),
            )
            return
        self._inc("rows/listing", len(rows))
        for row, story in rows:
            if self.seen_store is not None and self.seen_store.contains("lead", story):
                self._inc("articles_already_seen")
            else:
                yield self._request(row.url, "article", self.parse_article)
        number = response.meta.get("page_number", 1)
        if page.next_page is None:
            logger.info("Listing page %d (%s) has no next page", number, response.url)
        elif number >= self.max_pages:
            logger.info("Stopping at listing page %d: max_pages=%d", number, self.max_pages)
        elif all_older_than(page.rows, reference, self.max_age):
            logger.info("Stopping at listing page %d: every row is older than %s", number, self.max_age)
        else:
            yield self._request(page.next_page, "listing", self.parse_listing, page_number=number + 1)

    def parse_article(self, response):
        self._inc("pages/article")
        page = self._read(response)
        if page is None:
            return
        if page.kind != "article" or not belongs_to_section(page):
            self._inc("articles_other_section")
            logger.warning("Page %s is not an article of our section (%r); skipped", response.url, page.section)
            return
        if page.article is None:
            self._inc("pages_malformed")
            logger.warning("Article page %s yielded no lead (see the malformed parts above)", response.url)
        self._inc("rows/more_news", len(page.rows))
        self.book.add_page(page, self._reference(response))

    def request_failed(self, failure):
        request = failure.request
        self._inc("requests_failed")
        logger.error(
            "Request failed: %s (%s page): %s",
            request.url,
            request.meta.get(PAGE_KIND),
            failure.getErrorMessage() or failure.type.__name__,
        )

    def release_stories(self, spider):
        """On idle, schedule the release of the run's sightings: nothing more can arrive.

        The release is a request for an inline ``data:`` URL whose callback yields every
        sighting, so the items travel Scrapy's own path (spider middlewares, item pipelines,
        engine bookkeeping) and the spider closes as soon as they are through.
        """
        if len(self.book):
            self.crawler.engine.crawl(
                scrapy.Request(
                    RELEASE_URL,
                    callback=self.emit_stories,
                    dont_filter=True,
                    meta={PAGE_KIND: "release", "allow_offsite": True},
                )
            )
            raise DontCloseSpider

    def emit_stories(self, response):
        sightings = self.book.release()
        logger.info("Releasing %d sightings to the item pipelines", len(sightings))
        yield from sightings
