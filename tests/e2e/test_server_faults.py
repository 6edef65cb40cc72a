"""Server faults (issue #6): a crawl against a copy of the sample site whose server misbehaves
on purpose (``tests/faultserver.py``), then a second run against it behaving.

Run one meets every fault below at once, each on its own page. Faults that pass are retried,
boundedly and politely (each retry waits: Retry-After when the server sends one, else a
doubling backoff), and their pages arrive. Pages never fetched are reported, each with its
URL; the server failing us fails the run (exit 1), while an article the crawl declines
(gone, forbidden by robots.txt, a redirect loop) is a warning. Run two, with the same seen
store, brings exactly the leads run one missed: nothing lost, nothing twice.

No test asserts on time: waits show in the log and the stats, order in the server's record.
The project's politeness settings and ``Retry-After`` itself, pure, are in
``tests/unit/test_server_faults.py``.
"""

from __future__ import annotations

import re

import pytest

from tests.crawling import SAMPLE_SITE, by_key, copy_site, crawl, logged, read_jsonl, stats_of, url_path
from tests.faultserver import Header, Redirect, Reset, Stall, Status, Trickle, serving
from wirecrawler import settings as project_settings

EXPECTED = read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")
LEADS = [url_path(r["url"]) for r in EXPECTED if r["kind"] == "lead"]
TIMEOUT = 2  # seconds: DOWNLOAD_TIMEOUT for these runs
RETRIES = 2
REF = (SAMPLE_SITE / "REF").read_text().strip()
RETRY_AT = REF.replace(":00 GMT", ":02 GMT")  # two seconds after the server's own Date

# One article page per fault, in the order the spider finds them.
(
    RECOVERS_5XX, RETRY_AFTER, RETRY_AFTER_DATE, RETRY_AFTER_TOO_LONG, STALLS_ONCE, TRICKLES,
    RESETS_ONCE, FAILS_EVERY_TIME, NO_DATE, BAD_DATE, GONE, DISALLOWED, LOOPS, CHAINS,
) = LEADS[:14]  # fmt: skip
LISTING_2 = "/nieuws/buitenland?page=2"
LOOP_BACK = "/nieuws/lus"
CHAIN = [f"/nieuws/keten-{n}" for n in range(1, 8)]

FAULTS = {
    RECOVERS_5XX: [Status(status=500), Status(status=502)],
    LISTING_2: [Status(status=503)],
    RETRY_AFTER: [Status(status=429, headers={"Retry-After": "1"})],
    RETRY_AFTER_DATE: [Status(status=503, headers={"Retry-After": RETRY_AT})],
    RETRY_AFTER_TOO_LONG: [Status(status=429, headers={"Retry-After": "3600"})],
    STALLS_ONCE: [Stall(seconds=TIMEOUT + 3)],
    TRICKLES: [Trickle(interval=0.2, chunk=64, times=RETRIES + 1)],
    RESETS_ONCE: [Reset()],
    FAILS_EVERY_TIME: [Status(status=500, times=RETRIES + 1)],
    NO_DATE: [Header(name="Date", value=None)],
    BAD_DATE: [Header(name="Date", value="gisteren om een uur of drie")],
    GONE: [Status(status=404)],
    LOOPS: [Redirect(location="{base}" + LOOP_BACK, times=None)],
    LOOP_BACK: [Redirect(location="{base}" + LOOPS, times=None)],
    CHAINS: [Redirect(location="{base}" + CHAIN[0])],
    **{step: [Redirect(location="{base}" + after)] for step, after in zip(CHAIN, CHAIN[1:], strict=False)},
}
ROBOTS = f"User-agent: *\nDisallow: {DISALLOWED}\n"
NOT_FETCHED = [RETRY_AFTER_TOO_LONG, TRICKLES, FAILS_EVERY_TIME, GONE, DISALLOWED, LOOPS, CHAINS]
FAST = ["-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}", "-s", f"RETRY_TIMES={RETRIES}", "-s", "WIRECRAWLER_RETRY_BACKOFF=0.1"]
# Scrapy 2.19 does not bound a host's concurrency when DOWNLOAD_DELAY is 0 (its downloader
# starts every queued request before any counts as transferring), and the test helper sets 0 for
# speed. The project's settings keep a delay; a small one gives these runs the same bound.
BOUNDED = ["-s", "DOWNLOAD_DELAY=0.01"]


