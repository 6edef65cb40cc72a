"""Bad input (issue #6): a real crawl meets the broken pages of ``tests/corpus`` among the good
pages of the sample site, served by a real HTTP server.

For each corpus page the crawl must count it in a stat, log it with its URL and reason at the
level its manifest entry names, and go on: no traceback, and every good record of the sample
site published, with what the broken pages still hold. What fails the run:
- an article page or a listing row that is broken is a WARNING, and the run succeeds (exit 0):
  a story page that stays broken would otherwise fail every scheduled run while it is listed.
  Its lead is not published, so it is not committed as seen: the next run tries the page again.
- a listing page that cannot be read is an ERROR and fails the run (exit 1): the listing is
  how a run learns its stories, and a run that could not read it did not do its job.

The corpus itself is checked in ``tests/unit/test_bad_input.py``.
"""

from __future__ import annotations

import pytest
from parsel import Selector

from tests import corpus
from tests.crawling import SAMPLE_SITE, by_key, crawl, differences, logged, read_jsonl, stats_of, url_path
from tests.faultserver import serving
from wirecrawler.portal import selectors
from wirecrawler.portal.text import clean_text
from wirecrawler.portal.wire import story_id

EXPECTED = read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")
# The corpus is more broken than good by design, so the monitors that judge a run by its share
# of leads and of filled fields (layout drift) would fail it whatever the bad pages do.
SHARE_MONITORS_OFF = ["-s", "WIRECRAWLER_MIN_LEAD_SHARE=0", "-s", "WIRECRAWLER_MIN_FILL_RATES={}"]


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    faults = corpus.build_site(root / "site")
    with serving(root / "site", faults) as server:
        run = crawl(server.url, root / "state", *SHARE_MONITORS_OFF)
    return server.url, run, server.requested()


def test_the_crawl_goes_on_and_succeeds_with_no_traceback_and_no_error(corpus_run):
    _, run, _ = corpus_run
    assert "Traceback" not in run.log
    assert [line for line in run.log.splitlines() if "] ERROR: " in line] == []
    assert run.returncode == 0, run.log[-3000:]


def test_every_good_record_of_the_sample_site_is_still_published(corpus_run):
    _, run, _ = corpus_run
    wanted = by_key(EXPECTED)
    good = [record for record in run.records() if (record["kind"], record["id"]) in wanted]
    assert differences(good, EXPECTED) == []


def corpus_records() -> set[tuple[str, str]]:
    """(kind, id) of every record the corpus pages must still give."""
    keys = set()
    for entry in corpus.entries("article"):
        keys.add(("brief", story_id(entry.headline)))  # its listing row is sound
        if entry.lead is not None:
            keys.add(("lead", story_id(entry.lead["headline"])))
    for entry in corpus.entries("row"):
        keys |= {("brief", story_id(headline)) for headline in entry.briefs}
        keys |= {("lead", story_id(headline)) for headline in entry.leads}
    return keys


def test_nothing_else_is_published_and_nothing_twice(corpus_run):
    _, run, _ = corpus_run
    keys = [(record["kind"], record["id"]) for record in run.records()]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(by_key(EXPECTED)) | corpus_records()


@pytest.mark.parametrize("entry", corpus.entries("article") + corpus.entries("row"), ids=lambda e: e.name)
def test_each_broken_page_is_logged_once_with_its_url_and_reason(corpus_run, entry):
    base_url, run, _ = corpus_run
    lines = logged(run.log, entry.level, entry.logged_url(base_url), entry.log)
    # A label is read once per record of its story (its brief and its lead): one line each.
    assert len(lines) == max(1, entry.stats.get("wirecrawler/labels_unreadable", 1)), (entry.fault, lines)


def expected_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in corpus.entries("article") + corpus.entries("row"):
        for key, count in entry.stats.items():
            counts[key] = counts.get(key, 0) + count
    return counts


