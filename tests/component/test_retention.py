"""Feed retention at the end of a run (``wirecrawler.retention.FeedRetention``), built with ``get_crawler``."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from scrapy import signals
from scrapy.utils.project import get_project_settings

from wirecrawler.retention import FeedRetention, RetentionConfig
from wirecrawler.store import publog
from wirecrawler.store.publog import PRUNED, PublicationLog

NOW = datetime.now(UTC)


def with_retention(**settings) -> dict:
    """The project's extensions and feed retention, as settings.py is to list it, and *settings*."""
    extensions = {**get_project_settings().getdict("EXTENSIONS"), "wirecrawler.retention.FeedRetention": 120}
    return {"EXTENSIONS": extensions, **settings}


def publish(feed_dir, kind: str, days_ago: float, monkeypatch):
    """A feed file entered in the publication log *days_ago*."""
    at = NOW - timedelta(days=days_ago)
    stamp = at.strftime("%Y-%m-%dT%H-%M-%SZ")
    file = feed_dir / f"{kind}s" / f"{stamp}.jsonl"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps({"id": "0" * 32, "kind": kind, "headline": stamp}) + "\n", encoding="utf-8")
    monkeypatch.setattr(publog, "_now", lambda: at.replace(microsecond=0).isoformat().replace("+00:00", "Z"))
    return PublicationLog(feed_dir).append_published(file, kind=kind, records=1, run=stamp)


@pytest.fixture
def feed_dir(tmp_path):
    return tmp_path / "feeds"  # make_crawler's WIRECRAWLER_FEED_DIR


def retention_lines(caplog) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "wirecrawler.retention"]


def test_off_by_default(make_crawler):
    crawler = make_crawler(**with_retention())
    assert RetentionConfig.from_settings(crawler.settings).keep_days == RetentionConfig.keep_days == 0
    assert crawler.get_extension(FeedRetention) is None


@pytest.mark.parametrize("value", ["-1", "vijf", "nan", "inf"])
def test_a_bad_number_of_days_is_refused_naming_the_setting(make_crawler, value):
    with pytest.raises(ValueError, match=f"WIRECRAWLER_FEED_RETENTION_DAYS={value}: the days feed files are kept must be "):
        make_crawler(**with_retention(WIRECRAWLER_FEED_RETENTION_DAYS=value, WIRECRAWLER_SEEN_STORE_ENABLED=False))


def test_engine_stopped_prunes_the_old_files_and_keeps_the_recent_ones(make_crawler, feed_dir, monkeypatch, caplog):
    old = [publish(feed_dir, "brief", 9, monkeypatch), publish(feed_dir, "lead", 8, monkeypatch)]
    recent = [publish(feed_dir, "brief", 1, monkeypatch), publish(feed_dir, "lead", 0, monkeypatch)]
    crawler = make_crawler(spider_args={}, **with_retention(WIRECRAWLER_FEED_RETENTION_DAYS="7.5"))
    assert crawler.get_extension(FeedRetention).keep_days == 7.5
    with caplog.at_level(logging.INFO, logger="wirecrawler.retention"):
        crawler.signals.send_catch_log(signals.engine_stopped)
    assert [(feed_dir / e.path).exists() for e in old + recent] == [False, False, True, True]
    pruned = [(e.of_seq, e.path) for e in PublicationLog(feed_dir).entries() if e.event == PRUNED]
    assert pruned == [(e.seq, e.path) for e in old]
    assert retention_lines(caplog) == [
        (logging.INFO, f"Feed retention: 2 files older than 7.5 days pruned from {feed_dir}")
    ]
    assert crawler.stats.get_value("wirecrawler/feeds_pruned") == 2


def test_nothing_old_enough_prunes_nothing_and_counts_zero(make_crawler, feed_dir, monkeypatch, caplog):
    publish(feed_dir, "lead", 1, monkeypatch)
    crawler = make_crawler(spider_args={}, **with_retention(WIRECRAWLER_FEED_RETENTION_DAYS="30"))
    log_before = PublicationLog(feed_dir).path.read_bytes()
    with caplog.at_level(logging.INFO, logger="wirecrawler.retention"):
        crawler.signals.send_catch_log(signals.engine_stopped)
    assert PublicationLog(feed_dir).path.read_bytes() == log_before
    assert retention_lines(caplog) == [
        (logging.INFO, f"Feed retention: 0 files older than 30 days pruned from {feed_dir}")
    ]
    assert crawler.stats.get_value("wirecrawler/feeds_pruned") == 0


def test_a_feed_directory_without_log_is_left_as_it_is(make_crawler, feed_dir, caplog):
    crawler = make_crawler(spider_args={}, **with_retention(WIRECRAWLER_FEED_RETENTION_DAYS="1"))
    with caplog.at_level(logging.INFO, logger="wirecrawler.retention"):
        crawler.signals.send_catch_log(signals.engine_stopped)
    assert not PublicationLog(feed_dir).path.exists()
    assert retention_lines(caplog)[0][0] == logging.INFO


def test_a_file_that_cannot_be_deleted_is_an_error_with_its_path_and_no_exception(
    make_crawler, feed_dir, monkeypatch, caplog
):
    first = publish(feed_dir, "brief", 9, monkeypatch)
    second = publish(feed_dir, "lead", 9, monkeypatch)
    third = publish(feed_dir, "lead", 8, monkeypatch)
    # A directory where the file was: unlink() refuses it, root or not.
    blocked = feed_dir / second.path
    blocked.unlink()
    blocked.mkdir()
    (blocked / "inside").write_text("x")
    crawler = make_crawler(**with_retention(WIRECRAWLER_FEED_RETENTION_DAYS="7"))
    extension = crawler.get_extension(FeedRetention)
    with caplog.at_level(logging.INFO, logger="wirecrawler.retention"):
        extension.engine_stopped()  # returns, no exception
    assert retention_lines(caplog) == [
        (logging.ERROR, f"Feed retention stopped after pruning 1 files: {blocked}: Is a directory")
    ]
    assert crawler.stats.get_value("wirecrawler/feeds_pruned") == 1
    assert not (feed_dir / first.path).exists() and blocked.exists() and (feed_dir / third.path).exists()
    assert [e.of_seq for e in PublicationLog(feed_dir).entries() if e.event == PRUNED] == [first.seq]


def test_a_damaged_log_is_an_error_and_nothing_is_pruned(make_crawler, feed_dir, monkeypatch, caplog):
    entry = publish(feed_dir, "lead", 9, monkeypatch)
    with PublicationLog(feed_dir).path.open("a", encoding="utf-8") as log:
        log.write("garbage\n")
    crawler = make_crawler(**with_retention(WIRECRAWLER_FEED_RETENTION_DAYS="7"))
    with caplog.at_level(logging.INFO, logger="wirecrawler.retention"):
        crawler.get_extension(FeedRetention).engine_stopped()
    [(level, message)] = retention_lines(caplog)
    assert level == logging.ERROR and "publications.log" in message and "nothing pruned" in message
    assert (feed_dir / entry.path).exists()
