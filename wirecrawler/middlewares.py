"""Downloader middlewares: where the crawler may go, and how it waits before a retry.

``SafetyMiddleware`` applies the crawl's ``SiteBoundary`` (``wirecrawler.portal.boundary``) to
every request, redirects and meta refreshes included, and refuses the rest. It replaces
Scrapy's ``OffsiteMiddleware``, which checks the host alone (any port, any scheme of an allowed
host passes, and subdomains), lets ``dont_filter`` requests through (every retry), and drops
off-site redirects at scheduling with no errback and one DEBUG line per domain: a page lost that
way is never reported. Here every refusal reaches the request's errback, is counted under
``wirecrawler/refused/<reason>`` and is said in one WARNING line.

``RetryPacing`` makes Scrapy's ``RetryMiddleware`` polite: before a retry it waits as long as
the server's ``Retry-After`` asks (up to ``WIRECRAWLER_RETRY_AFTER_MAX`` seconds; a longer wait
gives the page up for this run), else ``WIRECRAWLER_RETRY_BACKOFF`` seconds doubling with each
retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object

from wirecrawler.portal.boundary import Refusal, SiteBoundary
from wirecrawler.portal.timeline import parse_http_date, retry_after_seconds
from wirecrawler.runs.run import run_of
from wirecrawler.settingvalues import SettingsReader, read_strictly

logger = logging.getLogger(__name__)


class RefusedRequest(IgnoreRequest):
    """A request ``SafetyMiddleware`` would not send; the errback sees it with its refusal."""

    def __init__(self, refusal: Refusal):
        super().__init__(f"refused ({refusal.reason}): {refusal.detail}")
        self.refusal = refusal


class SafetyMiddleware:
    """Downloader middleware refusing every request ``SiteBoundary`` refuses (see the module)."""

    def __init__(self, crawler, boundary: SiteBoundary):
        self.crawler = crawler
        self.boundary = boundary

    @classmethod
    def from_crawler(cls, crawler):
        run = run_of(crawler.spider)
        if run is None:
            raise NotConfigured("the spider declares no run (wirecrawler.runs.run.Run) whose start URL bounds the crawl")
        return cls(crawler, SiteBoundary(run.start_url))

    async def process_request(self, request):
        refusal = self.boundary.judge(request.url)
        if refusal is None and self.boundary.needs_lookup(request.url):
            refusal = await self._judge_lookup(urlsplit(request.url).hostname)
        if refusal is not None:
            self._refuse(request, refusal)

    async def _judge_lookup(self, host: str) -> Refusal | None:
        # The reactor's resolver is the one the download connects with, and it caches: the
        # address judged here is the address fetched from, not a second, re-pointable answer.
        from twisted.internet import reactor

        try:
            address = await maybe_deferred_to_future(reactor.resolve(host))
        except Exception:  # noqa: BLE001 (the download meets the same failure and reports it)
            return None
        return self.boundary.judge_resolved(host, address)

    def _refuse(self, request, refusal: Refusal):
        self.crawler.stats.inc_value(f"wirecrawler/refused/{refusal.reason}")
        redirected = request.meta.get("redirect_urls")
        logger.warning(
            "Refused %s%s: %s",
            request.url,
            f" (redirected from {redirected[0]})" if redirected else "",
            refusal.detail,
        )
        raise RefusedRequest(refusal)


@dataclass(frozen=True)
class PacingConfig:
    retry_times: int
    retry_codes: frozenset[int]
    retry_exceptions: tuple[type[BaseException], ...]
    retry_after_max: float = 60.0  # seconds: a server asking for longer is not waited for in this run
    backoff: float = 1.0  # seconds before the first retry without Retry-After; doubles per retry

    @classmethod
    def from_settings(cls, settings) -> PacingConfig:
        """Raises ``SettingError`` for a value it cannot use."""
        return read_strictly(settings, cls.read)

    @classmethod
    def read(cls, reader: SettingsReader) -> PacingConfig:
        """As ``from_settings``; a bad value is recorded in *reader* and its default used."""
        settings = reader.settings
        retry_codes: frozenset[int] = frozenset()
        try:
            retry_codes = frozenset(int(code) for code in settings.getlist("RETRY_HTTP_CODES"))
        except (TypeError, ValueError):
            reader.problem(
                "RETRY_HTTP_CODES", settings.get("RETRY_HTTP_CODES"), "HTTP statuses must be whole numbers",
                "list them, comma-separated, or leave the setting out for Scrapy's",
            )  # fmt: skip
        retry_exceptions: list[type[BaseException]] = []
        for name in settings.getlist("RETRY_EXCEPTIONS"):
            try:
                retry_exceptions.append(load_object(name) if isinstance(name, str) else name)
            except (ImportError, NameError, ValueError) as exc:
                reader.problem("RETRY_EXCEPTIONS", name, f"no such exception ({exc})", "name an importable exception class")
        return cls(
            retry_after_max=reader.number(
                "WIRECRAWLER_RETRY_AFTER_MAX", cls.retry_after_max, "the longest Retry-After waited for",
                minimum=0, note="seconds",
            ),
            backoff=reader.number(
                "WIRECRAWLER_RETRY_BACKOFF", cls.backoff, "the wait before the first retry",
                minimum=0, note="seconds",
            ),
            retry_times=reader.whole("RETRY_TIMES", 2, "the retries of a request", minimum=0),
            retry_codes=retry_codes,
            retry_exceptions=tuple(retry_exceptions),
        )  # fmt: skip


class RetryPacing:
    """Downloader middleware: the wait before each of Scrapy's retries (see the module).

    It sits nearer the downloader than ``RetryMiddleware``, so it sees each failed response or
    exception first, waits, and passes it on for ``RetryMiddleware`` to retry. It does not
    wait when the retries are used up, as no retry follows.
    """

    def __init__(self, crawler, config: PacingConfig):
        self.crawler = crawler
        self.config = config

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("RETRY_ENABLED is off")
        middleware = cls(crawler, PacingConfig.from_settings(crawler.settings))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider):
        logger.info(
            "Retry pacing: Retry-After honoured up to %g s, else %g s doubling per retry",
            self.config.retry_after_max,
            self.config.backoff,
        )

    def _retries_left(self, request) -> bool:
        if request.meta.get("dont_retry"):
            return False
        limit = request.meta.get("max_retry_times", self.config.retry_times)
        return request.meta.get("retry_times", 0) < limit

    async def process_response(self, request, response):
        if response.status not in self.config.retry_codes or not self._retries_left(request):
            return response
        asked = retry_after_seconds(
            response.headers.get("Retry-After"), parse_http_date(response.headers.get("Date")), datetime.now(UTC)
        )
        if asked is not None and asked > self.config.retry_after_max:
            self.crawler.stats.inc_value("wirecrawler/retry_after_too_long")
            logger.warning(
                "%s asks to wait %g s (Retry-After) before %s is fetched again, more than WIRECRAWLER_RETRY_AFTER_MAX=%g s: "
                "not fetched in this run",
                response.status,
                asked,
                request.url,
                self.config.retry_after_max,
            )
            request.meta["dont_retry"] = True
            return response
        reason = f"{response.status}, Retry-After" if asked is not None else str(response.status)
        await self._wait(request, asked if asked is not None else self._backoff(request), reason)
        return response

    async def process_exception(self, request, exception):
        if isinstance(exception, self.config.retry_exceptions) and self._retries_left(request):
            await self._wait(request, self._backoff(request), type(exception).__name__)

    def _backoff(self, request) -> float:
        return self.config.backoff * 2 ** request.meta.get("retry_times", 0)

    async def _wait(self, request, seconds: float, reason: str) -> None:
        self.crawler.stats.inc_value("wirecrawler/retry_waits")
        logger.info("Waiting %g s before retrying %s (%s)", seconds, request.url, reason)
        await sleep(seconds)
