"""The status page, regenerated beside the run reports after every run.

``StatusPage`` is an extension, on by default (``-s WIRECRAWLER_STATUS_PAGE=0`` turns it off).
Once the run's outcome is known and its report written (``wirecrawler.runs.signals.run_decided``),
it rewrites ``<feed dir>/reports/index.html`` from the reports there
(``wirecrawler.runs.statuspage``), before the run's last log line. A failure to write it is a
WARNING and does not fail the run: the run's outcome and report stand.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from scrapy.exceptions import NotConfigured

from wirecrawler.config import WireConfig
from wirecrawler.runs.history import ReportConfig
from wirecrawler.runs.run import run_of
from wirecrawler.runs.signals import run_decided
from wirecrawler.runs.statuspage import StatusPageConfig, write_status_page

logger = logging.getLogger(__name__)


class StatusPage:
    """Writes ``<feed dir>/reports/index.html`` when the run is decided; a failure is one WARNING."""

    def __init__(self, crawler, reports: ReportConfig):
        self.crawler = crawler
        self.reports = reports
        crawler.signals.connect(self.run_decided, signal=run_decided)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not StatusPageConfig.from_settings(settings).enabled:
            raise NotConfigured  # no message: turned off on purpose
        return cls(crawler, ReportConfig.from_settings(settings, WireConfig.from_settings(settings).feed_dir))

    def run_decided(self, verdict) -> None:
        if run_of(self.crawler.spider) is None:
            return  # not one of this project's runs: no report was written
        try:
            path, runs = write_status_page(self.reports.reports_dir, self.reports.keep, datetime.now(UTC))
        except Exception as exc:  # a bug included: the page never fails the run, nor prints a traceback
            logger.warning(
                "Status page could not be written in %s (the run's outcome is not affected): %s: %s",
                self.reports.reports_dir,
                type(exc).__name__,
                exc,
            )
            return
        logger.info("Status page %s written (runs shown: %d)", path, runs)
