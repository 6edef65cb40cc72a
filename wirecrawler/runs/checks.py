"""End-of-run monitors: pure checks of a run's stats against thresholds.

A check reads the run's figures (taken from a snapshot of the crawler stats) and says in one
line what it measured and whether that is within bounds. The checks count what the run
*parsed*, not what it emitted: with the seen store, a run that finds nothing new is normal
and passes. A layout change on the site is not: it shows as listing rows, article leads or
filled fields going missing, and fails the run.

``wirecrawler.runs.verdict.RunVerdict`` runs the checks when the spider closes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from wirecrawler.items import FEED_FIELDS
from wirecrawler.portal import selectors
from wirecrawler.settingvalues import SettingsReader, read_strictly

KINDS = ("lead", "brief")
RUN_GAP = "run_gap"  # the one check about the schedule rather than about the run itself

# Share of parsed records with the field filled (non-empty). Regional items have no agencies
# and some items no dateline at all, so the dateline fields are never at 100%.
DEFAULT_MIN_FILL_RATES = {"places": 0.5, "agencies": 0.5, "text": 0.9, "published_at": 0.5}


@dataclass(frozen=True)
class Thresholds:
    """What the checks accept; each one is a setting (``-s NAME=VALUE``), named in ``SETTINGS``."""

    min_rows_per_listing_page: float = 5.0
    min_fill_rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIN_FILL_RATES))
    # A kind with fewer parsed records has its fill rates reported but not judged: two new
    # stories, one of them regional, are not a layout change.
    fill_rate_min_records: int = 10
    min_lead_share: float = 0.8  # of the article pages read, the share that must give a lead
    max_retries: int = 10
    # A longer gap since the previous successful run is a warning (runs were missed: the schedule
    # was paused, the machine was off); None: the gap is reported but not judged.
    max_run_gap: timedelta | None = timedelta(minutes=60)
    fail_on_run_gap: bool = False  # a gap over max_run_gap fails the run instead of warning

    SETTINGS: ClassVar[dict[str, str]] = {  # attribute -> setting name
        "min_rows_per_listing_page": "WIRECRAWLER_MIN_ROWS_PER_LISTING_PAGE",
        "min_fill_rates": "WIRECRAWLER_MIN_FILL_RATES",
        "fill_rate_min_records": "WIRECRAWLER_FILL_RATE_MIN_RECORDS",
        "min_lead_share": "WIRECRAWLER_MIN_LEAD_SHARE",
        "max_retries": "WIRECRAWLER_MAX_RETRIES",
        "max_run_gap": "WIRECRAWLER_MAX_RUN_GAP_MINUTES",
        "fail_on_run_gap": "WIRECRAWLER_FAIL_ON_RUN_GAP",
    }

    @classmethod
    def from_settings(cls, settings) -> Thresholds:
        """Reads the thresholds that are set (Scrapy ``Settings``); the others keep their defaults.

        Raises ``SettingError``, naming the setting, for a value that is not a valid threshold.
        """
        return read_strictly(settings, cls.read)

    @classmethod
    def read(cls, reader: SettingsReader) -> Thresholds:
        """As ``from_settings``; a bad value is recorded in *reader* and its default used."""
        names, default = cls.SETTINGS, cls()
        gap_minutes = reader.number(
            names["max_run_gap"], default.max_run_gap.total_seconds() / 60,
            "the longest gap since the previous successful run", minimum=0, note="minutes; 0: not checked",
            default_shown="60",
        )  # fmt: skip
        return cls(
            min_rows_per_listing_page=reader.number(
                names["min_rows_per_listing_page"], default.min_rows_per_listing_page,
                "the fewest rows per listing page", minimum=0,
            ),
            min_fill_rates=reader.mapping(
                names["min_fill_rates"], default.min_fill_rates, "the fill rates",
                _valid_fill_rates, "a JSON object of feed field: share (0 to 1)",
            ),
            fill_rate_min_records=reader.whole(
                names["fill_rate_min_records"], default.fill_rate_min_records,
                "the fewest records whose fill rates are judged", minimum=1,
            ),
            min_lead_share=reader.number(
                names["min_lead_share"], default.min_lead_share, "the share of article pages giving a lead",
                minimum=0, maximum=1,
            ),
            max_retries=reader.whole(names["max_retries"], default.max_retries, "the most retries", minimum=0),
            max_run_gap=timedelta(minutes=gap_minutes) if gap_minutes else None,
            fail_on_run_gap=reader.boolean(
                names["fail_on_run_gap"], default.fail_on_run_gap, "failing the run on a long gap"
            ),
        )  # fmt: skip


def _valid_fill_rates(rates: dict) -> bool:
    return all(
        name in FEED_FIELDS and isinstance(share, int | float) and 0 <= share <= 1 for name, share in rates.items()
    )


@dataclass(frozen=True)
class RunFigures:
    """The numbers of a run that the checks and the run report use, read from its stats."""

    listing_pages: int
    listing_pages_without_rows: int
    listing_rows: int
    article_pages: int  # article pages of our section that were read
    articles_requested: int  # article pages the listing pages linked and the seen store did not hold: new ones
    more_news_rows: int
    parsed: dict[str, int]  # records built, per kind: new or not
    new: dict[str, int]  # records emitted to the feeds, per kind
    filled: dict[str, dict[str, int]]  # per kind, per watched field: parsed records with it filled
    dropped: dict[str, int]  # records the pipelines dropped, per reason
    responses: dict[str, int]  # per HTTP status
    retries: int
    download_errors: int
    failed_requests: int
    malformed_pages: int
    malformed_parts: int
    first_failed_request: str | None = None  # "URL: reason" of the first request failed for good

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> RunFigures:
        def count(key: str) -> int:
            return int(stats.get(key, 0) or 0)

        def under(prefix: str) -> dict[str, int]:
            return {key[len(prefix) :]: int(value) for key, value in sorted(stats.items()) if key.startswith(prefix)}

        return cls(
            listing_pages=count("wirecrawler/pages/listing"),
            listing_pages_without_rows=count("wirecrawler/layout_drift"),
            listing_rows=count("wirecrawler/rows/listing"),
            article_pages=count("wirecrawler/pages/article") - count("wirecrawler/articles_other_section"),
            articles_requested=count("wirecrawler/articles_requested"),
            more_news_rows=count("wirecrawler/rows/more_news"),
            parsed={kind: count(f"wirecrawler/records_built/{kind}") for kind in KINDS},
            new={kind: count(f"wirecrawler/emitted/{kind}") for kind in KINDS},
            filled={kind: under(f"wirecrawler/fields_filled/{kind}/") for kind in KINDS},
            dropped=under("wirecrawler/dropped/"),
            responses=under("downloader/response_status_count/"),
            retries=count("retry/count"),
            download_errors=count("downloader/exception_count"),
            failed_requests=count("wirecrawler/requests_failed"),
            malformed_pages=count("wirecrawler/pages_malformed"),
            malformed_parts=count("wirecrawler/parts_malformed"),
            first_failed_request=stats.get("wirecrawler/first_failed_request"),
        )


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    message: str  # one line: what was measured, and against what
    warning: bool = False  # passed, but says something to look at (logged at WARNING)

    def failure(self) -> str:
        """The check's failure as ``RunOutcome`` reports it."""
        return f"monitor {self.name}: {self.message}"