class Run:
    def __init__(self, url, crawled, hits):
        self.url, self.crawl, self.hits = url, crawled, hits
        self.log, self.stats, self.records = crawled.log, stats_of(crawled.log), by_key(crawled.records())

    def hits_on(self, path: str) -> list[str]:
        """What the server answered for *path*, in order: ["500", "502", "200"]."""
        return [hit.outcome for hit in self.hits if hit.path == path]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    site = copy_site(SAMPLE_SITE, root / "site")
    with serving(site, FAULTS, robots=ROBOTS, delay=0.1) as server:  # a delay, so that requests overlap
        first = Run(server.url, crawl(server.url, root / "state", *FAST, *BOUNDED), list(server.hits))
        max_in_flight = server.max_in_flight
    with serving(site) as server:
        second = Run(server.url, crawl(server.url, root / "state", *FAST), list(server.hits))
    return first, second, max_in_flight


def lead(run: Run, path: str) -> dict | None:
    return next((r for (kind, _), r in run.records.items() if kind == "lead" and url_path(r["url"]) == path), None)


def test_5xx_answers_are_retried_until_the_page_comes(runs):
    first, _, _ = runs
    assert first.hits_on(RECOVERS_5XX) == ["500", "502", "200"]
    assert lead(first, RECOVERS_5XX) is not None


def test_a_listing_page_answering_503_once_is_retried_and_read(runs):
    first, _, _ = runs
    assert first.hits_on(LISTING_2) == ["503", "200"]
    briefs = {id_ for kind, id_ in first.records if kind == "brief"}
    assert briefs == {r["id"] for r in EXPECTED if r["kind"] == "brief"}


def test_429_with_retry_after_in_seconds_is_waited_for_then_retried(runs):
    first, _, _ = runs
    assert first.hits_on(RETRY_AFTER) == ["429", "200"]
    assert logged(first.log, "INFO", first.url + RETRY_AFTER, "Waiting 1 s before retrying")
    assert lead(first, RETRY_AFTER) is not None


def test_retry_after_as_a_date_counts_from_the_servers_own_date_not_the_local_clock(runs):
    first, _, _ = runs
    assert first.hits_on(RETRY_AFTER_DATE) == ["503", "200"]
    assert logged(first.log, "INFO", first.url + RETRY_AFTER_DATE, "Waiting 2 s before retrying")


def test_retry_after_longer_than_the_cap_gives_the_page_up_for_this_run_and_fails_it(runs):
    first, _, _ = runs
    assert first.hits_on(RETRY_AFTER_TOO_LONG) == ["429"]
    assert logged(first.log, "WARNING", first.url + RETRY_AFTER_TOO_LONG, "asks to wait 3600 s (Retry-After)")
    assert logged(first.log, "ERROR", first.url + RETRY_AFTER_TOO_LONG, "Request failed")
    assert first.stats["wirecrawler/retry_after_too_long"] == 1


def test_retries_are_bounded_and_each_one_waits_first(runs):
    first, _, _ = runs
    requests_per_path = {hit.path: first.hits_on(hit.path) for hit in first.hits}
    assert max(len(answers) for answers in requests_per_path.values()) == RETRIES + 1
    assert first.stats["wirecrawler/retry_waits"] == first.stats["retry/count"] >= 10
    assert re.search(r"Retry pacing: Retry-After honoured up to 60 s, else 0.1 s doubling", first.log)


def test_a_stalled_response_times_out_and_is_retried(runs):
    first, _, _ = runs
    assert first.hits_on(STALLS_ONCE) == ["hung up", "200"]
    assert first.stats["retry/reason_count/scrapy.exceptions.DownloadTimeoutError"] >= 1
    assert lead(first, STALLS_ONCE) is not None


def test_a_page_trickling_in_past_the_download_timeout_is_cut_off_each_time_and_reported(runs):
    """Each byte comes promptly; the whole page would take far longer than DOWNLOAD_TIMEOUT,
    which caps a download's total time, not the wait for its first byte."""
    first, _, _ = runs
    assert first.hits_on(TRICKLES) == ["200"] * (RETRIES + 1)
    assert logged(first.log, "ERROR", first.url + TRICKLES, f"took longer than {TIMEOUT}")
    assert lead(first, TRICKLES) is None


