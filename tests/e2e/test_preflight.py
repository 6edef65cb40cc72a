"""A bad set-up is refused before the first request: ``scrapy crawl`` subprocesses with real files,
folders the crawl cannot create (``/proc`` refuses every new entry, whoever asks, root included),
a regular file where a folder belongs, and settings the run cannot use.

Each must end in one line naming the setting, its value and the fix, as the run's last line,
exit 78 (EX_CONFIG, as the deploy wrapper's), no traceback, nothing fetched, the seen store not
even opened, no monitors, and a run report wherever the reports folder is usable. Other entry
points (``scrapy runspider``) are stopped by the same checks before the seen store is opened.
The checks themselves, setting by setting, are in ``tests/component/test_preflight.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.crawling import crawl
from wirecrawler.local.demo import local_crawl_command
from wirecrawler.local.server import PROJECT_ROOT

EX_CONFIG = 78
FIX = r": (set|install) "

# (the setting as it is named in the refusal, the arguments, whether a report can be written)
BAD_SET_UPS = {
    "feed-dir-under-proc": ("WIRECRAWLER_FEED_DIR=/proc/wirecrawler-feeds", [], False),
    "reports-kept-not-a-number": ("WIRECRAWLER_REPORTS_KEPT=abc", [], True),
    "run-gap-negative": ("WIRECRAWLER_MAX_RUN_GAP_MINUTES=-1", [], True),
    "run-gap-not-a-number": ("WIRECRAWLER_MAX_RUN_GAP_MINUTES=abc", [], True),
    "gc-threshold-negative": ("WIRECRAWLER_GC_THRESHOLD=-5", [], True),
    "chromium-missing": ("WIRECRAWLER_RENDER_CHROMIUM={tmp}/no-chromium", ["-s", "WIRECRAWLER_RENDER=1"], True),
    "state-dir-under-proc": ("WIRECRAWLER_STATE_DIR=/proc/wirecrawler-state", [], True),
    "state-dir-is-a-file": ("WIRECRAWLER_STATE_DIR={tmp}/a-file", [], True),
}


def lines_of(log: str) -> list[str]:
    return log.rstrip().splitlines()


@pytest.mark.parametrize("case", BAD_SET_UPS, ids=list(BAD_SET_UPS))
def test_a_bad_set_up_is_one_last_line_exit_78_and_nothing_fetched(site_url, tmp_path, case):
    setting, extra, reported = BAD_SET_UPS[case]
    setting = setting.format(tmp=tmp_path)
    (tmp_path / "a-file").write_text("a file where a folder belongs")
    before = len(site_url.requested())
    run = crawl(site_url, tmp_path, *extra, "-s", setting)
    assert run.returncode == EX_CONFIG, run.log[-3000:]
    assert "Traceback" not in run.log and "Task exception" not in run.log
    last = lines_of(run.log)[-1]
    assert re.search(rf"\] ERROR: Run failed: Configuration: {re.escape(setting)}: .+{FIX}", last), last
    name = setting.split("=", 1)[0]
    assert [line for line in lines_of(run.log) if f"{name}=" in line] == [last]  # said once
    assert site_url.requested()[before:] == []
    assert "Spider opened" not in run.log and "Monitor " not in run.log
    assert not (tmp_path / "state" / "seen.sqlite3").exists()
    reports = sorted((tmp_path / "feeds" / "reports").glob("*.json")) if reported else []
    if reported:
        [path] = reports
        report = json.loads(path.read_text(encoding="utf-8"))
        assert (report["exit_status"], report["monitors"], report["crawl_succeeded"]) == (EX_CONFIG, [], False)
        assert report["failures"] == [last.split("Run failed: ", 1)[1]]
        assert f"Run report {path} written (exit status {EX_CONFIG})" in run.log
    else:
        assert not (tmp_path / "feeds" / "reports").exists() or not any((tmp_path / "feeds" / "reports").iterdir())


def test_every_bad_setting_is_named_in_the_one_last_line(site_url, tmp_path):
    run = crawl(site_url, tmp_path, "-s", "WIRECRAWLER_GC_THRESHOLD=x", "-s", "WIRECRAWLER_MIN_LEAD_SHARE=2")
    assert run.returncode == EX_CONFIG
    last = lines_of(run.log)[-1]
    assert last.count("Configuration: ") == 2
    assert "WIRECRAWLER_GC_THRESHOLD=x: " in last and "; Configuration: WIRECRAWLER_MIN_LEAD_SHARE=2: " in last


def test_scrapy_runspider_is_stopped_by_the_same_checks_before_the_seen_store_opens(site_url, tmp_path):
    crawl_command = local_crawl_command(site_url, tmp_path / "state", tmp_path / "feeds")
    options = crawl_command[crawl_command.index("buitenland") + 1 :]
    before = len(site_url.requested())
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "runspider", "wirecrawler/spiders/buitenland.py", *options,
         "-s", "WIRECRAWLER_FEED_DIR=/proc/wirecrawler-feeds"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    refusal = (
        "Run failed: Configuration: WIRECRAWLER_FEED_DIR=/proc/wirecrawler-feeds: cannot create the feed directory"
        " /proc/wirecrawler-feeds (No such file or directory): set it to a writable folder"
    )
    assert f"] ERROR: {refusal}" in done.stderr
    # Scrapy's runspider ends a crawler that raised with its traceback, whose last line repeats it.
    assert lines_of(done.stderr)[-1].endswith(refusal.removeprefix("Run failed: "))
    assert site_url.requested()[before:] == []
    assert not (tmp_path / "state" / "seen.sqlite3").exists()


def test_a_crawler_that_cannot_start_for_another_reason_ends_with_the_verdict(site_url, tmp_path):
    run = crawl(site_url, tmp_path, "-s", 'EXTENSIONS={"wirecrawler.nowhere.Missing": 5}')
    assert run.returncode == 1
    assert lines_of(run.log)[-1].endswith(
        "ERROR: Run failed: the crawl could not start: ModuleNotFoundError: No module named 'wirecrawler.nowhere'"
    )
    assert "Task exception was never retrieved" not in run.log
