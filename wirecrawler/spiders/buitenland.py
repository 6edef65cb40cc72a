"""The ``buitenland`` spider: the section listing, page by page, and the articles it links to.

The spider only fetches and reads pages (through ``wirecrawler.portal``) into the run's story
book (``wirecrawler.news``). Once nothing more can arrive it releases the book's sightings to
the item pipelines, which turn them into records, drop what was seen, and hand the rest to the
feeds. A run that closes early has its sightings taken by the first pipeline instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DontCloseSpider,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    IgnoreRequest,
)
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionDone, ConnectionRefusedError, DNSLookupError
from twisted.protocols.basic import LineReceiver
from twisted.web.client import ResponseFailed, ResponseNeverReceived

from wirecrawler.config import WireConfig
from wirecrawler.extensions import SeenStoreExtension
from wirecrawler.middlewares import RefusedRequest
from wirecrawler.news.stories import ReleasedSightings, StoryBook, all_older_than
from wirecrawler.portal.pages import Page, belongs_to_section, read_page
from wirecrawler.portal.timeline import parse_http_date
from wirecrawler.runs.run import Run

logger = logging.getLogger(__name__)

DEFAULT_START_URL = "https://www.zeelandnet.nl/nieuws/buitenland"
DEFAULT_MAX_PAGES = 10
DEFAULT_MAX_AGE_HOURS = 48.0
PAGE_KIND = "wirecrawler_page"  # request meta: "listing", "article" or "release"
RELEASE_URL = "data:,release"
GONE = (404, 410)  # an article the listing links to that the site no longer has


def connection_failure(error: BaseException, url: str) -> str:
    """What went wrong fetching *url*, said for an operator rather than as Twisted says it.

    The HTTP client's own words are kept where they are clear (a timeout says what took how long).
    """
    host = urlsplit(url).hostname or url
    netloc = urlsplit(url).netloc or host
    cause = error.__cause__ or error  # Scrapy wraps Twisted's errors (CannotResolveHostError ...)
    if isinstance(error, CannotResolveHostError) or isinstance(cause, DNSLookupError):
        return f"DNS lookup failed: no address for {host}"
    if isinstance(error, DownloadConnectionRefusedError) or isinstance(cause, ConnectionRefusedError):
        return f"connection refused by {netloc}: nothing listens there"
    if isinstance(cause, ResponseNeverReceived):
        return f"{netloc} closed the connection without answering ({_reasons(cause)})"
    if isinstance(cause, ResponseFailed):
        if cause.reasons and all(reason.check(ConnectionDone) for reason in cause.reasons):
            # The HTTP client closes the connection itself, cleanly, on a header line longer than
            # its limit; so does a server that hangs up inside its headers, which is rarer.
            limit = LineReceiver.MAX_LENGTH // 1024
            return (
                f"the response headers from {netloc} were too large or cut off: the connection closed "
                f"while they were read (a header line over {limit} KB closes it)"
            )
        return f"the response from {netloc} was cut off ({_reasons(cause)})"
    return str(error) or type(error).__name__


def _reasons(failed: ResponseFailed) -> str:
    # Twisted adds a _DataLoss (its private marker, without a message) to the connection's reason.
    said = [reason.getErrorMessage() for reason in failed.reasons if reason.type.__name__ != "_DataLoss"]
    return "; ".join(dict.fromkeys(said)) or "no reason given"


def listing_page_url(start_url: str, page: int) -> str:
    """Listing page *page* of the section whose first page is *start_url*: ``?page=N``, as the
    site's pager links it (page 1 is the start URL itself)."""
    if page == 1:
        return start_url
    parts = urlsplit(start_url)
    query = [pair for pair in parts.query.split("&") if pair and not pair.startswith("page=")]
    return urlunsplit(parts._replace(query="&".join([*query, f"page={page}"])))


