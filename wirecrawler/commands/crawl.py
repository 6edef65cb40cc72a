"""``scrapy crawl`` that checks the set-up first, and exits with the run's verdict.

Scrapy's own command exits 0 even when every request failed. This one is the same command
(the project's ``COMMANDS_MODULE`` overrides the built-in by name) with the exit status of the
run's verdict (``wirecrawler.runs.verdict.RunVerdict``, which also wrote the run's report), so
cron and the wrapper can tell:

- 0: the run succeeded; 1: it failed (its last line and its report say why);
- 2: a usage error (a bad ``-a`` argument), before anything starts;
- 75: not started, another crawl holds the seen store or the shared store's lease, or the shared
  store or object storage cannot be reached (EX_TEMPFAIL, as the wrapper's lock: try later);
- 78: not started, the set-up is bad (EX_CONFIG): a setting, a path, Chromium (checked here,
  ``wirecrawler.preflight``, before the crawler is built), or an unusable seen store.
"""

from __future__ import annotations

import logging

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from wirecrawler import preflight
from wirecrawler.runs.verdict import EX_CONFIG, EXIT_FAILED, RunVerdict, report_refused_run
from wirecrawler.settingvalues import ConfigurationError

logger = logging.getLogger(__name__)


class Command(ScrapyCrawlCommand):
    def short_desc(self) -> str:
        return "Run a spider; exit 1 when the run failed, 75 or 78 when it could not start"

    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        self._check_spider_arguments(args[0], opts.spargs)
        crawler = self._create_crawler(args[0])
        if not self._set_up_is_usable(crawler, opts.spargs):
            self.exitcode = EX_CONFIG
            return
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        try:
            verdict = crawler.get_extension(RunVerdict)
        except RuntimeError:  # the crawler failed before its extensions were built
            verdict = None
        if self.crawler_process.bootstrap_failed or verdict is None or verdict.exit_status is None:
            # The crawl never ran to its end.
            self.exitcode = EX_CONFIG if self._say_why_it_never_ran(started) else EXIT_FAILED
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

    def _set_up_is_usable(self, crawler, arguments: dict) -> bool:
        """The preflight, before the crawler is built: a bad set-up is the run's one last line (and
        its report, where the reports folder is usable), and nothing starts."""
        found = preflight.inspect(preflight.effective_settings(crawler.settings))
        if not found.problems:
            return True
        run_for = getattr(crawler.spidercls, "run_for", None)
        report_refused_run(
            run_for(**arguments) if run_for else None,
            [f"Configuration: {problem}" for problem in found.problems],
            EX_CONFIG,
            found.reports_dir,
            found.reports_kept,
        )
        return False

    @staticmethod
    def _say_why_it_never_ran(started) -> bool:
        """A crawler that raised while it started: its error with its traceback, then the run's
        last line, rather than asyncio's "Task exception was never retrieved" at exit. True when
        that was the set-up found bad by the preflight extension (changed since it was checked
        here), which has said so in its own last line."""
        done = getattr(started, "done", None)
        if done is None or not done() or started.cancelled() or started.exception() is None:
            return False
        error = started.exception()
        if isinstance(error, ConfigurationError):
            return True
        logger.error("The crawl could not start", exc_info=error)
        logger.error("Run failed: the crawl could not start: %s: %s", type(error).__name__, error)
        return False
