"""Test-session rules: in CI a skipped test fails the run (a missing browser is not a pass)."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} tests were skipped; in CI that is a failure", red=True)
        session.exitstatus = 1