def _positive(name: str, value, convert):
    try:
        number = convert(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number <= 0:
        raise ValueError(f"-a {name} must be a positive number, not {value!r}")
    return number


@dataclass(frozen=True)
class CrawlArguments:
    """The spider's ``-a`` arguments, checked."""

    start_url: str
    max_pages: int
    max_age: timedelta
    job_id: str | None = None  # Scrapyd's id for the run: it gives every crawl it starts -a _job=<id>
    first_page: int = 1  # the listing page the run starts at (the backfill's windows start deeper)

    @classmethod
    def parse(
        cls,
        start_url: str = DEFAULT_START_URL,
        max_pages: int | str = DEFAULT_MAX_PAGES,
        max_age_hours: float | str = DEFAULT_MAX_AGE_HOURS,
        *args,
        first_page: int | str = 1,
        _job: str | None = None,
        **kwargs,
    ) -> CrawlArguments:
        """Raises ValueError naming the first bad argument."""
        if args or kwargs:
            # Scrapy would make each one an attribute, replacing the spider's own (-a run=x)
            # and reaching the feed URI parameters (-a run_start=../../x): refuse them.
            unknown = ", ".join(map(repr, [*args, *kwargs]))
            raise ValueError(
                f"unknown spider arguments: {unknown}; it takes start_url, max_pages, max_age_hours and first_page"
                " (and _job, Scrapyd's job id)"
            )
        parts = urlsplit(start_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"-a start_url must be an http(s) URL, not {start_url!r}")
        return cls(
            start_url=start_url,
            max_pages=_positive("max_pages", max_pages, int),
            max_age=timedelta(hours=_positive("max_age_hours", max_age_hours, float)),
            job_id=_job,
            first_page=_positive("first_page", first_page, int),
        )


class BuitenlandSpider(scrapy.Spider):
    """The section's listing pages and articles; holds its sightings until the run ends
    (``wirecrawler.items.HoldsSightings``)."""

    name = "buitenland"
    run: Run  # which job, and when it started: names the feeds, bounds the crawl, files the report

    @staticmethod
    def check_arguments(*args, **kwargs) -> None:
        """For the crawl command: a bad ``-a`` argument is a usage error, said before any start-up."""
        CrawlArguments.parse(*args, **kwargs)

    @classmethod
    def run_for(cls, *args, **kwargs) -> Run:
        """The run a crawl with these ``-a`` arguments is, starting now: for the crawl command, to
        report a run it refused before any spider was built (a bad set-up)."""
        return cls._run_of(CrawlArguments.parse(*args, **kwargs))

    @classmethod
    def _run_of(cls, arguments: CrawlArguments) -> Run:
        return Run(spider=cls.name, start_url=arguments.start_url, started=datetime.now(UTC), job_id=arguments.job_id)

    def __init__(self, *args, **kwargs):
        arguments = CrawlArguments.parse(*args, **kwargs)
        super().__init__()
        self.run = self._run_of(arguments)
        self.max_pages = arguments.max_pages
        self.max_age = arguments.max_age
        self.first_page = arguments.first_page
        self._book = StoryBook()
        # Before each callback Scrapy reads its source to see whether a generator returns a
        # value, and remembers the answer only while that callback object lives. A bound
        # method is a new object each time it is looked up, so every listing page paid for a
        # parse of parse_listing's source; one lasting object per generator callback keeps it.
        self.parse_listing = self.parse_listing
        self.emit_stories = self.emit_stories

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.release_stories, signal=signals.spider_idle)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        return spider

    @cached_property
    def config(self) -> WireConfig:
        # Not in from_crawler: the add-ons (renamed settings among them) run after the spider is built.
        return WireConfig.from_settings(self.settings)

    @cached_property
    def seen_store(self):
        """The run's seen store (extensions are built after the spider), or None when it is off."""
        extension = self.crawler.get_extension(SeenStoreExtension)
        return extension.store if extension else None

    async def start(self):
        url = listing_page_url(self.run.start_url, self.first_page)
        yield self._request(url, "listing", self.parse_listing, page_number=self.first_page)

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

    def _read(self, response) -> Page:
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        # Not hasattr(response, "text"): that runs Scrapy's text property (charset inference,
        # and a decode of the body unless a middleware did one); read_page decodes it itself.
        if not isinstance(response, TextResponse):
            return Page(url=response.url, fault=f"not a text page ({content_type or 'no Content-Type'})")
        page = read_page(response.body, response.url, content_type)
        for problem in page.problems:
            self._inc("parts_malformed")
            logger.warning("Malformed part of %s: %s", response.url, problem)
        for flaw in page.irregular:
            self._inc("parts_irregular")
            logger.warning("Irregular part of %s: %s", response.url, flaw)
        return page

    def parse_listing(self, response):
        self._inc("pages/listing")
        page = self._read(response)
        if page.fault:
            # The listing is the run's index of stories: a run that cannot read it failed.
            self._inc("pages_malformed")
            logger.error("Listing page %s is unreadable: %s", response.url, page.fault)
            return
        reference = self._reference(response)
        rows = self._book.add_page(page, reference)
        if not rows:
            self._inc("layout_drift")
            if page.built_in_browser and not self.config.render:
                logger.error(
                    "Listing page %s has no rows but ships the data a script builds them from in the browser: "
                    "turn rendering on (-s WIRECRAWLER_RENDER=1)",
                    response.url,
                )
                return
            logger.error(
                "Listing page %s has no rows (%d bytes): has the layout changed? Check wirecrawler/portal/selectors.py",
                response.url,
                len(response.body),
            )
            return
        self._inc("rows/listing", len(rows))
        for row, story in rows:
            if self.seen_store is not None and self.seen_store.contains("lead", story):
                self._inc("articles_already_seen")
            else:
                self._inc("articles_requested")
                yield self._request(row.url, "article", self.parse_article)
        number = response.meta.get("page_number", 1)
        if page.next_page is None:
            logger.info("Listing page %d (%s) has no next page", number, response.url)
        elif number - self.first_page + 1 >= self.max_pages:
            logger.info("Stopping at listing page %d: max_pages=%d", number, self.max_pages)
        elif all_older_than(page.rows, reference, self.max_age):
            logger.info("Stopping at listing page %d: every row is older than %s", number, self.max_age)
        else:
            yield self._request(page.next_page, "listing", self.parse_listing, page_number=number + 1)

    def parse_article(self, response):
        self._inc("pages/article")
        page = self._read(response)
        if page.fault or page.kind != "article":
            # One story's page: a warning, not a failed run, or a lasting fault would fail every
            # run. Its lead stays unseen, so each run tries the page again while it is listed.
            self._inc("pages_malformed")
            logger.warning("Article page %s is unreadable: %s", response.url, page.fault or "it shows no article")
            return
        if not belongs_to_section(page):
            self._inc("articles_other_section")
            logger.warning("Page %s is not an article of our section (%r); skipped", response.url, page.section)
            return
        if page.article is None:
            self._inc("pages_malformed")
            logger.warning("Article page %s yielded no lead (see the malformed parts above)", response.url)
        self._inc("rows/more_news", len(page.rows))
        self._book.add_page(page, self._reference(response))

    def request_failed(self, failure):
        """A page never fetched. The server failing us fails the run; a page the crawl will not
        or cannot take (refused, too large, gone, forbidden by robots.txt) is a warning when it
        is an article, as it would fail every run while it is listed. Either way its story's
        lead stays unseen and comes in a later run that can fetch it."""
        reason, declined = self._why_not_fetched(failure)
        # SafetyMiddleware has logged its refusals itself.
        self._not_fetched(failure.request, reason, declined=declined, said=bool(failure.check(RefusedRequest)))

    def request_dropped(self, request, spider):
        """The scheduler dropped a request as a duplicate. That is routine, except for a redirect
        back into its own chain: a loop, which would otherwise lose its page unreported."""
        chain = request.meta.get("redirect_urls", [])
        if request.url in chain:
            loop = " -> ".join([*chain, request.url])
            self._not_fetched(request.replace(url=chain[0]), f"a redirect loop ({loop})", declined=True)

    def _not_fetched(self, request, reason: str, *, declined: bool, said: bool = False) -> None:
        kind = request.meta.get(PAGE_KIND)
        if declined and kind == "article":
            self._inc("articles_not_fetched")
            if not said:
                logger.warning("Article page %s not fetched: %s", request.url, reason)
            return
        self._inc("requests_failed")
        if self.crawler.stats.get_value("wirecrawler/first_failed_request") is None:
            # Named in the run's last line: the cause an operator can act on.
            self.crawler.stats.set_value("wirecrawler/first_failed_request", f"{request.url}: {reason}")
        logger.error("Request failed: %s (%s page): %s", request.url, kind, reason)

    def _why_not_fetched(self, failure) -> tuple[str, bool]:
        """Why a page was not fetched, and whether the crawl declined it (rather than the server
        failing it): refused, too large, gone, forbidden by robots.txt, too many redirects."""
        if failure.check(DownloadCancelledError):
            self._inc("refused/too_large")
            return f"larger than DOWNLOAD_MAXSIZE ({self.settings.getint('DOWNLOAD_MAXSIZE')} bytes)", True
        if failure.check(HttpError):  # an IgnoreRequest too, but mostly the server failing
            response = failure.value.response
            if 300 <= response.status < 400:  # Scrapy follows http(s) redirects only
                location = (response.headers.get("Location") or b"").decode("latin-1")
                return f"HTTP {response.status}: a redirect to {location or 'nowhere'} is not followed", True
            if response.status in GONE:
                return f"HTTP {response.status}: the site no longer has it", True
            return f"HTTP {response.status}", False
        if failure.check(IgnoreRequest):
            return str(failure.value), True
        return connection_failure(failure.value, failure.request.url), False

    def release_stories(self, spider):
        """On idle, schedule the release of the run's sightings: nothing more can arrive.

        The release is a request for an inline ``data:`` URL whose callback yields every
        sighting, so the items travel Scrapy's own path (spider middlewares, item pipelines,
        engine bookkeeping) and the spider closes as soon as they are through.
        """
        if self.holds_sightings():
            self.crawler.engine.crawl(
                scrapy.Request(RELEASE_URL, callback=self.emit_stories, dont_filter=True, meta={PAGE_KIND: "release"})
            )
            raise DontCloseSpider

    def emit_stories(self, response):
        sightings = self.release()
        logger.info("Releasing %d sightings to the item pipelines", len(sightings))
        yield from sightings

    def holds_sightings(self) -> bool:
        return len(self._book) > 0

    def release(self) -> ReleasedSightings:
        """Every sighting held, with all the labels seen for its story; the book is empty after."""
        return self._book.release()

