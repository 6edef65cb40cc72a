"""Components as Scrapy builds them (``get_crawler``), on a real SQLite seen store."""

from __future__ import annotations

import gc
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from itemadapter import ItemAdapter
from scrapy import Request, signals
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.http import HtmlResponse

from tests.runstats import healthy_stats
from wirecrawler.config import WireConfig
from wirecrawler.extensions import CollectorThreshold, SeenStoreExtension
from wirecrawler.items import Brief, Lead, SeenLabel, Sighting
from wirecrawler.logformatter import ShownOnlyLogFormatter
from wirecrawler.middlewares import SafetyMiddleware
from wirecrawler.pipelines import DedupePipeline, DuplicateRecord, RecordPipeline
from wirecrawler.runs.verdict import RunVerdict

REF = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def sighting(kind="lead", labels=(), headline="Israëlische krijgsmacht voert nieuwe aanvalsgolf uit op Teheran"):
    """A sighting as the spider makes it: text cleaned by the page reader (``wirecrawler.portal``)."""
    return Sighting(
        kind=kind,
        story_id="b15828a769adad44479d1a44a89e0487",
        headline=headline,
        url="http://127.0.0.1/nieuws/israelische-krijgsmacht-voert-nieuwe-aanvalsgolf-uit-op-teheran",
        paragraphs=["TEHERAN (ANP) - De Israëlische krijgsmacht zegt.", "Tweede alinea."],
        section="Buitenland",
        source_url="http://127.0.0.1/nieuws/buitenland",
        scraped_at=REF,
        labels=list(labels),
    )


def test_record_pipeline_builds_a_lead_with_the_finest_time(crawler):
    pipeline = RecordPipeline.from_crawler(crawler)
    labels = [
        SeenLabel("10 uur geleden", False, REF, "http://127.0.0.1/nieuws/buitenland"),
        SeenLabel("1:00", True, REF, "http://127.0.0.1/nieuws/buitenland"),
    ]
    record = ItemAdapter(pipeline.process_item(sighting(labels=labels)))
    assert isinstance(record.item, Lead)
    assert record.asdict() == {
        "id": "b15828a769adad44479d1a44a89e0487",
        "kind": "lead",
        "headline": "Israëlische krijgsmacht voert nieuwe aanvalsgolf uit op Teheran",
        "url": "http://127.0.0.1/nieuws/israelische-krijgsmacht-voert-nieuwe-aanvalsgolf-uit-op-teheran",
        "section": "Buitenland",
        "places": ["TEHERAN"],
        "agencies": ["ANP"],
        "text": "De Israëlische krijgsmacht zegt.\n\nTweede alinea.",
        "published_at": "2026-11-24T01:00:00+01:00",
        "published_precision": "minute",
        "published_label": "1:00",
        "scraped_at": "2026-11-24T10:00:00Z",
        "source_url": "http://127.0.0.1/nieuws/buitenland",
    }
    assert crawler.stats.get_value("wirecrawler/records_built/lead") == 1


def test_record_pipeline_counts_unreadable_labels_and_keeps_the_record(crawler):
    pipeline = RecordPipeline.from_crawler(crawler)
    labels = [SeenLabel("999999 jaar geleden", False, REF, "http://127.0.0.1/nieuws/buitenland")]
    record = pipeline.process_item(sighting(kind="brief", labels=labels))
    assert isinstance(record, Brief)
    assert (record.published_at, record.published_precision, record.published_label) == (None, None, None)
    assert crawler.stats.get_value("wirecrawler/labels_unreadable") == 1


def test_dedupe_drops_repeats_within_the_run(crawler):
    records, dedupe = RecordPipeline.from_crawler(crawler), DedupePipeline.from_crawler(crawler)
    lead = records.process_item(sighting())
    assert dedupe.process_item(lead) is lead
    with pytest.raises(DuplicateRecord, match="already emitted in this run"):
        dedupe.process_item(records.process_item(sighting()))
    # The brief of the same story is another (kind, id): it passes.
    brief = records.process_item(sighting(kind="brief"))
    assert dedupe.process_item(brief) is brief
    assert crawler.stats.get_value("wirecrawler/dropped/duplicate_in_run") == 1


