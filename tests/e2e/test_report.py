"""Run reports in whole runs: the report every ``scrapy crawl`` run writes."""

from __future__ import annotations

import json
import re

import pytest

from tests.crawling import SAMPLE_SITE, crawl, read_jsonl
from wirecrawler.local.server import served


def newest_report(state) -> tuple[str, dict]:
    path = sorted((state / "feeds" / "reports").glob("*.json"))[-1]
    return path.name, json.loads(path.read_text(encoding="utf-8"))


def run_failed_line(log: str) -> str | None:
    """What the crawl command logged as the reasons the run failed (its failures joined by "; ")."""
    line = re.search(r"Run failed: (.*)", log)
    return line[1] if line else None


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
    assert [p.name for p in (state / "feeds" / "reports").glob("*.json")] == [name]  # (beside the status page)


def test_a_failed_run_reports_the_exit_status_and_failures_it_exited_with(tmp_path):
    with served(SAMPLE_SITE) as url:
        pass  # the port is now closed
    run = crawl(url, tmp_path, "-s", "RETRY_TIMES=0")
    _, report = newest_report(tmp_path)
    assert run.returncode == report["exit_status"] == 1
    assert "; ".join(report["failures"]) == run_failed_line(run.log)
    assert report["failures"][0].startswith(f"1 request failed ({url}/nieuws/buitenland: connection refused by ")
    assert report["requests"]["first_failed"] == report["failures"][0][len("1 request failed (") : -1]
    assert report["crawl_succeeded"] is False and report["feeds"] == []


def test_a_reports_folder_the_run_could_not_write_to_is_refused_before_the_run(site_url, tmp_path):
    """A report that cannot be written would fail the run after it published (a disk failing
    mid-run still does: tests/component/test_watching.py); a reports folder that cannot be
    used at all is found by the preflight, before anything is fetched or published."""
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "reports").write_text("a file where the reports directory belongs")
    run = crawl(site_url, tmp_path)
    assert run.returncode == 78
    assert run_failed_line(run.log) == (
        f"Configuration: WIRECRAWLER_FEED_DIR={tmp_path}/feeds: the reports folder {tmp_path}/feeds/reports"
        " is a file, not a folder: set it to a writable folder"
    )
    assert run.files == {"lead": [], "brief": []}
