"""The Scrapy side of the end-of-run monitors (``wirecrawler.monitors``).

``RunMonitors`` runs the checks when the spider closes, over the final stats and the run
history (``wirecrawler.report``), and logs each result in one line. ``RunOutcome``
(``wirecrawler.extensions``) makes a failed check, or monitors that broke, fail the run.
"""

from __future__ import annotations

import logging

from scrapy import signals

from wirecrawler.monitors import Check, RunFigures, Thresholds, run_checks
from wirecrawler.report import ReportConfig, load_reports, previous_success_end

logger = logging.getLogger(__name__)


def job_of(spider) -> dict[str, str]:
    """The job a run belongs to: its spider and start URL.

    The gap since the previous successful run is measured within a job, so a crawl of a local
    test server (another start URL) neither trips nor resets the scheduled crawl's gap.
    """
    return {"spider": spider.name, "start_url": getattr(spider, "start_url", "")}


class RunMonitors:
    """Runs the end-of-run checks when the spider closes; ``failures()`` is what failed."""

    def __init__(self, crawler, thresholds: Thresholds, reports: ReportConfig):
        self.crawler = crawler
        self.thresholds = thresholds
        self.reports = reports
        self.checks: list[Check] = []
        self.crash: str | None = None  # why the monitors could not run
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, Thresholds.from_settings(crawler.settings), ReportConfig.from_settings(crawler.settings))

    def spider_closed(self, spider):
        try:
            self.checks = self._run_checks(spider)
        except Exception as exc:
            # Scrapy would log the error and go on: a run whose monitors broke must fail instead.
            logger.exception("The end-of-run monitors could not run")
            self.crash = repr(exc)
            return
        for check in self.checks:
            if check.passed:
                logger.info("Monitor %s passed: %s", check.name, check.message)
            else:
                logger.error("Monitor %s failed: %s", check.name, check.message)
        failed = sum(not check.passed for check in self.checks)
        self.crawler.stats.set_value("wirecrawler/monitors/passed", len(self.checks) - failed)
        self.crawler.stats.set_value("wirecrawler/monitors/failed", failed)

    def _run_checks(self, spider) -> list[Check]:
        # Items are all through the pipelines by now: the stats are final but for the feeds'.
        figures = RunFigures.from_stats(self.crawler.stats.get_stats())
        previous = previous_success_end(load_reports(self.reports.reports_dir), job_of(spider))
        return run_checks(figures, self.thresholds, previous, spider.run_started)

    def failures(self) -> list[str]:
        """The failed checks, one phrase each, or why the monitors could not run."""
        if self.crash is not None:
            return [f"the end-of-run monitors could not run: {self.crash}"]
        return [check.failure() for check in self.checks if not check.passed]