def test_dedupe_drops_what_a_published_feed_already_holds(crawler):
    store = crawler.get_extension(SeenStoreExtension).store
    store.commit([("lead", "b15828a769adad44479d1a44a89e0487")])
    records, dedupe = RecordPipeline.from_crawler(crawler), DedupePipeline.from_crawler(crawler)
    with pytest.raises(DuplicateRecord, match="published by an earlier run"):
        dedupe.process_item(records.process_item(sighting()))
    brief = records.process_item(sighting(kind="brief"))
    assert dedupe.process_item(brief) is brief
    assert crawler.stats.get_value("wirecrawler/dropped/seen_before") == 1


def test_run_outcome_names_every_cause(make_crawler):
    """The run's verdict (``RunVerdict``) names each cause, the first failed request with its
    URL and reason, then its monitors' failures, and the count of errors logged last."""
    crawler = make_crawler(spider_args={"start_url": "http://127.0.0.1:8080/nieuws/buitenland"})
    verdict = crawler.get_extension(RunVerdict)
    verdict.engine_started()  # a crawl that ran: its monitors judge it
    crawler.stats.set_stats(healthy_stats())
    verdict.spider_closed(spider=crawler.spider, reason="finished")
    assert verdict.failures() == []
    assert [check.passed for check in verdict.checks] == [True] * 6
    first = "http://127.0.0.1:8080/nieuws/buitenland: DNS lookup failed: no address for 127.0.0.1"
    crawler.stats.set_value("wirecrawler/requests_failed", 2)
    crawler.stats.set_value("wirecrawler/first_failed_request", first)
    crawler.stats.set_value("wirecrawler/layout_drift", 1)
    crawler.stats.set_value("feedexport/failed_count/FileFeedStorage", 1)
    crawler.stats.set_value("log_count/ERROR", 5)
    verdict.spider_closed(spider=crawler.spider, reason="shutdown")
    failed = [check for check in verdict.checks if not check.passed]
    assert [check.name for check in failed] == ["listing_rows", "requests"]  # the drift and the failed requests
    assert verdict.failures() == [
        f"2 requests failed (first: {first})",
        "1 listing pages had no rows (layout drift)",
        "1 feeds could not be stored (feedexport/failed_count/FileFeedStorage)",
        "the spider closed with reason 'shutdown'",
        *[check.failure() for check in failed],
        "5 errors were logged",
    ]
    crawler.stats.set_value("wirecrawler/requests_failed", 1)
    assert verdict.failures()[0] == f"1 request failed ({first})"


def test_spider_allows_the_start_url_host_only(make_crawler):
    """The spider's run names its start URL; the crawl's boundary (``SafetyMiddleware``) is built from it."""
    start_url = "http://127.0.0.1:8080/nieuws/buitenland"
    crawler = make_crawler(spider_args={"start_url": start_url, "max_pages": "3"})
    spider = crawler.spider
    assert (spider.run.start_url, spider.run.job, spider.max_pages) == (
        start_url,
        {"spider": "buitenland", "start_url": start_url},
        3,
    )
    boundary = SafetyMiddleware.from_crawler(crawler).boundary
    assert boundary.judge("http://127.0.0.1:8080/nieuws/x") is None
    assert boundary.judge("http://127.0.0.1:8081/nieuws/x").reason == "private_address"  # another port
    assert boundary.judge("http://127.0.0.2:8080/nieuws/x").reason == "private_address"  # another host
    assert boundary.judge("http://www.zeelandnet.nl/nieuws/x").reason == "off_site"


def test_an_unreadable_label_is_counted_on_every_record_that_shows_it(crawler):
    """Readings of labels are remembered across records, their failures are not."""
    pipeline = RecordPipeline.from_crawler(crawler)
    labels = [SeenLabel("999999 jaar geleden", False, REF, "http://127.0.0.1/nieuws/buitenland")]
    pipeline.process_item(sighting(kind="brief", labels=labels))
    pipeline.process_item(sighting(kind="lead", labels=labels))
    assert crawler.stats.get_value("wirecrawler/labels_unreadable") == 2