def test_a_connection_reset_mid_body_is_retried(runs):
    first, _, _ = runs
    assert first.hits_on(RESETS_ONCE) == ["200", "reset", "200"]
    assert first.stats["retry/reason_count/scrapy.exceptions.ResponseDataLossError"] == 1
    assert lead(first, RESETS_ONCE) is not None


def test_a_page_failing_every_retry_is_reported_with_its_url(runs):
    first, _, _ = runs
    assert first.hits_on(FAILS_EVERY_TIME) == ["500"] * (RETRIES + 1)
    assert logged(first.log, "ERROR", first.url + FAILS_EVERY_TIME, "Request failed")
    assert lead(first, FAILS_EVERY_TIME) is None


@pytest.mark.parametrize("path", [NO_DATE, BAD_DATE], ids=["missing", "garbage"])
def test_a_missing_or_garbage_date_header_is_warned_and_the_page_still_read(runs, path):
    first, _, _ = runs
    assert logged(first.log, "WARNING", first.url + path, "No usable Date header")
    assert lead(first, path) is not None


def test_date_header_warnings_are_counted(runs):
    first, _, _ = runs
    assert first.stats["wirecrawler/date_header_unusable"] == 2


def test_a_gone_article_is_a_warning_not_a_failed_request(runs):
    first, _, _ = runs
    assert first.hits_on(GONE) == ["404"]
    assert logged(first.log, "WARNING", first.url + GONE, "not fetched: HTTP 404: the site no longer has it")
    assert not logged(first.log, "ERROR", first.url + GONE, "")


def test_robots_txt_is_fetched_first_and_obeyed(runs):
    first, _, _ = runs
    assert str(first.hits[0]) == "200 /robots.txt"
    assert first.hits_on(DISALLOWED) == []
    assert logged(first.log, "WARNING", first.url + DISALLOWED, "not fetched: Forbidden by robots.txt")


def test_a_redirect_loop_is_cut_at_its_first_repeat_and_reported(runs):
    first, _, _ = runs
    assert (first.hits_on(LOOPS), first.hits_on(LOOP_BACK)) == (["302"], ["302"])
    assert logged(first.log, "WARNING", first.url + LOOPS, "not fetched: a redirect loop")


def test_a_redirect_chain_longer_than_redirect_max_times_is_cut_and_reported(runs):
    first, _, _ = runs
    limit = project_settings.REDIRECT_MAX_TIMES
    followed = [path for path in CHAIN if first.hits_on(path)]
    assert followed == CHAIN[:limit]
    assert logged(first.log, "WARNING", first.url + CHAIN[limit - 1], "max redirections reached")


def test_every_request_says_who_we_are(runs):
    first, second, _ = runs
    agents = {hit.user_agent for hit in first.hits + second.hits}
    assert agents == {project_settings.USER_AGENT}


def test_never_more_requests_at_once_than_the_per_host_limit(runs):
    """Every page waits a little on the server, so that requests overlap up to the limit."""
    _, _, max_in_flight = runs
    assert 2 <= max_in_flight <= project_settings.CONCURRENT_REQUESTS_PER_DOMAIN


def test_the_run_with_pages_never_fetched_fails_and_says_why(runs):
    first, _, _ = runs
    assert first.crawl.returncode == 1
    assert "Traceback" not in first.log
    assert re.search(r"Run failed: .*requests failed", first.log)
    assert first.stats["wirecrawler/requests_failed"] == 3  # too long a Retry-After, trickling, 500s
    assert first.stats["wirecrawler/articles_not_fetched"] == 4  # gone, disallowed, loop, chain


def test_every_page_the_first_run_could_not_fetch_is_missing_from_it_and_only_those(runs):
    first, _, _ = runs
    missing = {url_path(r["url"]) for r in EXPECTED if r["kind"] == "lead"} - {
        url_path(r["url"]) for (kind, _), r in first.records.items() if kind == "lead"
    }
    assert missing == set(NOT_FETCHED)


def test_the_next_run_brings_the_missing_leads_and_nothing_twice(runs):
    first, second, _ = runs
    assert second.crawl.returncode == 0, second.log[-3000:]
    assert {url_path(r["url"]) for r in second.records.values()} == set(NOT_FETCHED)
    assert all(kind == "lead" for kind, _ in second.records)
    assert set(first.records) | set(second.records) == set(by_key(EXPECTED))
    assert not set(first.records) & set(second.records)
