"""Run reports: the pure report module, and the report every ``scrapy crawl`` run writes."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from crawling import SAMPLE_SITE, crawl, read_jsonl, served
from scrapy.settings import Settings

from wirecrawler.monitors import RUN_GAP, Check, RunFigures
from wirecrawler.report import (
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
    assert built["monitors"] == [{"name": "listing_rows", "passed": False, "message": DRIFT.message}]
    json.dumps(built)  # JSON-ready as it is


def test_write_report_publishes_a_whole_file_and_leaves_no_temporary_one(tmp_path):
    reports = tmp_path / "reports"  # created on the way
    path = reports / "2026-11-24T23-20-05Z.json"
    write_report(path, report())
    assert json.loads(path.read_text(encoding="utf-8")) == report()
    write_report(path, report(exit_status=1))
    assert json.loads(path.read_text(encoding="utf-8"))["exit_status"] == 1
    assert [p.name for p in reports.iterdir()] == [path.name]


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
    with caplog.at_level(logging.WARNING, logger="wirecrawler.report"):
        reports = load_reports(tmp_path)
    assert len(reports) == 4
    assert "2026-11-24T23-59-59Z.json is unreadable" in caplog.text
    assert previous_success_end(reports, JOB) == START - timedelta(hours=2) + timedelta(seconds=3)
    assert previous_success_end(reports, {**JOB, "start_url": "http://elsewhere/"}) is None
    assert load_reports(tmp_path / "missing") == []


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_the_number_of_reports_kept_must_be_at_least_one(value):
    with pytest.raises(ValueError, match="-s WIRECRAWLER_REPORTS_KEPT must be a whole number >= 1"):
        ReportConfig.from_settings(Settings({"WIRECRAWLER_REPORTS_KEPT": value}))


def test_reports_go_next_to_the_feeds():
    config = ReportConfig.from_settings(Settings({"WIRECRAWLER_FEED_DIR": "/srv/feeds"}))
    assert (str(config.reports_dir), config.keep) == ("/srv/feeds/reports", 50)


# --- Whole runs: `scrapy crawl` against the local sample site.


def newest_report(state) -> tuple[str, dict]:
    path = sorted((state / "feeds" / "reports").glob("*.json"))[-1]
    return path.name, json.loads(path.read_text(encoding="utf-8"))


def run_failed_line(log: str) -> str | None:
    """What the crawl command logged as the reasons the run failed (its failures joined by "; ")."""
    line = re.search(r"Run failed: (.*)", log)
    return line[1] if line else None


@pytest.fixture(scope="module")
def site_url():
    with served(SAMPLE_SITE) as url:
        yield url


@pytest.fixture(scope="module")
def first_and_rerun(site_url, tmp_path_factory):
    state = tmp_path_factory.mktemp("runs")
    first = crawl(site_url, state)
    first_report = newest_report(state)
    rerun = crawl(site_url, state, "-s", "WIRECRAWLER_REPORTS_KEPT=1")
    return state, (first, first_report), (rerun, newest_report(state))


def test_the_reports_counts_equal_the_feed_files(first_and_rerun):
    _, (run, (name, report)), _ = first_and_rerun
    assert run.returncode == report["exit_status"] == 0, run.log[-3000:]
    published = run.files["lead"] + run.files["brief"]
    assert name == f"{published[0].stem}.json"  # named like the run's feed files
    assert {(f["uri"], f["records"], f["published"]) for f in report["feeds"]} == {
        (str(path), len(read_jsonl(path)), True) for path in published
    }
    records = run.records()
    for kind in ("lead", "brief"):
        mine = [r for r in records if r["kind"] == kind]
        # A first run on an empty seen store: everything parsed is new.
        assert report["records"][kind]["new"] == report["records"][kind]["parsed"] == len(mine)
        filled = report["records"][kind]["filled"]
        assert filled == {name: sum(bool(r[name]) for r in mine) for name in filled}
        assert set(filled) == {"places", "agencies", "text", "published_at"}
    assert report["pages"]["listing"] == 3
    assert report["pages"]["article"] == report["records"]["lead"]["parsed"]  # each article page gave its lead
    assert list(report["requests"]["responses"]) == ["200"] and report["requests"]["failed"] == 0
    assert report["failures"] == [] and all(m["passed"] for m in report["monitors"])
    assert report["run_start"] <= report["run_end"]
    assert f"Run report {run.feed_dir / 'reports' / name} written (exit status 0)" in run.log


def test_a_rerun_with_nothing_new_reports_what_it_parsed_and_keeps_a_bounded_history(first_and_rerun):
    state, (_, (first_name, _)), (rerun, (name, report)) = first_and_rerun
    assert rerun.returncode == report["exit_status"] == 0, rerun.log[-3000:]
    assert rerun.files == {"lead": [], "brief": []} and report["feeds"] == []
    briefs = report["records"]["brief"]
    assert briefs["parsed"] > 0 and briefs["new"] == 0
    assert report["dropped"] == {"seen_before": briefs["parsed"]}
    # WIRECRAWLER_REPORTS_KEPT=1: the first run's report made way for this one.
    assert name != first_name
    assert [p.name for p in (state / "feeds" / "reports").iterdir()] == [name]


def test_a_failed_run_reports_the_exit_status_and_failures_it_exited_with(tmp_path):
    with served(SAMPLE_SITE) as url:
        pass  # the port is now closed
    run = crawl(url, tmp_path, "-s", "RETRY_TIMES=0")
    _, report = newest_report(tmp_path)
    assert run.returncode == report["exit_status"] == 1
    assert "; ".join(report["failures"]) == run_failed_line(run.log)
    assert "1 requests failed" in report["failures"]
    assert report["crawl_succeeded"] is False and report["feeds"] == []


def test_a_report_that_cannot_be_written_fails_the_run(site_url, tmp_path):
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "reports").write_text("a file where the reports directory belongs")
    run = crawl(site_url, tmp_path)
    assert run.returncode == 1
    assert re.search(r"Run report could not be written in .*/feeds/reports: ", run.log)
    assert run_failed_line(run.log) == "the run report could not be written"
    assert run.files["lead"] and run.files["brief"]  # the feeds themselves were published
