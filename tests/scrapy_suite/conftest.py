"""Shows how long Scrapy's feed-export sub-runs took and what they counted, after a run of them."""

from tests.scrapy_suite.run import SUMMARY_KEY


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash.get(SUMMARY_KEY, [])
    if lines:
        terminalreporter.section("Scrapy's feed-export tests (tests/scrapy_suite)")
        for line in lines:
            terminalreporter.write_line(line)
