"""Run reports as ``wirecrawler.runs.history.build_report`` makes them, for the pure tests of
what is made from them (the metrics, the status page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.runstats import healthy_stats
from wirecrawler.runs.checks import Check, RunFigures, Thresholds, run_checks
from wirecrawler.runs.history import FeedFile, build_report

JOB = {"spider": "buitenland", "start_url": "https://www.zeelandnet.nl/nieuws/buitenland"}
START = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)


def sample_report(
    *,
    start: datetime = START,
    seconds: float = 41,
    job: dict[str, str] = JOB,
    feed_dir: Path = Path("/srv/feeds"),
    failed: bool = False,
    **stat_changes,
) -> dict:
    """A run's report: healthy (both kinds new, two feed files published), or with *failed*
    a run whose listing had no rows (layout drift) and one request failed for good."""
    stats = healthy_stats(**stat_changes)
    if failed:
        stats = healthy_stats(
            wirecrawler__rows__listing=0,
            wirecrawler__layout_drift=1,
            wirecrawler__pages__listing=1,
            wirecrawler__pages__article=0,
            wirecrawler__rows__more_news=0,
            wirecrawler__requests_failed=1,
            retry__count=2,
            **{f"wirecrawler__{key}__{kind}": 0 for key in ("records_built", "emitted") for kind in ("lead", "brief")},
        )
    figures = RunFigures.from_stats(stats)
    checks: list[Check] = run_checks(figures, Thresholds(), None, start)
    stamp = start.strftime("%Y-%m-%dT%H-%M-%SZ")
    feeds = [] if failed else [
        FeedFile(uri=str(feed_dir / "briefs" / f"{stamp}.jsonl"), records=figures.new["brief"], published=True),
        FeedFile(uri=str(feed_dir / "leads" / f"{stamp}.jsonl"), records=figures.new["lead"], published=True),
    ]  # fmt: skip
    failures = []
    if failed:
        failures = ["1 requests failed", "1 listing pages had no rows (layout drift)", "1 errors were logged"]
        failures += [check.failure() for check in checks if not check.passed]
    return build_report(
        job=job,
        run_start=start,
        run_end=start + timedelta(seconds=seconds),
        finish_reason="finished",
        figures=figures,
        feeds=feeds,
        checks=checks,
        failures=failures,
        exit_status=1 if failures else 0,
    )


def history(count: int = 6, failed_at: tuple[int, ...] = (3, 4), every: timedelta = timedelta(minutes=10), **kwargs):
    """*count* reports, oldest first, one run every *every*, those at *failed_at* failed."""
    return [
        sample_report(start=START + index * every, seconds=30 + 3 * index, failed=index in failed_at, **kwargs)
        for index in range(count)
    ]
