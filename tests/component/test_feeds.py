"""The feed storage as Scrapy builds it: what it publishes, under which name, and what it commits."""

from __future__ import annotations

import json
import resource
import signal

import pytest

from wirecrawler.extensions import SeenStoreExtension
from wirecrawler.feeds import FileFeedStorage
from wirecrawler.store.feedfile import InvalidFeedFile
from wirecrawler.store.publog import PublicationLog, file_digest

START_URL = "http://127.0.0.1:8000/nieuws/buitenland"
LEAD_OPTIONS = {"format": "jsonlines", "item_classes": ["wirecrawler.items.Lead"], "wirecrawler_kind": "lead"}


def line(story: str, kind: str = "lead") -> bytes:
    return (json.dumps({"id": story * 32, "kind": kind, "headline": f"Verhaal {story}"}) + "\n").encode()


@pytest.fixture
def crawler(make_crawler):
    return make_crawler({"start_url": START_URL})


def storage_for(crawler, name: str = "run.jsonl", **options) -> FileFeedStorage:
    feed_dir = crawler.settings["WIRECRAWLER_FEED_DIR"]
    return FileFeedStorage.from_crawler(crawler, f"{feed_dir}/leads/{name}", feed_options={**LEAD_OPTIONS, **options})


def journal(crawler):
    return crawler.get_extension(SeenStoreExtension).store.journal()


def publish(crawler, storage: FileFeedStorage, *lines: bytes):
    file = storage.open(crawler.spider)
    for data in lines:
        file.write(data)
    storage.store(file)


def test_a_per_kind_feed_is_published_entered_in_the_log_and_journaled_with_what_it_holds(crawler):
    storage = storage_for(crawler)
    publish(crawler, storage, line("a"), line("b"))
    assert storage.published and storage.published_path == storage.target and storage.target.exists()
    assert storage.keys == [("lead", "a" * 32), ("lead", "b" * 32)]
    [entry] = PublicationLog(storage.target.parent.parent).entries()
    assert (entry.seq, entry.path, entry.kind, entry.records) == (1, "leads/run.jsonl", "lead", 2)
    assert (entry.bytes, entry.sha256) == file_digest(storage.target)
    assert entry.run == crawler.spider.run.stamp
    [journaled] = journal(crawler)
    assert (journaled.state, journaled.pairs, journaled.target_path) == ("publishing", 2, str(storage.target))
    assert not storage.temp_path.exists()


def test_a_taken_name_is_never_replaced_the_feed_gets_the_next_free_one(crawler):
    first, second, third = storage_for(crawler), storage_for(crawler), storage_for(crawler)
    publish(crawler, first, line("a"))
    publish(crawler, second, line("b"))
    publish(crawler, third, line("c"))
    assert [s.published_path.name for s in (first, second, third)] == ["run.jsonl", "run-2.jsonl", "run-3.jsonl"]
    assert first.target.read_bytes() == line("a")  # untouched by the runs after it
    entries = PublicationLog(first.target.parent.parent).entries()
    assert [(e.seq, e.path) for e in entries] == [(1, "leads/run.jsonl"), (2, "leads/run-2.jsonl"), (3, "leads/run-3.jsonl")]


def test_a_file_with_a_torn_line_is_not_published_and_commits_nothing(crawler):
    storage = storage_for(crawler)
    with pytest.raises(InvalidFeedFile, match="line 2 is not a complete record"):
        publish(crawler, storage, line("a"), line("b")[:20] + line("c"))  # half a record glued to the next
    assert not storage.published and not storage.target.exists() and not storage.temp_path.exists()
    assert journal(crawler) == [] and PublicationLog(storage.target.parent.parent).entries() == []


def test_a_failed_write_abandons_the_file_whole(crawler):
    """A real failed write: the file size limit (RLIMIT_FSIZE) stops the second record half-way."""
    storage = storage_for(crawler)
    file = storage.open(crawler.spider)
    file.write(line("a"))
    file.flush()
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(line("a")) + 10, limits[1]))
    try:
        with pytest.raises(OSError):
            file.write(line("b") * 1000)
            file.flush()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, previous)
    file.write(line("c"))  # Scrapy's exporter goes on with the next record
    with pytest.raises(InvalidFeedFile, match="a write failed"):
        storage.store(file)
    assert not storage.target.exists() and not storage.temp_path.exists() and journal(crawler) == []


def test_a_file_a_post_processing_plugin_closed_is_still_published(crawler):
    storage = storage_for(crawler)
    file = storage.open(crawler.spider)
    file.write(line("a"))
    file.close()  # as a plugin that closes its output in close() does
    storage.store(file)
    assert storage.target.read_bytes() == line("a")


def test_an_extra_output_file_marks_nothing_seen_and_is_not_in_the_log(crawler, tmp_path):
    out = tmp_path / "out.jsonl"
    storage = FileFeedStorage.from_crawler(crawler, str(out), feed_options={"format": "jsonlines", "overwrite": True})
    publish(crawler, storage, line("a"))
    out_again = FileFeedStorage.from_crawler(crawler, str(out), feed_options={"format": "jsonlines", "overwrite": True})
    publish(crawler, out_again, line("b"))  # -O replaces, as in Scrapy
    assert out.read_bytes() == line("b")
    assert storage.keys == [] and [entry.pairs for entry in journal(crawler)] == [0, 0]
    assert not (tmp_path / "feeds" / "publications.log").exists()


def test_the_storage_keeps_scrapys_name_for_the_stats_users_monitor():
    assert FileFeedStorage.__name__ == "FileFeedStorage"
