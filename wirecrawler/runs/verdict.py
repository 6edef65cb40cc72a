"""The run's verdict, its end-of-run monitors and its report, for every way a crawl is started.

``RunVerdict`` is an extension, so ``scrapy crawl``, ``scrapy runspider``, a script with
``CrawlerProcess`` and a Scrapyd job all end the same way: once the engine stops, the run's
failures are decided, the report is written with them (``wirecrawler.runs.history``), and the
last line says ``Run failed: ...`` or ``Run succeeded``. The project's ``crawl`` command only
turns ``exit_status`` into the process's exit status.

A crawl refused while it opens (its seen store held by another crawl, or unusable) never starts
its engine: it runs no monitors, its report is written when its spider closes, and its last line
comes when the process is done with the crawl (the reactor's shutdown), after Scrapy's own
closing lines. A crawl whose set-up is bad is refused earlier still, by ``scrapy crawl`` before
any crawler exists (``wirecrawler.preflight``): ``report_refused_run`` ends that one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.reactor import is_reactor_installed

from wirecrawler.config import WireConfig
from wirecrawler.runs.checks import Check, RunFigures, Thresholds, run_checks
from wirecrawler.runs.history import FeedFile, ReportConfig, build_report, load_reports, previous_success_end, prune_reports, write_report
from wirecrawler.runs.run import Run, run_of
from wirecrawler.runs.signals import run_decided

logger = logging.getLogger(__name__)

EXIT_FAILED = 1  # the run failed: see its last line and its report
EX_TEMPFAIL = 75  # not started: another crawl holds the seen store (as the deploy wrapper's lock), or a server is down
EX_CONFIG = 78  # not started: the set-up is bad (a setting, a path, Chromium, an unusable seen store)
# Why a crawl closed while opening, before its engine ran, and the exit status each gives.
REFUSED_STARTS = {
    "seen_store_busy": EX_TEMPFAIL,
    "seen_store_unavailable": EX_TEMPFAIL,  # the shared store or object storage cannot be reached
    "seen_store_unusable": EX_CONFIG,
}
NOT_STARTED = "wirecrawler/not_started"  # stat: why, in one line (wirecrawler.extensions)


class _ErrorsLogged(logging.Handler):
    """The ERROR (and CRITICAL) lines the crawl logged, but for the verdict's own, from the
    spider's opening to the verdict: how many, and the first, which the run's last line names
    when no more specific cause is known. (Scrapy's ``log_count`` stats stop counting when the
    spider closes, before the feeds are published and old files pruned.)"""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors = self.critical = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == __name__:
            return
        if record.levelno >= logging.CRITICAL:
            self.critical += 1
        else:
            self.errors += 1
        if self.first is None:
            try:
                lines = record.getMessage().strip().splitlines()
            except Exception:  # noqa: BLE001 (a bad log call elsewhere is not the verdict's to fail on)
                lines = [str(record.msg)]
            if lines:
                self.first = lines[0] if len(lines[0]) <= 300 else lines[0][:299] + "…"


class RunVerdict:
    """Decides whether the run failed, runs the monitors, and writes the run report.

    Scrapy itself exits 0 when requests failed, when a callback or a pipeline raised, or when a
    feed could not be stored. Every such event is logged at ERROR level by Scrapy or by this
    project, so a run fails when it logged an error, and the reasons name the causes (the first
    failed request with its URL and reason, the counters, else the first error logged). A
    failed end-of-run monitor (``wirecrawler.runs.checks``) fails it too, and so does a report
    that cannot be written: the report on disk always holds the run's own exit status. A crawl
    refused at its start exits 75 (another crawl holds its seen store) or 78 (the store is
    unusable), as ``REFUSED_STARTS`` says.
    """

    # Causes counted in the stats, in the order the last line gives them; the count of errors
    # logged comes last, after every specific cause (failures()).
    REASONS = {
        "wirecrawler/layout_drift": "listing pages had no rows (layout drift)",
        "spider_exceptions/count": "spider callbacks raised",
        "wirecrawler/item_errors": "item pipelines raised",
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
        self.logged = _ErrorsLogged()
        self.exit_status: int | None = None  # decided when the engine stops, or never started
        self.failures_found: list[str] = []  # with it: why the run failed, one phrase per cause
        self.report_path: Path | None = None  # with it: the run's report, None when it could not be written
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
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

    def spider_opened(self, spider):
        logging.getLogger().addHandler(self.logged)

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
        if self.engine_ran:
            self.run_monitors()  # decided when the engine stops, after Scrapy's stats dump
            return
        # Closed while opening (a seen store another crawl holds): the engine never started, so
        # it never stops either, and a crawl that did not start has no figures to judge. Its
        # last line waits for Scrapy's stats dump and "Spider closed" line.
        self.decide(say=self.say_when_the_process_is_done)

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
            if not check.passed:
                logger.error("Monitor %s failed: %s", check.name, check.message)
            elif check.warning:
                logger.warning("Monitor %s passed: %s", check.name, check.message)
            else:
                logger.info("Monitor %s passed: %s", check.name, check.message)
        failed = sum(not check.passed for check in self.checks)
        self.crawler.stats.set_value("wirecrawler/monitors/passed", len(self.checks) - failed)
        self.crawler.stats.set_value("wirecrawler/monitors/failed", failed)
        self.crawler.stats.set_value("wirecrawler/monitors/warnings", sum(check.warning for check in self.checks))

    def engine_stopped(self):
        if self.exit_status is None:
            self.decide()

    def decide(self, say=None):
        """The run's failures, its report and its last line; ``exit_status`` from then on.

        Before the last line, ``run_decided`` goes to the extensions that publish the outcome.
        *say* says the last line (``say_last_line``, at once, unless given).
        """
        logging.getLogger().removeHandler(self.logged)
        failures = self.failures()
        exit_status = (REFUSED_STARTS.get(self.finish_reason) or EXIT_FAILED) if failures else 0
        self.report_path = self.write_report(failures, exit_status)
        if self.report_path is None:
            failures.append("the run report could not be written")
            exit_status = exit_status or EXIT_FAILED
        self.failures_found, self.exit_status = failures, exit_status
        self.crawler.signals.send_catch_log(run_decided, verdict=self)
        (say or self.say_last_line)()

    def say_last_line(self) -> None:
        if self.failures_found:
            logger.error("Run failed: %s", "; ".join(self.failures_found))
        else:
            logger.info("Run succeeded")

    def say_when_the_process_is_done(self) -> None:
        """The last line once the reactor shuts down (after the crawl's own closing lines); at
        once when no reactor is running (a crawler driven by hand)."""
        if is_reactor_installed():
            from twisted.internet import reactor

            if reactor.running:
                reactor.addSystemEventTrigger("before", "shutdown", self.say_last_line)
                return
        self.say_last_line()

    # --- The verdict and the report.

    def failures(self) -> list[str]:
        """Why the run failed, one phrase per cause, the specific causes first; empty when it did not.

        A crawl refused at its start names the refusal. A failed request names the first one
        with its reason. The count of errors logged comes last: it also counts the lines of the
        causes named before it, and names the first error only when no cause before it is known.
        """
        stats = self.crawler.stats
        figures = RunFigures.from_stats(stats.get_stats())
        found = []
        refused = self.finish_reason in REFUSED_STARTS
        if refused:
            refusal = stats.get_value(NOT_STARTED) or f"the spider closed with reason {self.finish_reason!r}"
            found.append(f"not started: {refusal}")
        if figures.failed_requests:
            found.append(_requests_failed(figures.failed_requests, figures.first_failed_request))
        found += [f"{count} {text}" for key, text in self.REASONS.items() if (count := stats.get_value(key, 0))]
        found += [
            f"{count} feeds could not be stored ({key})"
            for key, count in stats.get_stats().items()
            if key.startswith("feedexport/failed_count/") and count
        ]
        if self.finish_reason != "finished" and not refused:
            found.append(f"the spider closed with reason {self.finish_reason!r}")
        if self.monitors_crash is not None:
            found.append(f"the end-of-run monitors could not run: {self.monitors_crash}")
        known = bool(found)
        found += [check.failure() for check in self.checks if not check.passed]
        first = f" (first: {self.logged.first})" if self.logged.first and not known else ""
        if critical := max(stats.get_value("log_count/CRITICAL", 0), self.logged.critical):
            found.append(f"{critical} critical errors were logged{first}")
            first = ""
        if errors := max(stats.get_value("log_count/ERROR", 0), self.logged.errors):
            found.append(f"{errors} errors were logged{first}")
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
        return file_report(self.reports.reports_dir, self.reports.keep, self.run.stamp, report)


def _requests_failed(count: int, first: str | None) -> str:
    if first is None:
        return f"{count} requests failed"
    return f"1 request failed ({first})" if count == 1 else f"{count} requests failed (first: {first})"


def file_report(reports_dir: Path, keep: int | None, stamp: str, report: dict) -> Path | None:
    """Writes *report* as ``<stamp>.json`` in *reports_dir* and, with *keep*, cuts the history
    to that many; the path written, or None (and an error logged) when it could not be."""
    try:
        path = write_report(reports_dir / f"{stamp}.json", report)
    except OSError as exc:
        # The run now fails for this (write_report leaves no report behind that would say otherwise).
        logger.error("Run report could not be written in %s: %s", reports_dir, exc)
        return None
    if keep is None:
        logger.info("Run report %s written (exit status %d)", path, report["exit_status"])
        return path
    try:
        removed = prune_reports(reports_dir, keep)
    except OSError as exc:
        # The report stands (its exit status is the run's); only the history grows.
        logger.warning("Older run reports in %s could not be removed: %s", reports_dir, exc)
        removed = []
    logger.info(
        "Run report %s written (exit status %d); %d older reports removed, %d kept at most",
        path,
        report["exit_status"],
        len(removed),
        keep,
    )
    return path


def report_refused_run(
    run: Run | None, failures: list[str], exit_status: int, reports_dir: Path | None, keep: int | None
) -> None:
    """The end of a run refused before its crawler was built (``scrapy crawl`` with a bad set-up):
    its report, when *run* is known and *reports_dir* usable (*keep*: None leaves the history
    as it is), then its last line. Nothing ran, so the report has no figures and no monitors."""
    if run is not None and reports_dir is not None:
        report = build_report(
            job=run.job,
            run_start=run.started,
            run_end=datetime.now(UTC),
            finish_reason=None,
            figures=RunFigures.from_stats({}),
            feeds=[],
            checks=[],
            failures=failures,
            exit_status=exit_status,
        )
        file_report(reports_dir, keep, run.stamp, report)
    logger.error("Run failed: %s", "; ".join(failures))
