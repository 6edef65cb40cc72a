"""``scrapy crawl`` that exits non-zero when the run failed.

Scrapy's own command exits 0 even when every request failed. This one is the same command
(the project's ``COMMANDS_MODULE`` overrides the built-in by name) with the exit status of the
run's verdict (``wirecrawler.runs.verdict.RunVerdict``, which also wrote the run's report), so
cron and the wrapper can tell.
"""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from wirecrawler.runs.verdict import EXIT_FAILED, RunVerdict


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
        try:
            verdict = crawler.get_extension(RunVerdict)
        except RuntimeError:  # the crawler failed before its extensions were built
            verdict = None
        if self.crawler_process.bootstrap_failed or verdict is None or verdict.exit_status is None:
            self.exitcode = EXIT_FAILED  # the crawl never ran to its end
            return
        self.exitcode = verdict.exit_status

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
