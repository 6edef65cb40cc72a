"""A failed run's last line names the cause an operator can act on: the first failed request, its
URL and what went wrong, before the monitors' findings and the count of errors logged.

Real crawls (``scrapy crawl`` subprocesses): a start URL on a name that never resolves (``.invalid``,
RFC 2606), looked up in a network namespace of its own with no network (``unshare --net``), so
the lookup fails on this machine and no query leaves it; a server that sends a 100 KB response
header (``tests.faultserver``), and a port nobody listens on.
"""

from __future__ import annotations

import json

from tests.crawling import SAMPLE_SITE, crawl
from tests.faultserver import Header, serving
from wirecrawler.local.server import served

ONCE = ("-s", "RETRY_TIMES=0")  # the cause is the same on every try: one is enough
NO_NETWORK = ("unshare", "--net")  # a network namespace with no interface up: no DNS query leaves


def last_line(log: str) -> str:
    return log.rstrip().splitlines()[-1]


def report_failures(state) -> list[str]:
    [path] = (state / "feeds" / "reports").glob("*.json")
    return json.loads(path.read_text(encoding="utf-8"))["failures"]


def test_a_name_that_does_not_resolve_is_named_first_in_the_last_line(tmp_path):
    url = "http://wirecrawler-test.invalid/nieuws/buitenland"
    run = crawl("http://wirecrawler-test.invalid", tmp_path, *ONCE, prefix=NO_NETWORK)
    assert run.returncode == 1
    cause = f"1 request failed ({url}: DNS lookup failed: no address for wirecrawler-test.invalid)"
    assert f"ERROR: Run failed: {cause}; monitor listing_rows: " in last_line(run.log)
    assert last_line(run.log).endswith("errors were logged")  # counted, after the causes
    assert f"ERROR: Request failed: {url} (listing page): DNS lookup failed: no address for wirecrawler-test.invalid" in run.log
    assert report_failures(tmp_path)[0] == cause


def test_a_response_header_too_large_is_said_so_rather_than_connection_closed_cleanly(tmp_path):
    huge = [Header(name="X-Padding", value="x" * 100_000, times=None)]
    with serving(SAMPLE_SITE, {"/nieuws/buitenland": huge}) as server:
        run = crawl(server.url, tmp_path, *ONCE)
    host = server.url.removeprefix("http://")
    assert run.returncode == 1
    cause = (
        f"1 request failed ({server.url}/nieuws/buitenland: the response headers from {host} were too large or"
        " cut off: the connection closed while they were read (a header line over 16 KB closes it))"
    )
    assert f"ERROR: Run failed: {cause}; " in last_line(run.log)
    [failed] = [line for line in run.log.splitlines() if "ERROR: Request failed: " in line]
    assert "were too large or cut off" in failed and "closed cleanly" not in failed  # as Twisted says it


def test_a_port_nobody_listens_on_is_named_with_the_address(tmp_path):
    with served(SAMPLE_SITE) as url:
        pass  # the port is now closed
    run = crawl(url, tmp_path, *ONCE)
    assert run.returncode == 1
    address = url.removeprefix("http://")
    cause = f"1 request failed ({url}/nieuws/buitenland: connection refused by {address}: nothing listens there)"
    assert f"ERROR: Run failed: {cause}; " in last_line(run.log)
