"""End-of-run monitors in whole runs: ``scrapy crawl`` against the local sample site."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from tests.crawling import crawl
from testsites import sample as sitegen
from wirecrawler.local.server import served
from wirecrawler.portal import selectors
from wirecrawler.portal.timeline import utc_iso
from wirecrawler.store.feednames import run_stamp


def report_of(run, state) -> dict:
    """The report of *run*: named like its feed files, or the newest one when it published none."""
    reports = state / "feeds" / "reports"
    published = run.files["lead"] + run.files["brief"]
    path = reports / f"{published[0].stem}.json" if published else sorted(reports.glob("*.json"))[-1]
    return json.loads(path.read_text(encoding="utf-8"))


def monitor_lines(log: str) -> dict[str, tuple[str, str]]:
    """Each monitor's log line: name -> (passed or failed, message)."""
    found = re.findall(r"Monitor (\w+) (passed|failed): (.*)", log)
    return {name: (outcome, message) for name, outcome, message in found}


def move_back(state, hours: int) -> None:
    """The schedule stopped for *hours*: every earlier run moved back by as much."""
    for path in sorted((state / "feeds" / "reports").glob("*.json")):
        previous = json.loads(path.read_text(encoding="utf-8"))
        ended = datetime.fromisoformat(previous["run_end"]) - timedelta(hours=hours)
        started = datetime.fromisoformat(previous["run_start"]) - timedelta(hours=hours)
        previous.update(run_start=utc_iso(started), run_end=utc_iso(ended))
        path.unlink()
        (path.parent / f"{run_stamp(started)}.json").write_text(json.dumps(previous), encoding="utf-8")


def test_a_normal_run_passes_its_monitors_and_a_run_after_a_long_gap_reports_it_as_a_warning(site_url, tmp_path):
    """After a paused schedule (or a machine that was off) the first run did its work: it says the
    gap, in its monitor line and its report, and succeeds."""
    state = tmp_path / "state"
    first = crawl(site_url, state)
    assert first.returncode == 0, first.log[-3000:]
    lines = monitor_lines(first.log)
    assert list(lines) == ["listing_rows", "article_pages", "fields_filled", "records_parsed", "requests", "run_gap"]
    assert all(outcome == "passed" for outcome, _ in lines.values()), lines
    assert lines["run_gap"][1] == "no earlier successful run of this crawl on record"
    assert "Run succeeded" in first.log

    move_back(state, hours=5)
    late = crawl(site_url, state)
    assert late.returncode == 0, late.log[-3000:]
    gap_line = re.search(
        r"\] WARNING: Monitor run_gap passed: (5 h[\w ]*) since the previous successful run ended \(maximum 1 h\): "
        r"were runs missed\? \(a warning; WIRECRAWLER_FAIL_ON_RUN_GAP=1 fails the run on it\)",
        late.log,
    )
    assert gap_line, late.log[-3000:]
    assert late.log.rstrip().splitlines()[-1].endswith("Run succeeded")
    [gap] = [m for m in report_of(late, state)["monitors"] if m["name"] == "run_gap"]
    assert (gap["passed"], gap["warning"]) == (True, True) and gap["message"].startswith(gap_line[1])


def test_with_fail_on_run_gap_a_long_gap_fails_one_run_and_with_no_maximum_it_is_not_judged(site_url, tmp_path):
    state = tmp_path / "state"
    assert crawl(site_url, state).returncode == 0
    move_back(state, hours=5)
    late = crawl(site_url, state, "-s", "WIRECRAWLER_FAIL_ON_RUN_GAP=1")
    assert late.returncode == 1
    assert re.search(r"Monitor run_gap failed: 5 h[\w ]* since the previous successful run ended", late.log)
    assert re.search(r"Run failed: monitor run_gap: 5 h", late.log)
    report = report_of(late, state)
    assert report["exit_status"] == 1
    assert [m["name"] for m in report["monitors"] if not m["passed"]] == ["run_gap"]
    assert report["crawl_succeeded"] is True  # it did its work: the next gap counts from it

    after = crawl(site_url, state, "-s", "WIRECRAWLER_FAIL_ON_RUN_GAP=1")
    assert after.returncode == 0, after.log[-3000:]
    assert monitor_lines(after.log)["run_gap"][0] == "passed"

    move_back(state, hours=5)
    unchecked = crawl(site_url, state, "-s", "WIRECRAWLER_FAIL_ON_RUN_GAP=1", "-s", "WIRECRAWLER_MAX_RUN_GAP_MINUTES=0")
    assert unchecked.returncode == 0, unchecked.log[-3000:]
    assert re.search(
        r"\] INFO: Monitor run_gap passed: 5 h[\w ]* since the previous successful run ended "
        r"\(not checked: WIRECRAWLER_MAX_RUN_GAP_MINUTES=0\)",
        unchecked.log,
    )


def test_changed_listing_markup_fails_with_a_message_naming_the_missing_part(tmp_path):
    drifted = tmp_path / "drifted"
    sitegen.generate(drifted, variant="renamed-classes")
    with served(drifted) as url:
        run = crawl(url, tmp_path / "state")
    assert run.returncode == 1
    missing = f"listing rows (selector {selectors.LISTING_ROWS}) matched nothing on 1 of 1 listing pages"
    assert f"Monitor listing_rows failed: {missing}" in run.log
    assert f"monitor listing_rows: {missing}" in re.search(r"Run failed: .*", run.log)[0]
    assert "Monitor records_parsed failed: 0 records parsed" in run.log
    report = report_of(run, tmp_path / "state")
    assert report["exit_status"] == 1 and report["crawl_succeeded"] is False
    assert {m["name"] for m in report["monitors"] if not m["passed"]} == {"listing_rows", "records_parsed"}
