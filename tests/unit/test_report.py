"""Run reports: the pure report module (``wirecrawler.runs.history``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy.settings import Settings

from wirecrawler.config import WireConfig
from wirecrawler.runs.checks import RUN_GAP, Check, RunFigures
from wirecrawler.runs.history import (
    ReportConfig,
    build_report,
    load_reports,
    previous_success_end,
    prune_reports,
    write_report,
)

JOB = {"spider": "buitenland", "start_url": "https://www.zeelandnet.nl/nieuws/buitenland"}
START = datetime(2026, 11, 24, 23, 20, 5, tzinfo=UTC)
GAP = Check(RUN_GAP, False, "5 h since the previous successful run ended (maximum 1 h): were runs missed?")
DRIFT = Check("listing_rows", False, "listing rows matched nothing on 1 of 1 listing pages")


def report(failures=(), checks=(), job=JOB, start=START, exit_status=None) -> dict:
    failures = list(failures)
    return build_report(
        job=job,
        run_start=start,
        run_end=start + timedelta(seconds=3),
        finish_reason="finished",
        figures=RunFigures.from_stats({"wirecrawler/records_built/brief": 2, "wirecrawler/emitted/brief": 1}),
        feeds=[],
        checks=list(checks),
        failures=failures,
        exit_status=(1 if failures else 0) if exit_status is None else exit_status,
    )


def test_a_run_that_failed_only_for_the_gap_before_it_still_counts_as_a_successful_crawl():
    assert report()["crawl_succeeded"] is True
    assert report([GAP.failure()], [GAP])["crawl_succeeded"] is True
    assert report([DRIFT.failure()], [DRIFT])["crawl_succeeded"] is False
    assert report([GAP.failure(), "2 requests failed"], [GAP])["crawl_succeeded"] is False


def test_the_report_holds_times_counts_and_outcome():
    built = report([DRIFT.failure()], [DRIFT])
    assert (built["run_start"], built["run_end"]) == ("2026-11-24T23:20:05Z", "2026-11-24T23:20:08Z")
    assert built["records"]["brief"] == {"parsed": 2, "new": 1, "filled": {}}
    assert built["exit_status"] == 1 and built["failures"] == [DRIFT.failure()]
    assert built["monitors"] == [{"name": "listing_rows", "passed": False, "message": DRIFT.message, "warning": False}]
    json.dumps(built)  # JSON-ready as it is


def test_write_report_publishes_a_whole_file_and_leaves_no_temporary_one(tmp_path):
    reports = tmp_path / "reports"  # created on the way
    path = reports / "2026-11-24T23-20-05Z.json"
    assert write_report(path, report()) == path
    assert json.loads(path.read_text(encoding="utf-8")) == report()
    assert [p.name for p in reports.iterdir()] == [path.name]


def test_a_report_never_replaces_another_runs_report_of_the_same_second(tmp_path):
    path = tmp_path / "2026-11-24T23-20-05Z.json"
    write_report(path, report())
    second = write_report(path, report(exit_status=1))
    third = write_report(path, report(exit_status=2))
    assert (second.name, third.name) == ("2026-11-24T23-20-05Z-2.json", "2026-11-24T23-20-05Z-3.json")
    assert json.loads(path.read_text(encoding="utf-8")) == report()
    assert json.loads(second.read_text(encoding="utf-8"))["exit_status"] == 1
    assert {p.name for p in tmp_path.iterdir()} == {path.name, second.name, third.name}
    # Oldest first: a run's own second, then the ones after it, then the next second.
    (tmp_path / "2026-11-24T23-20-06Z.json").write_text("{}")
    assert [p.name for p in prune_reports(tmp_path, keep=2)] == [path.name, second.name]


def test_prune_keeps_the_newest_reports_and_nothing_else_is_touched(tmp_path):
    names = [f"2026-11-24T23-{minute:02d}-00Z.json" for minute in range(5)]
    for name in names:
        (tmp_path / name).write_text("{}")
    (tmp_path / "notes.json").write_text("{}")
    removed = prune_reports(tmp_path, keep=2)
    assert [p.name for p in removed] == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == [*names[3:], "notes.json"]
    assert prune_reports(tmp_path, keep=2) == []


def test_the_previous_success_is_the_latest_successful_run_of_the_same_crawl(tmp_path, caplog):
    def save(name_start: datetime, **kwargs):
        write_report(tmp_path / name_start.strftime("%Y-%m-%dT%H-%M-%SZ.json"), report(start=name_start, **kwargs))

    save(START - timedelta(hours=3))
    save(START - timedelta(hours=2), failures=[GAP.failure()], checks=[GAP])  # late, but it crawled
    save(START - timedelta(hours=1), failures=[DRIFT.failure()], checks=[DRIFT])  # failed
    save(START - timedelta(minutes=30), job={**JOB, "start_url": "http://127.0.0.1:8080/nieuws/buitenland"})
    (tmp_path / "2026-11-24T23-59-59Z.json").write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="wirecrawler.runs.history"):
        reports = load_reports(tmp_path)
    assert len(reports) == 4
    assert "2026-11-24T23-59-59Z.json is unreadable" in caplog.text
    assert previous_success_end(reports, JOB) == START - timedelta(hours=2) + timedelta(seconds=3)
    assert previous_success_end(reports, {**JOB, "start_url": "http://elsewhere/"}) is None
    assert load_reports(tmp_path / "missing") == []


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_the_number_of_reports_kept_must_be_at_least_one(value):
    with pytest.raises(ValueError, match=r"^WIRECRAWLER_REPORTS_KEPT=\S+: the number of run reports kept must be a whole number, 1 or more: "):
        ReportConfig.from_settings(Settings({"WIRECRAWLER_REPORTS_KEPT": value}), Path("feeds"))


def test_reports_go_next_to_the_feeds():
    settings = Settings({"WIRECRAWLER_FEED_DIR": "/srv/feeds"})
    config = ReportConfig.from_settings(settings, WireConfig.from_settings(settings).feed_dir)  # as the verdict reads it
    assert (str(config.reports_dir), config.keep) == ("/srv/feeds/reports", 50)
    assert ReportConfig.keep == 50
