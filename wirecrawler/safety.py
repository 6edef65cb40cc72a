"""What the crawler will and will not do to a server: where it may go, and how it waits.

``SiteBoundary`` (pure) decides whether a URL may be fetched: only the start URL's site, and
no loopback, private, link-local or otherwise non-public address unless the start URL itself
names that address (then only that exact host and port). ``SafetyMiddleware`` applies it to
every request, redirects and meta refreshes included, and refuses the rest.

It replaces Scrapy's ``OffsiteMiddleware``, which checks the host alone (any port, any scheme
of an allowed host passes, and subdomains), lets ``dont_filter`` requests through (every
retry), and drops off-site redirects at scheduling with no errback and one DEBUG line per
domain: a page lost that way is never reported. Here every refusal reaches the request's
errback, is counted under ``wirecrawler/refused/<reason>`` and is said in one WARNING line.

``RetryPacing`` makes Scrapy's ``RetryMiddleware`` polite: before a retry it waits as long as
the server's ``Retry-After`` asks (up to ``RETRY_AFTER_MAX`` seconds; a longer wait gives the
page up for this run), else ``RETRY_BACKOFF`` seconds doubling with each retry.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object

from wirecrawler.pages import site_of
from wirecrawler.timeline import parse_http_date

logger = logging.getLogger(__name__)

WEB_SCHEMES = ("http", "https")
# data: URLs hold their content inline and touch no network: the spider's release request is one.
INLINE_SCHEMES = ("data",)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Refusal:
    reason: str  # the stat's last part: scheme, off_site, private_address
    detail: str  # the log's explanation


class RefusedRequest(IgnoreRequest):
    """A request ``SafetyMiddleware`` would not send; the errback sees it with its refusal."""

    def __init__(self, refusal: Refusal):
        super().__init__(f"refused ({refusal.reason}): {refusal.detail}")
        self.refusal = refusal


def address_kind(address: Address) -> str | None:
    """What sort of non-public address *address* is ("loopback", "private" ...); None when public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


def literal_address(host: str | None) -> Address | None:
    """The address a URL's host names when it is an IP literal, else None (a name)."""
    try:
        return ipaddress.ip_address((host or "").strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class SiteBoundary:
    """Where a crawl from *start_url* may go: its site (host, and port unless the default)."""

    start_url: str

    @cached_property
    def site(self) -> tuple[str | None, int | None] | None:
        return site_of(self.start_url)

    def judge(self, url: str) -> Refusal | None:
        """Why *url* may not be fetched, or None when it may; names are judged by ``judge_resolved``."""
        parts = urlsplit(url)
        if parts.scheme in INLINE_SCHEMES:
            return None
        if parts.scheme not in WEB_SCHEMES:
            return Refusal("scheme", f"{parts.scheme or 'no'} scheme; only http and https are fetched")
        address = literal_address(parts.hostname)
        kind = address_kind(address) if address is not None else None
        on_site = site_of(url) == self.site
        if kind and not on_site:
            return Refusal("private_address", f"{parts.hostname} is a {kind} address the start URL does not name")
        if not on_site:
            start = urlsplit(self.start_url).netloc
            return Refusal("off_site", f"{parts.netloc or 'no host'} is not the start URL's site {start}")
        return None

    def needs_lookup(self, url: str) -> bool:
        """Whether *url*'s host is a name whose addresses must be checked before it is fetched."""
        parts = urlsplit(url)
        return parts.scheme in WEB_SCHEMES and literal_address(parts.hostname) is None

    def judge_resolved(self, host: str, address: str) -> Refusal | None:
        """A name resolving to a non-public address is refused: only an IP literal in the start
        URL names such an address (a name can be re-pointed; ``localhost`` is no exception)."""
        kind = address_kind(ipaddress.ip_address(address))
        if kind is None:
            return None
        return Refusal("private_address", f"{host} resolves to {address}, a {kind} address the start URL does not name")


class SafetyMiddleware:
    """Downloader middleware refusing every request ``SiteBoundary`` refuses (see the module)."""

    def __init__(self, crawler, boundary: SiteBoundary):
        self.crawler = crawler
        self.boundary = boundary

    @classmethod
    def from_crawler(cls, crawler):
        start_url = getattr(crawler.spider, "start_url", None)
        if not start_url:
            raise NotConfigured("the spider names no start_url to bound the crawl to")
        return cls(crawler, SiteBoundary(start_url))

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
    retry_after_max: float  # seconds: a server asking for longer is not waited for in this run
    backoff: float  # seconds before the first retry without Retry-After; doubles per retry
    retry_times: int
    retry_codes: frozenset[int]
    retry_exceptions: tuple[type[BaseException], ...]

    @classmethod
    def from_settings(cls, settings) -> PacingConfig:
        return cls(
            retry_after_max=settings.getfloat("RETRY_AFTER_MAX", 60.0),
            backoff=settings.getfloat("RETRY_BACKOFF", 1.0),
            retry_times=settings.getint("RETRY_TIMES"),
            retry_codes=frozenset(int(code) for code in settings.getlist("RETRY_HTTP_CODES")),
            retry_exceptions=tuple(
                load_object(e) if isinstance(e, str) else e for e in settings.getlist("RETRY_EXCEPTIONS")
            ),
        )


def retry_after_seconds(value: str | bytes | None, sent_at: datetime | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds, or an HTTP date counted from the
    response's own ``Date`` (the server's clock) when it has one. None when absent or unreadable."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    until = parse_http_date(value)
    if until is None:
        return None
    return max(0.0, (until - (sent_at or now)).total_seconds())


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
                "%s asks to wait %g s (Retry-After) before %s is fetched again, more than RETRY_AFTER_MAX=%g s: "
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


# The feed URI parameters a template may use besides the feed directory. Scrapy also offers
# every spider attribute; those are left out, so no spider argument or state reaches a path.
FEED_URI_PARAMS = ("name", "time", "batch_time", "batch_id")


def feed_uri_params(scrapy_params: dict, *, feed_dir: str, run_start: str) -> dict:
    """The values for a feed URI template: ``%(feed_dir)s`` (a path the user chose), and names
    that cannot leave it: ``%(run_start)s`` and Scrapy's own ``name``, ``time``, ``batch_time``
    and ``batch_id``, each checked to be one plain file-name part."""
    names = {key: scrapy_params[key] for key in FEED_URI_PARAMS if key in scrapy_params}
    names["run_start"] = run_start
    for key, value in names.items():
        text = str(value)
        if not text or text in (".", "..") or any(c in text for c in "/\\\0"):
            raise ValueError(f"feed URI parameter %({key})s is not a plain file name: {text!r}")
    return {**names, "feed_dir": feed_dir}
