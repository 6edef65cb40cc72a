"""The seen store across processes: a lock left by a killed holder, a crash point read at start-up."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from wirecrawler.local.server import PROJECT_ROOT as ROOT
from wirecrawler.store.seen import StoreLock


def test_a_lock_left_by_a_killed_process_is_taken_over_with_a_log_line(tmp_path, caplog):
    """Fault: the lock's holder was killed (SIGKILL). Checked: the next acquire succeeds and says so."""
    store_path = str(tmp_path / "seen.sqlite3")
    holder = subprocess.run(
        [sys.executable, "-c", "import os, signal, sys; from wirecrawler.store.seen import StoreLock;"
         " StoreLock.acquire(sys.argv[1]); os.kill(os.getpid(), signal.SIGKILL)", store_path],
        cwd=ROOT,
        check=False,
    )  # fmt: skip
    assert holder.returncode == -9
    left_pid = Path(f"{store_path}.lock").read_text().strip()
    assert left_pid.isdigit()
    with caplog.at_level(logging.WARNING, logger="wirecrawler.store.seen"):
        StoreLock.acquire(store_path).release()
    assert caplog.messages == [
        f"Stale lock {store_path}.lock left by pid {left_pid}, which died holding it: taken over"
    ]


def test_a_misspelt_crash_point_stops_the_process_at_import():
    done = subprocess.run(
        [sys.executable, "-c", "import wirecrawler.store.faults"],
        cwd=ROOT,
        env={**os.environ, "WIRECRAWLER_CRASH_AT": "after_feed_renam"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "WIRECRAWLER_CRASH_AT must be POINT or POINT@N" in done.stderr
