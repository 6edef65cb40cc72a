"""The run's verdict, its end-of-run monitors and its report, for every way a crawl is started.

``RunVerdict`` is an extension, so ``scrapy crawl``, ``scrapy runspider``, a script with
``CrawlerProcess`` and a Scrapyd job all end the same way: once the engine stops, the run's
failures are decided, the report is written with them (``wirecrawler.runs.history``), and the
last line says ``Run failed: ...`` or ``Run succeeded``. The project's ``crawl`` command only
turns ``exit_status`` into the process's exit status.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from wirecrawler.config import WireConfig
from wirecrawler.runs.checks import Check, RunFigures, Thresholds, run_checks
from wirecrawler.runs.history import FeedFile, ReportConfig, build_report, load_reports, previous_success_end, prune_reports, write_report
from wirecrawler.runs.run import Run, run_of
from wirecrawler.runs.signals import run_decided

logger = logging.getLogger(__name__)

EXIT_FAILED = 1


class RunVerdict:
    """Decides whether the run failed, runs the monitors, and writes the run report.

    Scrapy itself exits 0 when requests failed, when a callback or a pipeline raised, or when a
    feed could not be stored. Every such event is logged at ERROR level by Scrapy or by this
    project, so a run fails when it logged an error, and the reasons name the counters. A
    failed end-of-run monitor (``wirecrawler.runs.checks``) fails it too, and so does a report
    that cannot be written: the report on disk always holds the run's own exit status.
    """

    REASONS = {
        "wirecrawler/requests_failed": "requests failed",
        "wirecrawler/layout_drift": "listing pages had no rows (layout drift)",
        "spider_exceptions/count": "spider callbacks raised",
        "wirecrawler/item_errors": "item pipelines raised",
        "log_count/ERROR": "errors were logged",
        "log_count/CRITICAL": "critical errors were logged",
    }

    def __init__(self, crawler, thresholds: Thresholds, reports: ReportConfig):
        self.crawler = crawler
        self.thresholds = thresholds
        self.reports = reports
        self.finish_reason: str | None = None
        self.checks: list[Check] = []
        self.monitors_crash: str | None = None  # why the monitors could not run
        self.feeds: list[FeedFile] = []
        self.engine_ran = False
        self.exit_status: int | None = None  # decided when the engine stops, or never started
        self.failures_found: list[str] = []  # with it: why the run failed, one phrase per cause
        self.report_path: Path | None = None  # with it: the run's report, None when it could not be written
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)
        crawler.signals.connect(self.item_error, signal=signals.item_error)
        crawler.signals.connect(self.feed_slot_closed, signal=signals.feed_slot_closed)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler):
        # Extensions are built after the spider, but a crawler made for a test may have none yet.
        if crawler.spider is not None and run_of(crawler.spider) is None:
            raise NotConfigured(f"the spider {crawler.spider.name!r} declares no run (wirecrawler.runs.run.Run)")
        settings = crawler.settings
        feed_dir = WireConfig.from_settings(settings).feed_dir
        return cls(crawler, Thresholds.from_settings(settings), ReportConfig.from_settings(settings, feed_dir))

    @property
    def run(self) -> Run:
        return run_of(self.crawler.spider)

    # --- Signals, in the order they come.

    def engine_started(self):
        self.engine_ran = True

    def item_error(self, item, response, spider, failure):
        self.crawler.stats.inc_value("wirecrawler/item_errors")

    def feed_slot_closed(self, slot):
        # Published as the seen store counts it: the storage says so, and under which name.
        published = bool(getattr(slot.storage, "published", False))
        path = getattr(slot.storage, "published_path", None)
        self.feeds.append(FeedFile(uri=str(path) if path else slot.uri, records=slot.itemcount, published=published))

    def spider_closed(self, spider, reason):
        self.finish_reason = reason
        self.run_monitors()
        if not self.engine_ran:
            # Closed while opening (a seen store another crawl holds): the engine never started,
            # so it never stops either.
            self.decide()

    def run_monitors(self) -> None:
        try:
            # Items are all through the pipelines by now: the stats are final but for the feeds'.
            figures = RunFigures.from_stats(self.crawler.stats.get_stats())
            previous = previous_success_end(load_reports(self.reports.reports_dir), self.run.job)
            self.checks = run_checks(figures, self.thresholds, previous, self.run.started)
        except Exception as exc:
            # Scrapy would log the error and go on: a run whose monitors broke must fail instead.
            logger.exception("The end-of-run monitors could not run")
            self.monitors_crash = repr(exc)
            return
        for check in self.checks:
            if check.passed:
                logger.info("Monitor %s passed: %s", check.name, check.message)
            else:
                logger.error("Monitor %s failed: %s", check.name, check.message)
        failed = sum(not check.passed for check in self.checks)
        self.crawler.stats.set_value("wirecrawler/monitors/passed", len(self.checks) - failed)
        self.crawler.stats.set_value("wirecrawler/monitors/failed", failed)

    def engine_stopped(self):
        if self.exit_status is None:
            self.decide()

    def decide(self):
        """The run's failures, its report and its last line; ``exit_status`` from then on.

        Before the last line, ``run_decided`` goes to the extensions that publish the outcome.
        """
        failures = self.failures()
        exit_status = EXIT_FAILED if failures else 0
        self.report_path = self.write_report(failures, exit_status)
        if self.report_path is None:
            failures.append("the run report could not be written")
            exit_status = EXIT_FAILED
        self.failures_found, self.exit_status = failures, exit_status
        self.crawler.signals.send_catch_log(run_decided, verdict=self)
        if failures:
            logger.error("Run failed: %s", "; ".join(failures))
        else:
            logger.info("Run succeeded")

    # --- The verdict and the report.

    def failures(self) -> list[str]:
        """Why the run failed, one phrase per cause; empty when it did not."""
        stats = self.crawler.stats
        found = [f"{count} {text}" for key, text in self.REASONS.items() if (count := stats.get_value(key, 0))]
        found += [
            f"{count} feeds could not be stored ({key})"
            for key, count in stats.get_stats().items()
            if key.startswith("feedexport/failed_count/") and count
        ]
        if self.finish_reason != "finished":
            found.append(f"the spider closed with reason {self.finish_reason!r}")
        if self.monitors_crash is not None:
            found.append(f"the end-of-run monitors could not run: {self.monitors_crash}")
        found += [check.failure() for check in self.checks if not check.passed]
        return found

    def write_report(self, failures: list[str], exit_status: int) -> Path | None:
        """Writes the run's report and cuts the history; None (and an error logged) when it could not."""
        stats = self.crawler.stats
        report = build_report(
            job=self.run.job,
            run_start=self.run.started,
            run_end=datetime.now(UTC),
            finish_reason=stats.get_value("finish_reason"),
            figures=RunFigures.from_stats(stats.get_stats()),
            feeds=self.feeds,
            checks=self.checks,
            failures=failures,
            exit_status=exit_status,
        )
        try:
            path = write_report(self.reports.reports_dir / f"{self.run.stamp}.json", report)
        except OSError as exc:
            # The run now fails for this (write_report leaves no report behind that would say otherwise).
            logger.error("Run report could not be written in %s: %s", self.reports.reports_dir, exc)
            return None
        try:
            removed = prune_reports(self.reports.reports_dir, self.reports.keep)
        except OSError as exc:
            # The report stands (its exit status is the run's); only the history grows.
            logger.warning("Older run reports in %s could not be removed: %s", self.reports.reports_dir, exc)
            removed = []
        logger.info(
            "Run report %s written (exit status %d); %d older reports removed, %d kept at most",
            path,
            exit_status,
            len(removed),
            self.reports.keep,
        )
        return path