def _kinds(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{kind} {counts.get(kind, 0)}" for kind in KINDS)


def check_listing_rows(run: RunFigures, limits: Thresholds) -> Check:
    name = "listing_rows"
    if not run.listing_pages:
        return Check(name, False, "no listing page was read")
    if run.listing_pages_without_rows:
        return Check(
            name,
            False,
            f"listing rows (selector {selectors.LISTING_ROWS}) matched nothing on "
            f"{run.listing_pages_without_rows} of {run.listing_pages} listing pages",
        )
    per_page = run.listing_rows / run.listing_pages
    measured = f"{run.listing_rows} listing rows on {run.listing_pages} pages, {per_page:.1f} per page"
    if per_page < limits.min_rows_per_listing_page:
        return Check(
            name,
            False,
            f"{measured}: below the minimum of {limits.min_rows_per_listing_page:g} "
            f"(selector {selectors.LISTING_ROWS})",
        )
    return Check(name, True, f"{measured} (minimum {limits.min_rows_per_listing_page:g})")


def check_article_pages(run: RunFigures, limits: Thresholds) -> Check:
    """Article pages give a lead each, and show their "Meer uit" list. A run whose listing linked
    new articles and got a lead from none of them (none fetched, none read, none with a lead)
    fails; one with nothing new to request (a rerun) passes."""
    name = "article_pages"
    leads = run.parsed["lead"]
    if run.articles_requested and not leads:
        return Check(
            name,
            False,
            f"{run.articles_requested} new articles were linked and none gave a lead: "
            f"{run.article_pages} article pages of the section read, {run.malformed_pages} pages malformed; "
            f"check selectors {selectors.ARTICLE_HEADLINE!r} and {selectors.ARTICLE_PARAGRAPHS!r}",
        )
    if not run.article_pages:
        return Check(name, True, "no article page was read")
    share = leads / run.article_pages
    if share < limits.min_lead_share:
        return Check(
            name,
            False,
            f"{leads} of {run.article_pages} article pages gave a lead ({share:.0%}, minimum "
            f"{limits.min_lead_share:.0%}): check selectors {selectors.ARTICLE_HEADLINE!r} "
            f"and {selectors.ARTICLE_PARAGRAPHS!r}",
        )
    if not run.more_news_rows:
        return Check(
            name,
            False,
            f"more-news rows (selector {selectors.MORE_NEWS_ROWS}) matched nothing on any of "
            f"{run.article_pages} article pages",
        )
    return Check(
        name,
        True,
        f"{leads} leads and {run.more_news_rows} more-news rows from {run.article_pages} article pages",
    )


def check_fields_filled(run: RunFigures, limits: Thresholds) -> Check:
    """Each watched field is filled in at least its share of the parsed records of each kind."""
    name = "fields_filled"
    shortfalls, rates = [], []
    for kind in KINDS:
        parsed = run.parsed[kind]
        if not parsed:
            rates.append(f"{kind}: none parsed")
            continue
        shares = {watched: run.filled[kind].get(watched, 0) / parsed for watched in limits.min_fill_rates}
        judged = parsed >= limits.fill_rate_min_records
        rates.append(
            f"{kind} ({parsed}{'' if judged else ', too few to judge'}): "
            + ", ".join(f"{watched} {share:.0%}" for watched, share in shares.items())
        )
        if judged:
            shortfalls += [
                f"{kind} {watched} filled in {run.filled[kind].get(watched, 0)} of {parsed} records "
                f"({share:.0%}, minimum {limits.min_fill_rates[watched]:.0%})"
                for watched, share in shares.items()
                if share < limits.min_fill_rates[watched]
            ]
    if shortfalls:
        return Check(name, False, ", ".join(shortfalls))
    return Check(name, True, "; ".join(rates))


def check_records_parsed(run: RunFigures, limits: Thresholds) -> Check:
    """Records were parsed; none of them being new is normal (the seen store drops them)."""
    name = "records_parsed"
    dropped = ", ".join(f"{reason} {count}" for reason, count in run.dropped.items()) or "none"
    message = (
        f"{sum(run.parsed.values())} records parsed ({_kinds(run.parsed)}), "
        f"{sum(run.new.values())} new ({_kinds(run.new)}), dropped: {dropped}"
    )
    return Check(name, sum(run.parsed.values()) > 0, message)


def check_requests(run: RunFigures, limits: Thresholds) -> Check:
    """No request failed for good, and few needed a retry."""
    name = "requests"
    statuses = ", ".join(f"{status}: {count}" for status, count in run.responses.items()) or "none"
    message = (
        f"{sum(run.responses.values())} responses (HTTP {statuses}), {run.retries} retries "
        f"(maximum {limits.max_retries}), {run.download_errors} download errors, "
        f"{run.failed_requests} failed requests"
    )
    return Check(name, not run.failed_requests and run.retries <= limits.max_retries, message)


def _duration(span: timedelta) -> str:
    """ "45 min", "2 h", "5 h 3 min"; a negative span (the clock was set back) is "0 min"."""
    minutes = max(0, int(span.total_seconds() // 60))
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def check_run_gap(previous_success_end: datetime | None, run_start: datetime, limits: Thresholds) -> Check:
    """The schedule kept running: the previous successful run ended recently enough.

    A longer gap is reported, as a warning: after a pause of the schedule or a machine that was
    off, the run itself did its work. With ``fail_on_run_gap`` the gap fails the run instead;
    with no ``max_run_gap`` it is reported only.
    """
    if previous_success_end is None:
        return Check(RUN_GAP, True, "no earlier successful run of this crawl on record")
    gap = run_start - previous_success_end
    measured = f"{_duration(gap)} since the previous successful run ended"
    if limits.max_run_gap is None:
        return Check(RUN_GAP, True, f"{measured} (not checked: {Thresholds.SETTINGS['max_run_gap']}=0)")
    measured = f"{measured} (maximum {_duration(limits.max_run_gap)})"
    if gap <= limits.max_run_gap:
        return Check(RUN_GAP, True, measured)
    message = f"{measured}: were runs missed?"
    if limits.fail_on_run_gap:
        return Check(RUN_GAP, False, message)
    return Check(
        RUN_GAP, True, f"{message} (a warning; {Thresholds.SETTINGS['fail_on_run_gap']}=1 fails the run on it)", warning=True
    )


RUN_CHECKS = (check_listing_rows, check_article_pages, check_fields_filled, check_records_parsed, check_requests)


def run_checks(
    run: RunFigures, limits: Thresholds, previous_success_end: datetime | None, run_start: datetime
) -> list[Check]:
    """Every check, in a fixed order: first those about the run itself, then the schedule's."""
    return [check(run, limits) for check in RUN_CHECKS] + [check_run_gap(previous_success_end, run_start, limits)]