@pytest.fixture
def python_collector():
    """The interpreter's collector thresholds, put back whatever a test does to them."""
    saved = gc.get_threshold()
    yield saved
    gc.set_threshold(*saved)


def test_the_collector_threshold_holds_while_the_engine_runs(crawler, python_collector):
    assert crawler.get_extension(CollectorThreshold) is not None
    crawler.signals.send_catch_log(signals.engine_started)
    threshold = WireConfig.from_settings(crawler.settings).gc_threshold
    assert threshold == WireConfig.gc_threshold > python_collector[0]  # the project's default, higher than CPython's
    assert gc.get_threshold() == (threshold, *python_collector[1:])
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert gc.get_threshold() == python_collector


def test_a_zero_collector_threshold_leaves_cpythons_own(make_crawler, python_collector):
    crawler = make_crawler(WIRECRAWLER_SEEN_STORE_ENABLED=False, WIRECRAWLER_GC_THRESHOLD=0)
    assert crawler.get_extension(CollectorThreshold) is None
    crawler.signals.send_catch_log(signals.engine_started)
    assert gc.get_threshold() == python_collector


def formatter_at(make_crawler, level):
    """The project's log formatter at *level*, with a spider and a response to format messages about."""
    crawler = make_crawler(
        spider_args={"start_url": "http://127.0.0.1:8080/nieuws/buitenland"},
        LOG_LEVEL=level,
        WIRECRAWLER_SEEN_STORE_ENABLED=False,
    )
    spider = crawler.spider
    response = HtmlResponse("http://127.0.0.1:8080/nieuws/buitenland", body=b"<html></html>")
    response.request = Request(response.url)
    return crawler.logformatter, spider, response


@pytest.mark.parametrize("level", ["INFO", "info", 20])
def test_log_messages_below_the_log_level_are_not_made(make_crawler, level):
    formatter, spider, response = formatter_at(make_crawler, level)
    assert isinstance(formatter, ShownOnlyLogFormatter)
    item = sighting()
    assert formatter.crawled(response.request, response, spider) is None
    assert formatter.scraped(item, response, spider) is None
    assert formatter.dropped(item, DuplicateRecord("lead x already emitted"), response, spider) is None
    shown = formatter.dropped(item, DropItem("broken"), response, spider)
    assert shown is not None and shown["level"] >= 20


def test_every_log_message_is_made_at_debug(make_crawler):
    formatter, spider, response = formatter_at(make_crawler, "DEBUG")
    assert formatter.scraped(sighting(), response, spider)["level"] == 10
    assert formatter.dropped(sighting(), DuplicateRecord("x"), response, spider)["level"] == 10


# --- The spider's listing callback: the articles it requests, the Date it reads labels against.

LISTING_URL = "http://127.0.0.1:8080/nieuws/buitenland"
SAMPLE_LISTING = (Path(__file__).resolve().parents[2] / "sample_site" / "nieuws" / "buitenland.html").read_bytes()


def listing_response(date: str) -> HtmlResponse:
    return HtmlResponse(
        LISTING_URL,
        body=SAMPLE_LISTING,
        headers={"Content-Type": "text/html; charset=utf-8", "Date": date},
        request=Request(LISTING_URL, meta={"wirecrawler_page": "listing", "page_number": 1}),
    )


def article_requests(requests) -> list[Request]:
    return [request for request in requests if request.callback.__name__ == "parse_article"]


def test_the_listing_counts_every_article_it_requests_and_not_those_already_seen(make_crawler):
    crawler = make_crawler(spider_args={"start_url": LISTING_URL})
    spider = crawler.spider
    requested = article_requests(spider.parse_listing(listing_response("Tue, 24 Nov 2026 10:00:00 GMT")))
    assert len(requested) == crawler.stats.get_value("wirecrawler/rows/listing") == 10
    assert crawler.stats.get_value("wirecrawler/articles_requested") == 10
    # A rerun: two of the stories' leads are in the seen store, and their articles are not requested.
    rows = spider._book.add_page(spider._read(listing_response("Tue, 24 Nov 2026 10:00:00 GMT")), REF)
    spider.seen_store.commit([("lead", story) for _, story in rows[:2]])
    again = article_requests(spider.parse_listing(listing_response("Tue, 24 Nov 2026 10:00:00 GMT")))
    assert len(again) == 8
    assert crawler.stats.get_value("wirecrawler/articles_requested") == 18
    assert crawler.stats.get_value("wirecrawler/articles_already_seen") == 2


