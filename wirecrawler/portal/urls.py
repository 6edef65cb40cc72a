"""URL rules: a link resolved against its page, the site a URL is on, which links are stories.

Plain Python with no Scrapy import. The crawl's boundary (``wirecrawler.portal.boundary``) and
the page readers share them.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urldefrag, urljoin, urlsplit


def absolute(base: str, href: str) -> str:
    """*href* as found on the page at *base*, made absolute, without its fragment."""
    href = href.strip()
    if href.startswith("/"):
        # urljoin reads only the base's scheme and host for a link from the root, so such links,
        # the same on every page (Net binnen, "Meer uit"), are resolved once per site.
        base = _root_of(base)
    return _resolved(base, href)


@lru_cache(maxsize=1024)
def _root_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


# Only the rows repeated on every page hit these caches, a few dozen links: the rest of a
# long crawl's links are each met once and would only grow its memory in a bigger cache.
@lru_cache(maxsize=1024)
def _resolved(base: str, href: str) -> str:
    return urldefrag(urljoin(base, href)).url


WEB_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=1024)  # asked for the page's URL and each link's, row after row
def site_of(url: str) -> tuple[str | None, int | None] | None:
    """The site a URL is on: its host, and its port unless that is the scheme's default (so
    http and https of one host are one site). None when the URL has no valid port."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    return parts.hostname, None if port == _DEFAULT_PORTS.get(parts.scheme) else port


@lru_cache(maxsize=16)  # asked for every row of a page, with that page's URL
def _judged_page(page_url: str) -> tuple[bool, str]:
    """Whether a page's links are judged (it was fetched over the web), and its URL without fragment."""
    return urlsplit(page_url).scheme in WEB_SCHEMES, urldefrag(page_url).url


def link_fault(page_url: str, link: str) -> str | None:
    """Why a row's link is no story of the page's site; None when it is one.

    Only pages fetched over the web are judged: links in a saved file (the ``parse`` command
    without ``--url``) resolve to file URLs and are taken as they are.
    """
    judged, page_itself = _judged_page(page_url)
    if not judged:
        return None
    if urlsplit(link).scheme not in WEB_SCHEMES:
        return f"links to a non-web address: {link}"
    if site_of(link) is None or site_of(link) != site_of(page_url):
        return f"links off the site: {link}"
    if link == page_itself:
        return "links to the page itself"
    return None
