"""The preflight (``wirecrawler.preflight``): every setting and path a run needs, checked before it starts;
and the verdict of a crawl that did not start, or failed for a cause it can name.

Whole crawls with a bad set-up, as subprocesses, are in ``tests/e2e/test_preflight.py``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from scrapy.utils.project import get_project_settings

from tests.runstats import healthy_stats
from wirecrawler import preflight
from wirecrawler.runs.verdict import EX_CONFIG, EX_TEMPFAIL, RunVerdict
from wirecrawler.settingvalues import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]

# One value the run cannot use for every project setting, and the setting a problem must name.
BAD = {
    "WIRECRAWLER_STATE_DIR": "/proc/wirecrawler-state",
    "WIRECRAWLER_FEED_DIR": "/proc/wirecrawler-feeds",
    "WIRECRAWLER_SEEN_STORE": "mysql://db/seen",
    "WIRECRAWLER_SEEN_STORE_ENABLED": "sometimes",
    "WIRECRAWLER_RENDER": "maybe",
    "WIRECRAWLER_GC_THRESHOLD": "-5",
    "WIRECRAWLER_RETRY_AFTER_MAX": "-1",
    "WIRECRAWLER_RETRY_BACKOFF": "soon",
    "WIRECRAWLER_RENDER_MAX_PAGES": "0",
    "WIRECRAWLER_RENDER_WAIT_TIMEOUT": "0",
    "WIRECRAWLER_REPORTS_KEPT": "abc",
    "WIRECRAWLER_FEED_RETENTION_DAYS": "inf",
    "WIRECRAWLER_MIN_ROWS_PER_LISTING_PAGE": "-1",
    "WIRECRAWLER_MIN_FILL_RATES": '{"byline": 0.5}',
    "WIRECRAWLER_FILL_RATE_MIN_RECORDS": "0",
    "WIRECRAWLER_MIN_LEAD_SHARE": "2",
    "WIRECRAWLER_MAX_RETRIES": "ten",
    "WIRECRAWLER_MAX_RUN_GAP_MINUTES": "-1",
    "WIRECRAWLER_FAIL_ON_RUN_GAP": "yes",
    "WIRECRAWLER_STATUS_PAGE": "on",
    "WIRECRAWLER_LEASE_SECONDS": "1",
}
# Bad only together with another setting.
BAD_WITH = {"WIRECRAWLER_RENDER_CHROMIUM": ("/nonexistent/chromium", {"WIRECRAWLER_RENDER": "1"})}
# Names in the package that are no setting to check here, and why.
NOT_CHECKED = {
    "WIRECRAWLER_CRASH_AT": "an environment variable of the crash tests (wirecrawler.store.faults), checked at import",
    "WIRECRAWLER_METRICS_DIR": "node_exporter's folder: a run that cannot write there warns and goes on",
}


def settings_for(tmp_path: Path, **given):
    settings = get_project_settings().copy()
    settings.setdict(
        {"WIRECRAWLER_STATE_DIR": str(tmp_path / "state"), "WIRECRAWLER_FEED_DIR": str(tmp_path / "feeds"), **given},
        priority="cmdline",
    )
    return preflight.effective_settings(settings)


def test_a_good_set_up_has_no_problem_creates_its_folders_and_leaves_nothing_in_them(tmp_path):
    found = preflight.inspect(settings_for(tmp_path))
    assert found.problems == []
    assert (found.reports_dir, found.reports_kept) == (tmp_path / "feeds" / "reports", 50)
    folders = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))
    assert folders == ["feeds", "feeds/briefs", "feeds/leads", "feeds/reports", "state"]
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


@pytest.mark.parametrize("name", [*BAD, *BAD_WITH])
def test_a_bad_value_of_every_project_setting_is_found_naming_the_setting_and_its_value(tmp_path, name):
    value, others = BAD_WITH.get(name, (BAD.get(name), {}))
    found = preflight.inspect(settings_for(tmp_path, **others, **{name: value}))
    assert [(problem.name, problem.value) for problem in found.problems] == [(name, value)]
    [problem] = found.problems
    assert str(problem).startswith(f"{name}=") and "\n" not in str(problem)
    assert str(problem).rsplit(": ", 1)[1].startswith(("set ", "install ", "name "))  # the fix


def test_every_setting_the_package_names_is_in_the_table_above():
    named = set()
    for path in (ROOT / "wirecrawler").rglob("*.py"):
        named |= set(re.findall(r"WIRECRAWLER_[A-Z_]*[A-Z]", path.read_text(encoding="utf-8")))
    assert named - set(NOT_CHECKED) == set(BAD) | set(BAD_WITH)


def test_an_old_setting_name_is_checked_under_its_new_one(tmp_path):
    found = preflight.inspect(settings_for(tmp_path, RENDER_MAX_PAGES="none"))
    assert [problem.name for problem in found.problems] == ["WIRECRAWLER_RENDER_MAX_PAGES"]


def test_every_problem_is_found_at_once(tmp_path):
    found = preflight.inspect(settings_for(tmp_path, WIRECRAWLER_GC_THRESHOLD="x", WIRECRAWLER_MAX_RETRIES="-1"))
    assert [problem.name for problem in found.problems] == ["WIRECRAWLER_GC_THRESHOLD", "WIRECRAWLER_MAX_RETRIES"]
    with pytest.raises(ConfigurationError) as refused:
        preflight.check(settings_for(tmp_path, WIRECRAWLER_GC_THRESHOLD="x", WIRECRAWLER_MAX_RETRIES="-1"))
    assert str(refused.value).count("Configuration: ") == 2


def test_folders_the_run_cannot_create_or_write_in_are_named_with_the_reason(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    found = preflight.inspect(
        settings_for(
            tmp_path,
            WIRECRAWLER_STATE_DIR=str(tmp_path / "a-file"),
            WIRECRAWLER_FEED_DIR="/proc/wirecrawler-feeds",
            WIRECRAWLER_SEEN_STORE=f"sqlite:///{tmp_path}/a-file/seen.sqlite3",
        )
    )
    assert [str(problem) for problem in found.problems] == [
        f"WIRECRAWLER_STATE_DIR={tmp_path}/a-file: the state directory is a file, not a folder: set it to a writable folder",
        f"WIRECRAWLER_SEEN_STORE=sqlite:///{tmp_path}/a-file/seen.sqlite3: the seen store's folder {tmp_path}/a-file"
        " is a file, not a folder: set it to a writable folder",
        "WIRECRAWLER_FEED_DIR=/proc/wirecrawler-feeds: cannot create the feed directory /proc/wirecrawler-feeds"
        " (No such file or directory): set it to a writable folder",
    ]
    assert found.reports_dir is None  # no report can be written for this run


def test_a_kind_folder_or_the_reports_folder_that_is_a_file_is_found(tmp_path):
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "leads").write_text("")
    (tmp_path / "feeds" / "reports").write_text("")
    found = preflight.inspect(settings_for(tmp_path))
    assert [problem.problem for problem in found.problems] == [
        f"the lead feed folder {tmp_path}/feeds/leads is a file, not a folder",
        f"the reports folder {tmp_path}/feeds/reports is a file, not a folder",
    ]
    assert found.reports_dir is None


def test_the_shared_set_up_checks_its_local_folders_and_leaves_the_servers_to_the_crawl(tmp_path):
    found = preflight.inspect(
        settings_for(
            tmp_path, WIRECRAWLER_SEEN_STORE="postgresql://wire@127.0.0.1:1/seen", WIRECRAWLER_FEED_DIR="s3://bucket/feeds"
        )
    )
    assert found.problems == []
    # The reports stay on the host, in its state directory; no local folder is named after the bucket.
    assert found.reports_dir == tmp_path / "state" / "feeds" / "reports"
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*")) == [
        "state", "state/feeds", "state/feeds/reports"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("given", "named", "problem"),
    [
        ({"WIRECRAWLER_FEED_DIR": "s3://bucket/feeds"}, "WIRECRAWLER_FEED_DIR",
         "feeds in object storage need the shared store, whose log publishes them"),
        ({"WIRECRAWLER_SEEN_STORE": "postgresql://wire@db/seen"}, "WIRECRAWLER_SEEN_STORE",
         "the shared store publishes to object storage, not a local folder"),
    ],
)  # fmt: skip
def test_half_a_shared_set_up_is_refused(tmp_path, given, named, problem):
    found = preflight.inspect(settings_for(tmp_path, **given))
    assert [(p.name, p.problem) for p in found.problems] == [(named, problem)]


def test_a_seen_store_that_is_a_folder_is_found(tmp_path):
    (tmp_path / "store").mkdir()
    found = preflight.inspect(settings_for(tmp_path, WIRECRAWLER_SEEN_STORE=f"sqlite:///{tmp_path}/store"))
    assert [problem.problem for problem in found.problems] == [f"{tmp_path}/store is a folder, not a store file"]


def test_other_entry_points_are_stopped_by_the_preflight_extension_before_the_seen_store_opens(
    make_crawler, tmp_path, caplog
):
    refusal = "Configuration: WIRECRAWLER_GC_THRESHOLD=-5: the garbage collector's threshold must be"
    with caplog.at_level(logging.ERROR), pytest.raises(ConfigurationError, match=f"^{refusal}"):
        make_crawler(WIRECRAWLER_GC_THRESHOLD="-5")  # as a CrawlerProcess script builds its crawler
    [said] = caplog.messages
    assert said.startswith(f"Run failed: {refusal}")
    assert not (tmp_path / "seen.sqlite3").exists()


# --- The verdict of a crawl that did not start, or failed for a cause it can name.


@pytest.mark.parametrize(
    ("reason", "status"),
    [("seen_store_busy", EX_TEMPFAIL), ("seen_store_unavailable", EX_TEMPFAIL), ("seen_store_unusable", EX_CONFIG)],
)
def test_a_crawl_refused_while_opening_runs_no_monitors_and_says_the_refusal_last(make_crawler, caplog, reason, status):
    crawler = make_crawler(spider_args={})
    verdict = crawler.get_extension(RunVerdict)
    refusal = "the seen store /x/seen.sqlite3 is in use by another crawl (pid 42, lock /x/seen.sqlite3.lock)"
    crawler.stats.set_value("wirecrawler/not_started", refusal)
    with caplog.at_level(logging.INFO, logger="wirecrawler.runs.verdict"):
        verdict.spider_closed(spider=crawler.spider, reason=reason)  # the engine never started
    assert verdict.checks == [] and "Monitor" not in caplog.text
    assert (verdict.exit_status, verdict.failures_found) == (status, [f"not started: {refusal}"])
    assert caplog.messages[-1] == f"Run failed: not started: {refusal}"
    assert f"(exit status {status})" in caplog.messages[-2]


def test_the_first_error_is_named_when_no_more_specific_cause_is_known(make_crawler):
    crawler = make_crawler(spider_args={})
    verdict = crawler.get_extension(RunVerdict)
    verdict.spider_opened(crawler.spider)
    verdict.engine_started()
    crawler.stats.set_stats(healthy_stats())
    unreadable = "Listing page http://127.0.0.1:8080/nieuws/buitenland?page=2 is unreadable: truncated"
    logging.getLogger("wirecrawler.spiders.buitenland").error("%s\nwith more lines", unreadable)
    verdict.spider_closed(spider=crawler.spider, reason="finished")
    assert verdict.failures() == [f"1 errors were logged (first: {unreadable})"]
    crawler.stats.set_value("wirecrawler/layout_drift", 1)  # a cause of its own: named first, the count plain
    assert verdict.failures()[0] == "1 listing pages had no rows (layout drift)"
    assert verdict.failures()[-1] == "1 errors were logged"
    verdict.engine_stopped()
    logging.getLogger("wirecrawler.spiders.buitenland").error("after the verdict")
    assert verdict.logged.errors == 1  # the verdict stopped listening once it decided
