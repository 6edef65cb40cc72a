"""Security (issue #6), pure: the crawl's site boundary (``wirecrawler.portal.boundary``) and the
feed URI parameters that keep feed paths in the feed directory (``wirecrawler.store.feednames``).

Real crawls meeting them are in ``tests/e2e/test_security.py``.
"""

from __future__ import annotations

import ipaddress

import pytest

from wirecrawler.portal.boundary import SiteBoundary, address_kind
from wirecrawler.store.feednames import feed_uri_params


def test_feed_uri_params_give_the_feed_dir_and_plain_names_only():
    scrapy_params = {"name": "buitenland", "time": "2026-11-24T10-00-00+00-00", "run_start": "../../x", "book": "../y"}
    params = feed_uri_params(scrapy_params, feed_dir="/srv/feeds/../feeds", run_start="2026-11-24T10-00-00Z")
    assert params == {
        "name": "buitenland",
        "time": "2026-11-24T10-00-00+00-00",
        "run_start": "2026-11-24T10-00-00Z",
        "feed_dir": "/srv/feeds/../feeds",  # the user's choice, taken as it is
    }


@pytest.mark.parametrize("bad", ["../x", "a/b", "..", "", "a\\b"])
def test_a_feed_uri_value_that_would_be_a_path_is_an_error(bad):
    with pytest.raises(ValueError, match="is not a plain file name"):
        feed_uri_params({"name": bad}, feed_dir="feeds", run_start="2026-11-24T10-00-00Z")


# --- The boundary.

START = "http://127.0.0.1:8000/nieuws/buitenland"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8000/nieuws/x", None),
        ("https://127.0.0.1:8000/nieuws/x", None),  # a scheme change on the same host and port
        ("data:,release", None),  # inline: no network
        ("http://127.0.0.1:8001/nieuws/x", "private_address"),
        ("http://127.0.0.2:8000/", "private_address"),
        ("http://[::ffff:127.0.0.1]:8000/", "private_address"),  # the same address, written as IPv6
        ("http://100.64.0.1/", "private_address"),  # carrier-grade NAT: not private, not public
        ("http://93.184.216.34/", "off_site"),
        ("http://localhost:8000/", "off_site"),
        ("http://127.0.0.1.nip.io:8000/", "off_site"),
        ("file:///etc/passwd", "scheme"),
        ("ftp://127.0.0.1:8000/", "scheme"),
        ("gopher://127.0.0.1:8000/", "scheme"),
    ],
)
def test_the_boundary_of_a_loopback_start_url(url, reason):
    refusal = SiteBoundary(START).judge(url)
    assert (refusal.reason if refusal else None) == reason


def test_a_public_start_host_is_judged_by_its_addresses():
    boundary = SiteBoundary("https://www.zeelandnet.nl/nieuws/buitenland")
    assert boundary.judge("https://www.zeelandnet.nl/nieuws/x") is None
    assert boundary.needs_lookup("https://www.zeelandnet.nl/nieuws/x")
    assert boundary.judge_resolved("www.zeelandnet.nl", "93.184.216.34") is None
    refusal = boundary.judge_resolved("www.zeelandnet.nl", "10.0.0.5")
    assert (refusal.reason, refusal.detail) == (
        "private_address",
        "www.zeelandnet.nl resolves to 10.0.0.5, a private address the start URL does not name",
    )
    assert boundary.judge("https://evil.www.zeelandnet.nl/") is not None  # no subdomains
    assert not boundary.needs_lookup("http://10.0.0.5/")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),
        ("93.184.216.34", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
    ],
)
def test_address_kinds(address, kind):
    assert address_kind(ipaddress.ip_address(address)) == kind
