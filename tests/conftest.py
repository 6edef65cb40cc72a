"""Test-session rules: in CI a skipped test fails the run (a missing browser is not a pass).

The tests are in three tiers, one folder each, with their own fixtures in their ``conftest.py``:
``unit/`` (pure: no crawler, no subprocess, no server), ``component/`` (components built with
``scrapy.utils.test.get_crawler``) and ``e2e/`` (``scrapy crawl`` subprocesses against a local
server, the deploy files with real tools, rendering in Chromium). Helpers are imported as
packages from the project root (``pytest.ini``: ``pythonpath = .``): ``tests.crawling``,
``tests.faultserver``, ``tests.corpus``, ``tests.runstats`` and ``testsites``.
"""

import os


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} tests were skipped; in CI that is a failure", red=True)
        session.exitstatus = 1