@pytest.mark.parametrize("date", ["Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT"])
def test_a_listing_with_a_date_that_cannot_be_used_counts_from_the_local_clock(make_crawler, caplog, date):
    crawler = make_crawler(spider_args={"start_url": LISTING_URL})
    before = datetime.now(UTC)
    with caplog.at_level(logging.WARNING, logger="wirecrawler.spiders.buitenland"):
        requested = article_requests(crawler.spider.parse_listing(listing_response(date)))
    assert len(requested) == 10
    assert crawler.stats.get_value("wirecrawler/date_header_unusable") == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        f"No usable Date header on {LISTING_URL}; its times count from the local clock"
    ]
    # Its rows' labels are read against the local clock, and their records build.
    released = list(crawler.spider.release())
    assert released and all(seen.reference >= before for sighting in released for seen in sighting.labels)
    pipeline = RecordPipeline.from_crawler(crawler)
    records = [pipeline.process_item(sighting) for sighting in released]
    assert all(record.published_at for sighting, record in zip(released, records, strict=True) if sighting.labels)
    assert not crawler.stats.get_value("wirecrawler/labels_unreadable")


def test_a_run_that_linked_new_articles_and_read_none_fails(make_crawler):
    crawler = make_crawler(spider_args={"start_url": LISTING_URL})
    verdict = crawler.get_extension(RunVerdict)
    verdict.engine_started()
    crawler.stats.set_stats(
        healthy_stats(
            wirecrawler__articles_requested=12,
            wirecrawler__articles_not_fetched=12,
            wirecrawler__pages__article=None,
            wirecrawler__rows__more_news=None,
            wirecrawler__records_built__lead=None,
            wirecrawler__emitted__lead=None,
            **{f"wirecrawler__fields_filled__lead__{name}": None for name in ("places", "agencies", "text", "published_at")},
        )
    )
    verdict.spider_closed(spider=crawler.spider, reason="finished")
    [failure] = verdict.failures()
    assert failure.startswith("monitor article_pages: 12 new articles were linked and none gave a lead: ")
    # The same run with nothing new to request (a rerun) passes.
    crawler.stats.set_value("wirecrawler/articles_requested", 0)
    crawler.stats.set_value("wirecrawler/articles_not_fetched", 0)
    verdict.spider_closed(spider=crawler.spider, reason="finished")
    assert verdict.failures() == []


@pytest.mark.parametrize(
    ("store", "refused_as", "said"),
    [
        # Nothing listens on port 1: a server that cannot be reached now, a run to try again later.
        ("postgresql://wire@127.0.0.1:1/wirecrawler", "seen_store_unavailable",
         "cannot reach the shared store postgresql://wire@127.0.0.1:1/wirecrawler: connection failed"),
        # A URL libpq cannot parse is shown by its scheme only: it may hold a password.
        ("postgresql://wire:secret@127.0.0.1:1/wirecrawler?no_such_option=1", "seen_store_unusable",
         'cannot use the shared store URL postgresql://…: invalid URI query parameter: "no_such_option"'),
    ],
)  # fmt: skip
def test_a_shared_store_that_cannot_be_used_refuses_the_crawl_before_it_fetches(make_crawler, store, refused_as, said):
    crawler = make_crawler(WIRECRAWLER_SEEN_STORE=store, WIRECRAWLER_FEED_DIR="s3://bucket/feeds")
    extension = crawler.get_extension(SeenStoreExtension)
    assert extension.store is None and extension.objects is None
    with pytest.raises(CloseSpider) as refused:
        extension.refuse_to_start(spider=None)
    assert refused.value.reason == refused_as
    assert crawler.stats.get_value("wirecrawler/not_started").startswith(said)