@pytest.mark.parametrize("key", sorted(expected_counts()))
def test_each_broken_page_is_counted(corpus_run, key):
    _, run, _ = corpus_run
    assert stats_of(run.log).get(key, 0) == expected_counts()[key]


@pytest.mark.parametrize("entry", corpus.entries("article"), ids=lambda e: e.name)
def test_a_broken_article_page_gives_its_lead_only_when_it_is_readable(corpus_run, entry):
    base_url, run, _ = corpus_run
    records = by_key(run.records())
    brief = records[("brief", story_id(entry.headline))]
    assert (brief["headline"], url_path(brief["url"])) == (entry.headline, entry.path)
    lead = records.get(("lead", story_id(entry.lead["headline"] if entry.lead else entry.headline)))
    if entry.lead is None:
        assert lead is None
    else:
        assert {name: lead[name] for name in entry.lead} == entry.lead
        assert lead["url"] == base_url + entry.path


@pytest.mark.parametrize("entry", corpus.entries("row"), ids=lambda e: e.name)
def test_a_broken_row_gives_only_what_is_sound_in_it(corpus_run, entry):
    _, run, _ = corpus_run
    records = by_key(run.records())
    for kind, headlines in (("brief", entry.briefs), ("lead", entry.leads)):
        for headline in headlines:
            record = records[(kind, story_id(headline))]
            assert record["headline"] == headline
            if "wirecrawler/labels_unreadable" in entry.stats:
                assert (record["published_at"], record["published_label"]) == (None, None)


def test_no_record_points_off_the_site_and_dropped_rows_are_not_requested(corpus_run):
    base_url, run, requested = corpus_run
    for record in run.records():
        assert record["url"].startswith(base_url + "/nieuws/")
        assert record["source_url"].startswith(base_url + "/nieuws/")
    assert "200 /nieuws/corpus-zonder-titel" not in requested  # the row without a headline
    # Every article page of the corpus was asked for once, the 20 MB one included.
    for entry in corpus.entries("article"):
        assert len([hit for hit in requested if hit.endswith(" " + entry.path)]) == 1, entry.name


def page_one_stories() -> list[str]:
    """The ids of the stories listing page 1 of the sample site shows."""
    page = Selector(text=(SAMPLE_SITE / "nieuws" / "buitenland.html").read_text(encoding="utf-8"))
    headlines = page.css(selectors.LISTING_ROWS).css(selectors.ROW_HEADLINE).getall()
    assert len(headlines) >= 5
    return [story_id(clean_text(headline)) for headline in headlines]  # cleaned, as the page reader does


@pytest.mark.parametrize("entry", corpus.entries("listing"), ids=lambda e: e.name)
def test_an_unreadable_listing_page_fails_the_run_but_keeps_what_came_before(entry, tmp_path):
    faults = corpus.build_listing_site(entry, tmp_path / "site")
    with serving(tmp_path / "site", faults) as server:
        run = crawl(server.url, tmp_path / "state")
    assert "Traceback" not in run.log
    *said, verdict = logged(run.log, "ERROR", f"{server.url}/nieuws/buitenland?page=2", entry.log)
    assert len(said) == 1, entry.fault
    assert stats_of(run.log)["wirecrawler/pages_malformed"] == 1
    assert run.returncode == 1
    # The run's last line names it: the first error, when no more specific cause is known.
    assert verdict == run.log.rstrip().splitlines()[-1] and "] ERROR: Run failed: " in verdict
    assert f"errors were logged (first: Listing page {server.url}/nieuws/buitenland?page=2 {entry.log}" in verdict
    # Listing page 1's stories are all published, as the sample site's feed has them.
    records, expected_records = by_key(run.records()), by_key(EXPECTED)
    for story in page_one_stories():
        for kind in ("brief", "lead"):
            record, expected = records[(kind, story)], expected_records[(kind, story)]
            assert [record[f] for f in ("headline", "places", "agencies", "text")] == [
                expected[f] for f in ("headline", "places", "agencies", "text")
            ]
