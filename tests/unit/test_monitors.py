"""End-of-run monitors: the pure checks over a run's stats (``wirecrawler.runs.checks``)."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta

import pytest
from scrapy.settings import Settings

from tests.runstats import healthy_stats
from wirecrawler.portal import selectors
from wirecrawler.runs.checks import (
    RunFigures,
    Thresholds,
    check_article_pages,
    check_fields_filled,
    check_listing_rows,
    check_records_parsed,
    check_requests,
    check_run_gap,
    run_checks,
)
from wirecrawler.settingvalues import SettingError

LIMITS = Thresholds()
START = datetime(2026, 11, 24, 23, 20, tzinfo=UTC)


def figures(**changes) -> RunFigures:
    return RunFigures.from_stats(healthy_stats(**changes))


def test_a_healthy_run_passes_every_check_and_says_what_it_measured():
    checks = run_checks(figures(), LIMITS, START - timedelta(minutes=10), START)
    assert [(c.name, c.passed) for c in checks] == [
        ("listing_rows", True),
        ("article_pages", True),
        ("fields_filled", True),
        ("records_parsed", True),
        ("requests", True),
        ("run_gap", True),
    ]
    messages = {c.name: c.message for c in checks}
    assert messages["listing_rows"].startswith("30 listing rows on 3 pages, 10.0 per page")
    assert "lead (29): places 93%, agencies 90%, text 100%, published_at 97%" in messages["fields_filled"]
    assert messages["requests"].startswith("34 responses (HTTP 200: 34), 0 retries")
    assert messages["run_gap"].startswith("10 min since the previous successful run ended")


def test_a_listing_page_without_rows_fails_naming_the_selector():
    check = check_listing_rows(figures(wirecrawler__layout_drift=1, wirecrawler__pages__listing=1), LIMITS)
    assert not check.passed
    assert check.message == (
        f"listing rows (selector {selectors.LISTING_ROWS}) matched nothing on 1 of 1 listing pages"
    )
    assert check.failure() == f"monitor listing_rows: {check.message}"


def test_too_few_listing_rows_per_page_fail_and_no_listing_page_fails():
    thin = check_listing_rows(figures(wirecrawler__rows__listing=12), LIMITS)
    assert not thin.passed and "4.0 per page: below the minimum of 5" in thin.message
    assert check_listing_rows(figures(wirecrawler__rows__listing=15), LIMITS).passed
    none = check_listing_rows(figures(wirecrawler__pages__listing=None, wirecrawler__rows__listing=None), LIMITS)
    assert (none.passed, none.message) == (False, "no listing page was read")


def test_a_rerun_with_nothing_new_passes_because_parsed_records_count():
    rerun = figures(
        wirecrawler__pages__article=None,
        wirecrawler__rows__more_news=None,
        wirecrawler__records_built__lead=None,
        wirecrawler__emitted__lead=None,
        wirecrawler__emitted__brief=None,
        wirecrawler__dropped__seen_before=30,
        **{f"wirecrawler__fields_filled__lead__{name}": None for name in LIMITS.min_fill_rates},
    )
    checks = {c.name: c for c in run_checks(rerun, LIMITS, None, START)}
    assert all(c.passed for c in checks.values()), checks
    assert checks["records_parsed"].message == (
        "30 records parsed (lead 0, brief 30), 0 new (lead 0, brief 0), dropped: seen_before 30"
    )
    assert checks["fields_filled"].message.startswith("lead: none parsed; brief (30): places 93%")
    assert checks["article_pages"].message.startswith("no article page was read")


def test_no_record_parsed_fails():
    check = check_records_parsed(
        figures(wirecrawler__records_built__lead=0, wirecrawler__records_built__brief=0), LIMITS
    )
    assert not check.passed and check.message.startswith("0 records parsed (lead 0, brief 0)")


def test_a_field_filled_too_rarely_fails_naming_kind_field_and_share():
    check = check_fields_filled(figures(wirecrawler__fields_filled__brief__places=3), LIMITS)
    assert not check.passed
    assert check.message == "brief places filled in 3 of 30 records (10%, minimum 50%)"
    # A field no record had filled has no stat at all: that is 0%, not a pass.
    empty = check_fields_filled(figures(wirecrawler__fields_filled__lead__text=None), LIMITS)
    assert not empty.passed and "lead text filled in 0 of 29 records (0%, minimum 90%)" in empty.message


def test_fill_rates_of_a_few_records_are_reported_not_judged():
    few = figures(
        wirecrawler__records_built__lead=2,
        **{f"wirecrawler__fields_filled__lead__{name}": None for name in LIMITS.min_fill_rates},
    )
    check = check_fields_filled(few, LIMITS)
    assert check.passed
    assert "lead (2, too few to judge): places 0%" in check.message
    assert not check_fields_filled(few, Thresholds(fill_rate_min_records=2)).passed


def test_article_pages_without_leads_or_more_news_rows_fail_naming_selectors():
    no_leads = check_article_pages(figures(wirecrawler__records_built__lead=3), LIMITS)
    assert not no_leads.passed
    assert no_leads.message.startswith("3 of 29 article pages gave a lead (10%, minimum 80%)")
    assert selectors.ARTICLE_HEADLINE in no_leads.message and selectors.ARTICLE_PARAGRAPHS in no_leads.message
    no_more_news = check_article_pages(figures(wirecrawler__rows__more_news=None), LIMITS)
    assert not no_more_news.passed
    assert no_more_news.message == (
        f"more-news rows (selector {selectors.MORE_NEWS_ROWS}) matched nothing on any of 29 article pages"
    )
    # Pages of another section are not ours to judge.
    other = figures(wirecrawler__pages__article=31, wirecrawler__articles_other_section=2)
    assert check_article_pages(other, LIMITS).passed


# A run whose listing linked new articles and got no lead from any of them: the articles were
# not fetched (each declined: gone, too large, ...), not read, or read without a lead.
NOTHING_READ = {
    "wirecrawler__pages__article": None,
    "wirecrawler__rows__more_news": None,
    "wirecrawler__records_built__lead": None,
    "wirecrawler__emitted__lead": None,
    **{f"wirecrawler__fields_filled__lead__{name}": None for name in LIMITS.min_fill_rates},
}


@pytest.mark.parametrize(
    ("changes", "read", "malformed"),
    [
        ({"wirecrawler__articles_not_fetched": 12}, 0, 0),  # none fetched
        ({"wirecrawler__pages__article": 12, "wirecrawler__pages_malformed": 12}, 12, 12),  # none readable
        ({"wirecrawler__pages__article": 12, "wirecrawler__articles_other_section": 12}, 0, 0),  # none ours
    ],
)
def test_new_articles_linked_and_none_read_fail_the_run(changes, read, malformed):
    run = figures(wirecrawler__articles_requested=12, **{**NOTHING_READ, **changes})
    assert run.articles_requested == 12
    check = check_article_pages(run, LIMITS)
    assert not check.passed
    assert check.message == (
        f"12 new articles were linked and none gave a lead: {read} article pages of the section read, "
        f"{malformed} pages malformed; check selectors {selectors.ARTICLE_HEADLINE!r} and {selectors.ARTICLE_PARAGRAPHS!r}"
    )
    assert "\n" not in check.message
    checks = run_checks(run, LIMITS, None, START)
    assert [c.name for c in checks if not c.passed] == ["article_pages"]  # the briefs were parsed; nothing failed


def test_one_new_article_linked_and_not_read_fails_too():
    check = check_article_pages(figures(wirecrawler__articles_requested=1, **NOTHING_READ), LIMITS)
    assert not check.passed and check.message.startswith("1 new articles were linked and none gave a lead: ")


def test_nothing_requested_and_nothing_read_passes_as_before():
    for requested in (None, 0):  # a rerun with nothing new requests no article page
        check = check_article_pages(figures(wirecrawler__articles_requested=requested, **NOTHING_READ), LIMITS)
        assert (check.passed, check.message) == (True, "no article page was read")


def test_new_articles_linked_and_some_read_pass_though_one_was_unreadable():
    one_unreadable = figures(
        wirecrawler__articles_requested=30, wirecrawler__pages__article=30, wirecrawler__pages_malformed=1
    )
    check = check_article_pages(one_unreadable, LIMITS)
    assert (check.passed, check.message) == (True, "29 leads and 203 more-news rows from 30 article pages")
    one_not_fetched = figures(wirecrawler__articles_requested=30, wirecrawler__articles_not_fetched=1)
    assert check_article_pages(one_not_fetched, LIMITS).passed
    assert check_article_pages(figures(wirecrawler__articles_requested=29), LIMITS).passed


def test_requests_fail_on_any_failed_request_or_too_many_retries():
    assert check_requests(figures(retry__count=10), LIMITS).passed
    retried = check_requests(figures(retry__count=11), LIMITS)
    assert not retried.passed and "11 retries (maximum 10)" in retried.message
    failed = check_requests(
        figures(wirecrawler__requests_failed=1, **{"downloader/response_status_count/404": 1}), LIMITS
    )
    assert not failed.passed
    assert failed.message.startswith("35 responses (HTTP 200: 34, 404: 1)")
    assert failed.message.endswith("1 failed requests")


def test_run_gap():
    limits = Thresholds(max_run_gap=timedelta(minutes=60), fail_on_run_gap=True)
    first = check_run_gap(None, START, limits)
    assert (first.passed, first.message) == (True, "no earlier successful run of this crawl on record")
    assert check_run_gap(START - timedelta(minutes=60), START, limits).passed
    late = check_run_gap(START - timedelta(hours=5, minutes=3), START, limits)
    assert (late.passed, late.warning) == (False, False)
    assert late.message == "5 h 3 min since the previous successful run ended (maximum 1 h): were runs missed?"
    # A clock set back is no gap.
    assert check_run_gap(START + timedelta(minutes=5), START, limits).message.startswith("0 min since")


def test_a_long_gap_is_a_warning_by_default_and_not_judged_with_no_maximum():
    """After a paused schedule or a machine that was off, the run did its work: the gap is said, not failed."""
    late = check_run_gap(START - timedelta(hours=5, minutes=3), START, Thresholds())
    assert (late.passed, late.warning) == (True, True)
    assert late.message == (
        "5 h 3 min since the previous successful run ended (maximum 1 h): were runs missed?"
        " (a warning; WIRECRAWLER_FAIL_ON_RUN_GAP=1 fails the run on it)"
    )
    recent = check_run_gap(START - timedelta(minutes=10), START, Thresholds())
    assert (recent.passed, recent.warning) == (True, False)
    off = Thresholds.from_settings(Settings({"WIRECRAWLER_MAX_RUN_GAP_MINUTES": "0", "WIRECRAWLER_FAIL_ON_RUN_GAP": "1"}))
    assert (off.max_run_gap, off.fail_on_run_gap) == (None, True)
    unchecked = check_run_gap(START - timedelta(days=3), START, off)
    assert (unchecked.passed, unchecked.warning) == (True, False)
    assert unchecked.message == "72 h since the previous successful run ended (not checked: WIRECRAWLER_MAX_RUN_GAP_MINUTES=0)"


def test_thresholds_are_read_from_settings_as_given_on_the_command_line():
    settings = Settings(
        {
            "WIRECRAWLER_MIN_ROWS_PER_LISTING_PAGE": "8",
            "WIRECRAWLER_MIN_FILL_RATES": '{"headline": 1, "places": 0.25}',
            "WIRECRAWLER_MAX_RUN_GAP_MINUTES": "15",
            "WIRECRAWLER_MAX_RETRIES": "0",
        }
    )
    limits = Thresholds.from_settings(settings)
    assert limits.min_rows_per_listing_page == 8
    assert limits.min_fill_rates == {"headline": 1, "places": 0.25}
    assert limits.max_run_gap == timedelta(minutes=15)
    assert limits.max_retries == 0
    assert limits.min_lead_share == Thresholds().min_lead_share
    assert Thresholds.from_settings(Settings()) == Thresholds()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WIRECRAWLER_MAX_RUN_GAP_MINUTES", "soon"),
        ("WIRECRAWLER_MAX_RUN_GAP_MINUTES", "-1"),
        ("WIRECRAWLER_MAX_RUN_GAP_MINUTES", "nan"),
        ("WIRECRAWLER_FAIL_ON_RUN_GAP", "yes please"),
        ("WIRECRAWLER_MIN_FILL_RATES", '{"byline": 0.5}'),
        ("WIRECRAWLER_MIN_FILL_RATES", '{"places": 1.5}'),
        ("WIRECRAWLER_MIN_FILL_RATES", "places"),
        ("WIRECRAWLER_MIN_LEAD_SHARE", "2"),
        ("WIRECRAWLER_FILL_RATE_MIN_RECORDS", "0"),
        ("WIRECRAWLER_MAX_RETRIES", "-1"),
    ],
)
def test_a_bad_threshold_is_refused_naming_the_setting_and_its_value(name, value):
    with pytest.raises(SettingError, match=f"^{name}={re.escape(shlex.quote(value))}: .+: set ") as refused:
        Thresholds.from_settings(Settings({name: value}))
    assert (refused.value.name, refused.value.value) == (name, value)
