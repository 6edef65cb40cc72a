"""Opt-in rendering of listing and article pages in Debian's Chromium, through scrapy-playwright.

A rendered page costs tens of plain ones in time and CPU, and browser plus driver ~700 MiB
(``bench/render_bench.py``), so rendering is off unless ``-s WIRECRAWLER_RENDER=1``.
Off, ``RenderAddon`` switches itself off before it touches a setting: no download handler is
swapped, no middleware added, no browser started, and Playwright is never imported (this
module imports only ``scrapy_playwright.page``, which is plain Python).

On, the add-on
- routes http and https through one shared scrapy-playwright handler (``handler``);
- launches Debian's Chromium headless (``playwright install`` cannot download browsers here);
- blocks images, media, fonts, stylesheets and every sub-request to another site;
- keeps one browser context with at most ``WIRECRAWLER_RENDER_MAX_PAGES`` pages, so memory stays flat;
- adds ``RenderMiddleware``, which sends listing and article requests through the browser
  and waits for their rows or body paragraphs (``wirecrawler.portal.selectors``) rather than a fixed time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured
from scrapy_playwright.page import PageMethod  # plain Python: does not import Playwright

from wirecrawler.config import WireConfig
from wirecrawler.portal import selectors
from wirecrawler.settingvalues import SettingError, SettingsReader, read_strictly

logger = logging.getLogger(__name__)

SHARED_HANDLER = "wirecrawler.render.handler.SharedPlaywrightHandler"
# What a listing or article page shows once built: the spider reads nothing before it is there.
CONTENT_SELECTORS = {"listing": selectors.LISTING_ROWS, "article": selectors.ARTICLE_PARAGRAPHS}
BLOCKED_RESOURCE_TYPES = frozenset({"image", "media", "font", "stylesheet"})
CHROMIUM_ARGS = [
    "--no-sandbox",  # no user namespaces in containers and CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Nothing but the pages we ask for: no update checks, component downloads or sync.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Debian's Chromium still looked up accounts.google.com and update.googleapis.com (its
    # built-in extensions, their updater and sign-in): no extensions, no default apps.
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-pings",
]
# The HTTP status of the page's own document, 0 when the browser does not know it.
NAVIGATION_STATUS_JS = "() => (performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0"


@dataclass(frozen=True)
class RenderConfig:
    chromium: str = "/usr/bin/chromium"  # Debian's package
    max_pages: int = 4  # pages open at once in the single browser context
    wait_timeout: float = 15.0  # seconds for a page's content to appear once it has loaded

    @classmethod
    def from_settings(cls, settings) -> RenderConfig:
        """Raises ``SettingError`` for a value it cannot use (whether rendering is on or not)."""
        return read_strictly(settings, cls.read)

    @classmethod
    def read(cls, reader: SettingsReader) -> RenderConfig:
        """As ``from_settings``; a bad value is recorded in *reader* and its default used."""
        return cls(
            chromium=reader.text("WIRECRAWLER_RENDER_CHROMIUM", cls.chromium),
            max_pages=reader.whole(
                "WIRECRAWLER_RENDER_MAX_PAGES", cls.max_pages, "the pages rendered at once", minimum=1
            ),
            wait_timeout=reader.number(
                "WIRECRAWLER_RENDER_WAIT_TIMEOUT", cls.wait_timeout, "the wait for a page's content",
                minimum=0, above=True, note="seconds",
            ),
        )  # fmt: skip

    def browser_problem(self) -> SettingError | None:
        """Why rendering cannot start with this browser: none where an executable file is found."""
        if os.path.isfile(self.chromium) and os.access(self.chromium, os.X_OK):
            return None
        found = "no such file" if not os.path.exists(self.chromium) else "not an executable file"
        return SettingError(
            "WIRECRAWLER_RENDER_CHROMIUM",
            self.chromium,
            f"no Chromium there ({found}), and WIRECRAWLER_RENDER=1 needs it",
            "install it (apt-get install chromium) and point the setting at it, or turn rendering off",
        )


def first_party(host: str | None, page_host: str | None) -> bool:
    """Whether *host* belongs to the site of *page_host*: the host itself or a subdomain of its site.

    ``cdn.zeelandnet.nl`` serves ``www.zeelandnet.nl``; ``googletagmanager.com`` does not.
    """
    if not host or not page_host:
        return False
    site = page_host.removeprefix("www.")
    return host in (page_host, site) or host.endswith("." + site)


def block_reason(resource_type: str, url: str, page_url: str, main_navigation: bool) -> str | None:
    """Why the browser must not fetch *url* while rendering *page_url*; None when it may."""
    if main_navigation:
        return None  # the page itself, and its redirects
    if resource_type in BLOCKED_RESOURCE_TYPES:
        return resource_type
    if not first_party(urlsplit(url.removeprefix("blob:")).hostname, urlsplit(page_url).hostname):
        return "third party"
    return None


def abort_unneeded(request) -> bool:
    """``PLAYWRIGHT_ABORT_REQUEST``: True for a browser request the page can render without."""
    # Only ever called with rendering on, when Playwright is loaded anyway.
    from playwright.async_api import Error as PlaywrightError

    try:
        frame = request.frame
    except PlaywrightError:  # a service worker's request: no page needs it
        return True
    main_navigation = request.is_navigation_request() and frame.parent_frame is None
    return block_reason(request.resource_type, request.url, frame.page.main_frame.url, main_navigation) is not None


class RenderAddon:
    """``ADDONS`` entry: with ``WIRECRAWLER_RENDER`` on, renders listing and article pages in Chromium."""

    def __init__(self, config: RenderConfig):
        self.config = config

    @classmethod
    def from_crawler(cls, crawler):
        # A bad value of a project setting (this one included, which then reads as off) and a
        # missing browser are the preflight's to report (wirecrawler.preflight): it runs before
        # the crawler is built (scrapy crawl) or as the first of the project's extensions, right
        # after the add-ons, before any browser could start. Here the defaults stand in for them.
        reader = SettingsReader(crawler.settings)
        if not WireConfig.read(reader).render:
            raise NotConfigured  # no message: off is the normal case, not worth a warning
        return cls(RenderConfig.read(reader))

    def update_settings(self, settings) -> None:
        for scheme in ("http", "https"):
            settings["DOWNLOAD_HANDLERS"].set(scheme, SHARED_HANDLER, "addon")
        playwright_settings = {
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": {
                "executable_path": self.config.chromium,
                "headless": True,
                "args": CHROMIUM_ARGS,
            },
            "PLAYWRIGHT_ABORT_REQUEST": abort_unneeded,
            "PLAYWRIGHT_MAX_CONTEXTS": 1,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": self.config.max_pages,
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": settings.getfloat("DOWNLOAD_TIMEOUT") * 1000,
        }
        for name, value in playwright_settings.items():
            settings.set(name, value, "addon")  # the project, the spider and -s still win
        # It only marks requests: any place before the download handler would do.
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", RenderMiddleware, 580)
        logger.info(
            "Rendering listing and article pages in %s (headless, at most %d pages at once)",
            self.config.chromium,
            self.config.max_pages,
        )


class RenderMiddleware:
    """Sends listing and article requests through the browser and waits there for their content.

    Other requests (robots.txt, the spider's ``data:`` release) go the plain way.
    """

    def __init__(self, stats, wait_timeout: float):
        self.stats = stats
        self.wait_timeout = wait_timeout

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats, RenderConfig.from_settings(crawler.settings).wait_timeout)

    def process_request(self, request):
        selector = CONTENT_SELECTORS.get(request.meta.get("wirecrawler_page"))
        if selector is None or "playwright" in request.meta:
            return None
        request.meta["playwright"] = True
        request.meta["playwright_page_methods"] = [PageMethod(self.wait_for_content, selector)]
        self.stats.inc_value("wirecrawler/render/requests")
        return None

    async def wait_for_content(self, page, selector: str) -> None:
        """Waits until *selector* matches on *page*; on an error page or a timeout, it stops waiting.

        An error page has no content to wait for: it keeps its status (a 404 stays a 404)
        instead of costing the whole timeout. Content that never appears is reported here and
        the page is read as it stands, so the spider's own checks (layout drift, malformed
        article) say what is missing.
        """
        from playwright.async_api import TimeoutError as PlaywrightTimeoutError  # rendering is on

        if await page.evaluate(NAVIGATION_STATUS_JS) >= 400:
            return
        try:
            await page.wait_for_selector(selector, state="attached", timeout=self.wait_timeout * 1000)
        except PlaywrightTimeoutError:
            self.stats.inc_value("wirecrawler/render/content_timeouts")
            logger.warning(
                "Rendered %s: nothing matched %r within %g s; reading the page as it stands",
                page.url,
                selector,
                self.wait_timeout,
            )
