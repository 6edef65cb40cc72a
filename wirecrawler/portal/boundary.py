"""Where a crawl may go: only its start URL's site, and no non-public address it does not name.

``SiteBoundary`` decides whether a URL may be fetched: only the start URL's site, and no
loopback, private, link-local or otherwise non-public address unless the start URL itself
names that address (then only that exact host and port). Plain Python with no Scrapy import:
``wirecrawler.middlewares.SafetyMiddleware`` applies it to every request.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

from wirecrawler.portal.urls import WEB_SCHEMES, site_of

# data: URLs hold their content inline and touch no network: the spider's release request is one.
INLINE_SCHEMES = ("data",)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Refusal:
    reason: str  # the stat's last part: scheme, off_site, private_address
    detail: str  # the log's explanation


# Both are asked for every request, about the crawl's one or two hosts: reading an IP literal
# (or failing to, for a name) costs 3 to 6 µs. Addresses are immutable, so sharing them is safe.
@lru_cache(maxsize=256)
def address_kind(address: Address) -> str | None:
    """What sort of non-public address *address* is ("loopback", "private" ...); None when public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


@lru_cache(maxsize=256)
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
