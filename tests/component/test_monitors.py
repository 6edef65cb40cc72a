"""End-of-run monitors as the run's verdict (``wirecrawler.runs.verdict.RunVerdict``) runs them."""

from __future__ import annotations

from wirecrawler.runs.verdict import RunVerdict


def test_monitors_that_break_fail_the_run_instead_of_being_swallowed(make_crawler):
    crawler = make_crawler(WIRECRAWLER_SEEN_STORE_ENABLED=False)  # no spider: the run has none to read
    verdict = crawler.get_extension(RunVerdict)
    verdict.engine_started()
    verdict.spider_closed(spider=None, reason="finished")  # the checks raise
    assert verdict.checks == [] and verdict.monitors_crash.startswith("AttributeError")
    [failure] = verdict.failures()
    assert failure.startswith("the end-of-run monitors could not run: AttributeError")
