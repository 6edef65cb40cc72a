"""Run reports: one small JSON file per run, next to the feeds, and their bounded history.

``<feed dir>/reports/<run start>.json`` is named like the run's feed files and written
atomically (``wirecrawler.store.atomicfile``): when, what was read, parsed and published, the
monitors' results, the failures and the exit status the crawl command exited with; under
Scrapyd, also Scrapyd's id for the run (``scrapyd_job``), the key its operator finds it by. The
history is the directory itself, cut to the newest reports after every run; the next run
reads it to find when the previous successful run ended.

Plain Python with no Scrapy import: ``wirecrawler.runs.verdict.RunVerdict`` writes the report.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wirecrawler.portal.timeline import parse_iso, utc_iso
from wirecrawler.runs.checks import KINDS, RUN_GAP, Check, RunFigures
from wirecrawler.runs.run import SCRAPYD_JOB
from wirecrawler.settingvalues import SettingsReader, read_strictly
from wirecrawler.store.atomicfile import write_new

logger = logging.getLogger(__name__)

# "<run start>.json", as store.feednames.run_stamp, or "<run start>-N.json" when runs shared a second.
REPORT_NAME = re.compile(r"(?P<stamp>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)(?:-(?P<number>[2-9]|[1-9]\d+))?\.json")


@dataclass(frozen=True)
class ReportConfig:
    reports_dir: Path  # <feed dir>/reports
    keep: int = 50  # the newest reports kept; older ones are removed after each run

    @classmethod
    def from_settings(cls, settings, feed_dir: Path) -> ReportConfig:
        """From Scrapy settings: ``WIRECRAWLER_REPORTS_KEPT``; the reports go in *feed_dir*.

        Raises ``SettingError`` for a value it cannot use."""
        return read_strictly(settings, cls.read, feed_dir)

    @classmethod
    def read(cls, reader: SettingsReader, feed_dir: Path) -> ReportConfig:
        """As ``from_settings``; a bad value is recorded in *reader* and its default used."""
        keep = reader.whole("WIRECRAWLER_REPORTS_KEPT", cls.keep, "the number of run reports kept", minimum=1)
        return cls(reports_dir=feed_dir / "reports", keep=keep)


@dataclass(frozen=True)
class FeedFile:
    """A feed the run stored: its URI, the records this run wrote to it, and whether it was published."""

    uri: str
    records: int
    published: bool


def build_report(
    *,
    job: dict[str, str],
    run_start: datetime,
    run_end: datetime,
    finish_reason: str | None,
    figures: RunFigures,
    feeds: list[FeedFile],
    checks: list[Check],
    failures: list[str],
    exit_status: int,
) -> dict[str, Any]:
    """The report of one run, as a JSON-ready dict.

    Scrapyd's id for the run (in *job* under ``SCRAPYD_JOB``, from ``Run.job``) is a field of its
    own, given only when there is one: the report's ``job`` is what runs of one job share, which
    the status page and the next run's gap check group reports by."""
    gap_failures = {check.failure() for check in checks if check.name == RUN_GAP and not check.passed}
    scrapyd_job = {SCRAPYD_JOB: job[SCRAPYD_JOB]} if SCRAPYD_JOB in job else {}
    return {
        "job": _shared(job),
        **scrapyd_job,
        "run_start": utc_iso(run_start),
        "run_end": utc_iso(run_end),
        "exit_status": exit_status,
        "failures": failures,
        # The run did its work, and failed, if at all, only because runs before it were missed.
        # The next run measures its gap from here: a missed stretch fails one run, not every one after.
        "crawl_succeeded": all(failure in gap_failures for failure in failures),
        "finish_reason": finish_reason,
        "pages": {
            "listing": figures.listing_pages,
            "article": figures.article_pages,
            "malformed": figures.malformed_pages,
            "malformed_parts": figures.malformed_parts,
        },
        "records": {
            kind: {"parsed": figures.parsed[kind], "new": figures.new[kind], "filled": figures.filled[kind]}
            for kind in KINDS
        },
        "dropped": figures.dropped,
        "requests": {
            "responses": figures.responses,
            "retries": figures.retries,
            "download_errors": figures.download_errors,
            "failed": figures.failed_requests,
            "first_failed": figures.first_failed_request,  # "URL: reason", or null
        },
        "feeds": [asdict(feed) for feed in feeds],
        "monitors": [asdict(check) for check in checks],
    }


def write_report(path: Path, report: dict[str, Any]) -> Path:
    """Writes *report* as JSON, complete or not at all, to *path* or, when another run's report
    has that name (two runs in one second), the next free one; returns the name written."""
    return write_new(path, (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def _report_paths(reports_dir: Path) -> list[Path]:
    """The reports in *reports_dir*, oldest first (their names are their runs' UTC starts)."""
    if not reports_dir.is_dir():
        return []
    named = [(path, REPORT_NAME.fullmatch(path.name)) for path in reports_dir.iterdir()]
    ordered = sorted((name["stamp"], int(name["number"] or 1), path) for path, name in named if name)
    return [path for _, _, path in ordered]


def prune_reports(reports_dir: Path, keep: int) -> list[Path]:
    """Removes all but the newest *keep* reports; returns the removed paths."""
    removed = _report_paths(reports_dir)[:-keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def load_reports(reports_dir: Path) -> list[dict[str, Any]]:
    """Every readable report, oldest first; an unreadable one is logged and left out."""
    reports = []
    for path in _report_paths(reports_dir):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            parse_iso(report["run_end"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("Run report %s is unreadable and left out of the history: %r", path, exc)
            continue
        reports.append(report)
    return reports


def previous_success_end(reports: list[dict[str, Any]], job: dict[str, str]) -> datetime | None:
    """When the latest run of *job* that did its work ended; None when no such run is on record."""
    job = _shared(job)
    ends = [parse_iso(r["run_end"]) for r in reports if r.get("job") == job and r.get("crawl_succeeded") is True]
    return max(ends, default=None)


def _shared(job: dict[str, str]) -> dict[str, str]:
    """*job* without Scrapyd's id for one run: what every run of the job has in common."""
    return {key: value for key, value in job.items() if key != SCRAPYD_JOB}
