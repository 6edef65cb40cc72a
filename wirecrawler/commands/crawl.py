"""``scrapy crawl`` that exits non-zero when the run failed, and writes the run's report.

Scrapy's own command exits 0 even when every request failed. This one is the same command
(the project's ``COMMANDS_MODULE`` overrides the built-in by name) with an exit status set
from ``wirecrawler.extensions.RunOutcome``, so cron and the wrapper can tell. The run report
(``wirecrawler.reporting.RunReporter``) is written here, after the outcome is decided, with
the same failures and exit status: a report that cannot be written fails the run instead.
"""

from __future__ import annotations

import logging

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from wirecrawler.extensions import RunOutcome
from wirecrawler.reporting import RunReporter

logger = logging.getLogger(__name__)

EXIT_FAILED = 1


class Command(ScrapyCrawlCommand):
    def short_desc(self) -> str:
        return "Run a spider; exit 1 when the run failed (requests, errors, monitors, feeds, report)"

    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        self._check_spider_arguments(args[0], opts.spargs)
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
            return
        outcome = crawler.get_extension(RunOutcome)
        failures = outcome.failures() if outcome else []
        exit_status = EXIT_FAILED if failures else 0
        reporter = crawler.get_extension(RunReporter)
        if reporter is not None and reporter.write(failures, exit_status) is None:
            failures.append("the run report could not be written")
            exit_status = EXIT_FAILED
        if failures:
            logger.error("Run failed: %s", "; ".join(failures))
        else:
            logger.info("Run succeeded")
        self.exitcode = exit_status

    def _check_spider_arguments(self, name: str, arguments: dict) -> None:
        """A bad ``-a`` argument: one line and exit 2, not a traceback from the crawler's start."""
        try:
            spidercls = self.crawler_process.spider_loader.load(name)
        except KeyError:
            return  # Scrapy says so itself
        check = getattr(spidercls, "check_arguments", None)
        if check is None:
            return
        try:
            check(**arguments)
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from None
