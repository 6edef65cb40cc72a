"""The Scrapy side of the run report (``wirecrawler.report``).

``RunReporter`` notes the feeds the run stores. The report itself is written by the crawl
command (``wirecrawler.commands.crawl``) once the run's outcome is known, with the very
failures and exit status the command exits with, so the two cannot disagree.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from scrapy import signals

from wirecrawler.feeds import run_stamp
from wirecrawler.monitoring import RunMonitors, job_of
from wirecrawler.monitors import RunFigures
from wirecrawler.report import FeedFile, ReportConfig, build_report, prune_reports, write_report

logger = logging.getLogger(__name__)


class RunReporter:
    """Collects the feeds the run stores; ``write()`` writes the report once the outcome is known."""

    def __init__(self, crawler, config: ReportConfig):
        self.crawler = crawler
        self.config = config
        self.feeds: list[FeedFile] = []
        crawler.signals.connect(self.feed_slot_closed, signal=signals.feed_slot_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, ReportConfig.from_settings(crawler.settings))

    def feed_slot_closed(self, slot):
        # Published as the seen store counts it: the storage says so (an atomic file feed renamed).
        published = bool(getattr(slot.storage, "published", False))
        self.feeds.append(FeedFile(uri=slot.uri, records=slot.itemcount, published=published))

    def write(self, failures: list[str], exit_status: int) -> Path | None:
        """Writes the run's report and cuts the history; None (and an error logged) when it could not."""
        spider = self.crawler.spider
        stats = self.crawler.stats
        monitors = self.crawler.get_extension(RunMonitors)
        report = build_report(
            job=job_of(spider),
            run_start=spider.run_started,
            run_end=datetime.now(UTC),
            finish_reason=stats.get_value("finish_reason"),
            figures=RunFigures.from_stats(stats.get_stats()),
            feeds=self.feeds,
            checks=monitors.checks if monitors is not None else [],
            failures=failures,
            exit_status=exit_status,
        )
        path = self.config.reports_dir / f"{run_stamp(spider.run_started)}.json"
        try:
            write_report(path, report)
        except OSError as exc:
            logger.error("Run report could not be written in %s: %s", self.config.reports_dir, exc)
            # The run now fails for this: a report that made it to disk all the same (the
            # directory's fsync failed after the rename) would give another exit status.
            if path.exists():
                path.unlink()
            return None
        try:
            removed = prune_reports(self.config.reports_dir, self.config.keep)
        except OSError as exc:
            # The report stands (its exit status is the run's); only the history grows.
            logger.warning("Older run reports in %s could not be removed: %s", self.config.reports_dir, exc)
            removed = []
        logger.info(
            "Run report %s written (exit status %d); %d older reports removed, %d kept at most",
            path,
            exit_status,
            len(removed),
            self.config.keep,
        )
        return path
