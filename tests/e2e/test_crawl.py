"""End to end: ``scrapy crawl buitenland`` as a subprocess against the local sample site."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.crawling import ROOT, SAMPLE_SITE, by_key, crawl, differences, read_jsonl, url_path
from testsites import sample as sitegen
from wirecrawler.items import FEED_FIELDS
from wirecrawler.local.server import served


@pytest.fixture(scope="module")
def first_run(site_url, tmp_path_factory):
    state = tmp_path_factory.mktemp("first")
    return state, crawl(site_url, state)


def test_crawl_equals_the_expected_feed(first_run):
    _, run = first_run
    assert run.returncode == 0, run.log[-3000:]
    assert differences(run.records(), read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")) == []


def test_records_hold_the_contract_fields_in_order_with_scrape_provenance(first_run, site_url):
    _, run = first_run
    reference = (SAMPLE_SITE / "REF").read_text().strip()
    for record in run.records():
        assert list(record) == FEED_FIELDS
        assert record["scraped_at"] == "2026-11-24T23:20:00Z", reference
        assert record["source_url"].startswith(site_url + "/nieuws/")
        assert record["url"].startswith(site_url + "/nieuws/")
        if record["kind"] == "lead":
            assert record["source_url"] == record["url"]


def test_one_feed_file_per_kind_named_by_the_run_start(first_run):
    _, run = first_run
    for kind in ("lead", "brief"):
        [path] = run.files[kind]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.jsonl", path.name)
        assert {r["kind"] for r in read_jsonl(path)} == {kind}
    assert run.files["lead"][0].name == run.files["brief"][0].name
    leftovers = [p.name for p in run.feed_dir.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_feed_lines_are_utf8_json_without_ascii_escapes(first_run):
    _, run = first_run
    raw = run.files["lead"][0].read_text(encoding="utf-8")
    assert "\\u00eb" not in raw and "ë" in raw


def test_rerun_emits_nothing_and_fetches_listing_pages_only(first_run, site_url):
    state, _ = first_run
    before = len(site_url.requested())
    again = crawl(site_url, state)
    assert again.returncode == 0, again.log[-3000:]
    assert again.records() == []
    assert again.files == {"lead": [], "brief": []}
    assert [line.split("?")[0] for line in site_url.requested()[before:]] == [
        "200 /robots.txt",
        *["200 /nieuws/buitenland"] * 3,
    ]
    assert re.search(r"'wirecrawler/dropped/seen_before': \d+", again.log)
    # Known stories are routine on every run: no warning, and no item dumped into the log.
    assert " WARNING: " not in again.log and "Sighting(" not in again.log


def test_new_stories_alone_come_out_of_the_next_run(site_url, tmp_path):
    state = tmp_path / "state"
    assert crawl(site_url, state).returncode == 0
    newer = tmp_path / "newer"
    sitegen.generate(newer, variant="new-stories")
    with served(newer) as newer_url:
        run = crawl(newer_url, state)
    assert run.returncode == 0, run.log[-3000:]
    assert differences(run.records(), read_jsonl(newer / "expected-new.jsonl")) == []
    assert re.search(r"'wirecrawler/pages/article': 2\b", run.log)


def test_output_option_writes_both_kinds_to_one_file(site_url, tmp_path):
    out = tmp_path / "out.jsonl"
    run = crawl(site_url, tmp_path, output=out)
    assert run.returncode == 0, run.log[-3000:]
    assert differences(run.records(), read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")) == []
    # -O adds a feed: downstream readers of the per-kind feeds still get every record.
    per_kind = [r for paths in run.files.values() for path in paths for r in read_jsonl(path)]
    assert by_key(per_kind) == by_key(run.records())
    # The seen store is committed after -O's file is published: a rerun emits nothing.
    again = crawl(site_url, tmp_path, output=tmp_path / "again.jsonl")
    assert again.returncode == 0 and again.records() == []


def test_page_limits(site_url, tmp_path):
    full = crawl(site_url, tmp_path / "full", "-a", "max_age_hours=100000", "-a", "max_pages=50")
    assert full.returncode == 0, full.log[-3000:]
    assert differences(full.records(), read_jsonl(SAMPLE_SITE / "expected-feed-full.jsonl")) == []
    one = crawl(site_url, tmp_path / "one", "-a", "max_pages=1")
    assert one.returncode == 0
    assert re.search(r"'wirecrawler/pages/listing': 1\b", one.log)
    assert "Stopping at listing page 1: max_pages=1" in one.log


def test_fetches_each_listing_and_lead_article_once_and_nothing_else(tmp_path):
    with served(SAMPLE_SITE) as url:
        assert crawl(url, tmp_path).returncode == 0
        requested = url.requested()
    expected = read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")
    articles = sorted(f"200 {url_path(r['url'])}" for r in expected if r["kind"] == "lead")
    listings = ["200 /nieuws/buitenland", "200 /nieuws/buitenland?page=2", "200 /nieuws/buitenland?page=3"]
    assert requested[0] == "200 /robots.txt"
    assert [line for line in requested if "/nieuws/buitenland" in line] == listings
    assert sorted(line for line in requested[1:] if "/nieuws/buitenland" not in line) == articles


def test_dead_server_fails_the_run(tmp_path):
    with served(SAMPLE_SITE) as url:
        pass  # the port is now closed
    run = crawl(url, tmp_path, "-s", "RETRY_TIMES=0")
    assert run.returncode != 0
    assert "Run failed" in run.log and "requests failed" in run.log
    assert run.records() == []


def test_changed_listing_markup_fails_the_run(tmp_path):
    drifted = tmp_path / "drifted"
    sitegen.generate(drifted, variant="renamed-classes")
    with served(drifted) as url:
        run = crawl(url, tmp_path)
    assert run.returncode != 0
    assert "has no rows" in run.log and "layout drift" in run.log


def test_bad_arguments_are_a_usage_error_said_in_one_line(tmp_path):
    run = crawl("http://127.0.0.1:9", tmp_path, "-a", "max_pages=zero")
    assert run.returncode == 2
    assert "error: -a max_pages must be a positive number, not 'zero'" in run.log
    assert "Traceback" not in run.log


def test_parse_command_reads_the_seed_text():
    seed = ROOT / "tests" / "fixtures" / "seed-article.txt"
    done = subprocess.run(
        [sys.executable, "-m", "wirecrawler", "parse", str(seed), "--now", "2026-11-24T10:00:00Z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    records = [json.loads(line) for line in done.stdout.splitlines()]
    leads = [r for r in records if r["kind"] == "lead"]
    briefs = [r for r in records if r["kind"] == "brief"]
    assert len(leads) == 1 and len(briefs) == 7
    [lead] = leads
    assert (lead["places"], lead["agencies"], lead["text"].count("\n\n")) == (["SEOUL"], ["ANP"], 2)
    assert lead["headline"] == "Zuid-Korea: al 3000 Noord-Koreaanse militairen naar Rusland"
    assert lead["id"] == "76cbec0cf7e62682715fbb37775e517a"
    assert [(b["places"], b["agencies"], b["published_label"]) for b in briefs] == [
        (["PARIJS"], ["ANP", "AFP"], "1 uur geleden"),
        (["NEW YORK"], ["ANP", "RTR"], "8 uur geleden"),
        (["PARIJS"], ["ANP", "RTR"], "8 uur geleden"),
        (["WARSCHAU"], ["ANP", "BLOOMBERG", "RTR"], "8 uur geleden"),
        (["WEST BLOOMFIELD"], ["ANP"], "9 uur geleden"),
        (["WASHINGTON"], ["ANP", "AFP", "BLOOMBERG"], "10 uur geleden"),
        (["TEHERAN"], ["ANP"], "10 uur geleden"),
    ]
    assert briefs[0]["published_at"] == "2026-11-24T10:00:00+01:00"
    assert all(b["headline"] is None and b["url"] is None for b in briefs)
    assert briefs[0]["text"].startswith("Een Franse militair is gedood")


def test_parse_command_reads_saved_html_like_the_crawl():
    page = SAMPLE_SITE / "nieuws" / "buitenland.html"
    done = subprocess.run(
        [sys.executable, "-m", "wirecrawler", "parse", str(page), "--now", "2026-11-24T23:20:00Z",
         "--url", "https://www.zeelandnet.nl/nieuws/buitenland"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    records = by_key([json.loads(line) for line in done.stdout.splitlines()])
    expected = by_key(read_jsonl(SAMPLE_SITE / "expected-feed.jsonl"))
    assert records and all(kind == "brief" for kind, _ in records)
    for key, record in records.items():
        assert record["url"] == expected[key]["url"]
        assert (record["places"], record["agencies"], record["text"]) == (
            expected[key]["places"],
            expected[key]["agencies"],
            expected[key]["text"],
        )


def test_parse_command_says_why_a_page_is_unreadable(tmp_path):
    page = tmp_path / "truncated.html"
    page.write_text("<html><body><ul class='news-list'><li class='news-list__item'>", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "wirecrawler", "parse", str(page)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 1 and done.stdout == ""
    assert "unreadable: truncated" in done.stderr
