"""Watching runs, end to end: the metrics and the status page of real crawls, read by the real tools.

One history of ``scrapy crawl`` runs against a served copy of the sample site, regenerated
between runs (``tests.watching.HISTORY``: new stories, nothing new, the layout changed under
the crawler twice, fixed). Its metrics files go through Debian's ``promtool check metrics``
and a real ``prometheus-node-exporter`` (textfile collector only, on 127.0.0.1); its status
page is opened from disk in Debian's Chromium. The example alert rules go through ``promtool
test rules``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.crawling import ROOT
from tests.watching import HISTORY, PROMTOOL, chromium_page, crawl_history, installed, node_exporter, scrape
from wirecrawler.portal.timeline import parse_iso
from wirecrawler.runs.history import load_reports
from wirecrawler.runs.metrics import exposition, file_names, run_families, write_run_metrics

RUN_FILE, SUCCESS_FILE = file_names("buitenland")
RULES = ROOT / "deploy" / "wirecrawler.rules.yml"
RULE_TESTS = ROOT / "deploy" / "wirecrawler.rules.test.yml"


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    return crawl_history(tmp_path_factory.mktemp("watching"))


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def series(text: str) -> list[tuple[str, frozenset]]:
    return [(s.name, frozenset(s.labels.items())) for f in text_string_to_metric_families(text) for s in f.samples]


def one(found: dict, name: str, **labels) -> float:
    return found[(name, frozenset({"spider": "buitenland", **labels}.items()))]


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([installed(PROMTOOL), *args], input=stdin, capture_output=True, text=True, timeout=60)


# --- The runs


def test_the_history_ran_as_planned_each_log_ending_with_its_verdict(history):
    assert [run.returncode for run in history.runs] == [0 if outcome == "ok" else 1 for _, outcome in HISTORY]
    for run in history.runs:
        lines = [line for line in run.log.splitlines() if re.match(r"\d{4}-\d\d-\d\dT\S+ \[", line)]
        verdict = "Run succeeded" if run.returncode == 0 else "Run failed: "
        assert verdict in lines[-1], lines[-3:]  # nothing logged after the verdict line
        ours = [line for line in lines if re.search(r" \[wirecrawler\.(metrics|statuspage)\] ", line)]
        assert len(ours) == 2, ours  # and nothing but these two lines (no warning)
        assert f"INFO: Run metrics written: {history.metrics_dir / RUN_FILE}" in ours[0]
        assert f"INFO: Status page {history.page} written (" in ours[1]
        assert lines.index(ours[1]) < len(lines) - 1


# --- The metrics files


def test_promtool_check_metrics_accepts_every_file_every_run_wrote(history):
    checked = 0
    for after in history.metrics_after:
        for name, text in after.items():
            done = promtool("check", "metrics", stdin=text)
            assert done.returncode == 0 and done.stdout == done.stderr == "", (name, done.stdout, done.stderr)
            checked += 1
    assert checked == 2 * len(HISTORY)  # the success file stays (written by the runs that succeeded)


def test_promtool_check_metrics_can_fail():
    done = promtool("check", "metrics", stdin="# TYPE wirecrawler_retries gauge\nwirecrawler_retries{spider=\"b\" 1\n")
    assert done.returncode != 0


def test_no_series_twice_in_a_file_or_across_the_files(history):
    """promtool check metrics lets a duplicate series through: counted here, every run."""
    for after in history.metrics_after:
        keys = [key for text in after.values() for key in series(text)]
        assert keys and [key for key, count in Counter(keys).items() if count > 1] == []


def test_the_metrics_say_what_each_runs_report_says(history):
    reports = load_reports(history.reports_dir)
    assert len(reports) == len(HISTORY)
    for report, after in zip(reports, history.metrics_after, strict=True):
        found = samples(after[RUN_FILE])
        assert one(found, "wirecrawler_run_start_timestamp_seconds") == parse_iso(report["run_start"]).timestamp()
        assert one(found, "wirecrawler_run_success") == (report["exit_status"] == 0)
        assert one(found, "wirecrawler_run_exit_status") == report["exit_status"]
        for kind in ("lead", "brief"):
            assert one(found, "wirecrawler_records_new", kind=kind) == report["records"][kind]["new"]
            assert one(found, "wirecrawler_records_parsed", kind=kind) == report["records"][kind]["parsed"]
        assert one(found, "wirecrawler_pages", kind="listing") == report["pages"]["listing"]
        assert one(found, "wirecrawler_feed_files_published") == len(report["feeds"])
        for monitor in report["monitors"]:
            assert one(found, "wirecrawler_monitor_passed", monitor=monitor["name"]) == monitor["passed"]
        assert found == samples(exposition(run_families(report)).decode())  # as the module makes them from the report


def test_the_last_success_is_written_by_successful_runs_only(history):
    reports = load_reports(history.reports_dir)
    last_ok = None
    for (_, outcome), report, after in zip(HISTORY, reports, history.metrics_after, strict=True):
        if outcome == "ok":
            last_ok = parse_iso(report["run_end"]).timestamp()
        found = samples(after[SUCCESS_FILE])
        assert found == {("wirecrawler_last_success_timestamp_seconds", frozenset({"spider": "buitenland"}.items())): last_ok}
    failed = [i for i, (_, outcome) in enumerate(HISTORY) if outcome == "failed"]
    assert failed and all(history.metrics_after[i][SUCCESS_FILE] == history.metrics_after[failed[0] - 1][SUCCESS_FILE] for i in failed)
    drift = samples(history.metrics_after[failed[0]][RUN_FILE])
    assert one(drift, "wirecrawler_monitor_passed", monitor="listing_rows") == 0  # what WirecrawlerLayoutDrift watches


def test_node_exporter_serves_the_metrics_with_no_scrape_error(history, tmp_path):
    folder = tmp_path / "textfile"
    shutil.copytree(history.metrics_dir, folder)
    # A second job's files beside them (another spider): the same metrics, other series.
    report = load_reports(history.reports_dir)[-1]
    write_run_metrics(folder, {**report, "job": {"spider": "binnenland", "start_url": "https://example.org/b"}})
    log = tmp_path / "node_exporter.log"
    with node_exporter(folder, log) as url:
        scrape(url)
        text = scrape(url)  # the second scrape counts the errors of the first
    found = samples(text)
    assert found[("node_textfile_scrape_error", frozenset())] == 0
    assert found[("promhttp_metric_handler_errors_total", frozenset({"cause": "gathering"}.items()))] == 0
    assert "level=error" not in log.read_text()  # no gathering error, no file it could not read
    assert found[("node_scrape_collector_success", frozenset({"collector": "textfile"}.items()))] == 1
    mtimes = {dict(labels)["file"] for name, labels in found if name == "node_textfile_mtime_seconds"}
    assert {Path(f).name for f in mtimes} == {*file_names("buitenland"), *file_names("binnenland")}
    served = {key: value for key, value in found.items() if key[0].startswith("wirecrawler_")}
    written = {}
    for path in folder.iterdir():
        written.update(samples(path.read_text()))
    assert served == written  # every series of every file, as written


def test_node_exporter_reports_a_duplicate_series_so_the_checks_above_can_fail(history, tmp_path):
    """A series in two files is no textfile scrape error: node_exporter serves one of them,
    counts a gathering error and logs it. So the tests above count the series themselves."""
    folder = tmp_path / "textfile"
    folder.mkdir()
    run = (history.metrics_dir / RUN_FILE).read_text()
    (folder / RUN_FILE).write_text(run)
    (folder / "copy.prom").write_text(run)  # every series twice
    log = tmp_path / "node_exporter.log"
    with node_exporter(folder, log) as url:
        scrape(url)
        found = samples(scrape(url))
    assert found[("node_textfile_scrape_error", frozenset())] == 0  # not where it shows
    assert found[("promhttp_metric_handler_errors_total", frozenset({"cause": "gathering"}.items()))] >= 1
    assert "was collected before with the same name and label values" in log.read_text()


# --- The alert rules


def test_the_alert_rules_are_valid_and_pass_their_tests():
    done = promtool("check", "rules", str(RULES))
    assert done.returncode == 0 and "SUCCESS: 5 rules found" in done.stdout, done.stdout + done.stderr
    done = promtool("test", "rules", str(RULE_TESTS))
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("old", "new", "failing"),
    [
        ("> 30 * 60\n          or", "> 40 * 60\n          or", "WirecrawlerNoSuccessfulRun"),
        ("for: 25m", "for: 15m", "WirecrawlerRunsFailing"),
        ('-run[.]prom"}', '[.]prom"}', "WirecrawlerMetricsStale"),  # the success file, old when runs fail
        ("listing_rows|article_pages|fields_filled", "article_pages|fields_filled", "WirecrawlerLayoutDrift"),
        ('[30m])', '[10m])', "WirecrawlerNoSuccessfulRun"),
    ],
)
def test_the_rule_tests_catch_a_changed_rule(tmp_path, old, new, failing):
    rules = RULES.read_text()
    assert rules.count(old) == 1
    (tmp_path / RULES.name).write_text(rules.replace(old, new))
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    done = promtool("test", "rules", str(tmp_path / RULE_TESTS.name))
    assert done.returncode != 0 and f"alertname: {failing}" in done.stdout + done.stderr, done.stdout + done.stderr


# --- The status page in Chromium


@pytest.fixture(scope="module")
def page_in_chromium(history, tmp_path_factory):
    """The status page opened from disk: what the browser shows, what it requested, and a screenshot."""
    shot = tmp_path_factory.mktemp("status-page") / "status-page.png"
    requested, console = [], []
    with chromium_page() as page:
        page.on("request", lambda request: requested.append(request.url))
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.goto(history.page.as_uri())
        shown = page.evaluate(
            """() => ({
            rows: [...document.querySelectorAll('tr.run')].map(row => ({
                start: row.dataset.runStart,
                exit: Number(row.dataset.exitStatus),
                cls: row.className,
                verdict: row.querySelector('td.verdict').innerText,
                newLead: Number(row.querySelector('td.new-lead').innerText),
                newBrief: Number(row.querySelector('td.new-brief').innerText),
                background: getComputedStyle(row.querySelector('td')).backgroundColor,
                verdictColor: getComputedStyle(row.querySelector('td.verdict')).color,
                failedMonitors: [...row.querySelectorAll('.monitor-failed')].map(e => e.innerText),
                monitorBackground: [...row.querySelectorAll('.monitor-failed')].map(e => getComputedStyle(e).backgroundColor),
                links: [...row.querySelectorAll('td.feeds a')].map(a => a.href),
            })),
            failures: Object.fromEntries([...document.querySelectorAll('tr.failures')].map(row =>
                [row.dataset.runStart, [...row.querySelectorAll('li')].map(li => li.innerText)])),
            plots: [...document.querySelectorAll('svg.plot')].map(svg => {
                const box = svg.getBoundingClientRect();
                const series = {};
                for (const point of svg.querySelectorAll('circle.point')) {
                    const b = point.getBoundingClientRect();
                    (series[point.dataset.series] ||= []).push({
                        run: point.dataset.run, failed: point.classList.contains('failed'),
                        visible: b.width > 0 && b.height > 0 && b.left >= box.left && b.right <= box.right + 0.5
                            && b.top >= box.top && b.bottom <= box.bottom + 0.5,
                    });
                }
                return {id: svg.id, width: box.width, height: box.height, series,
                        failedMarks: svg.querySelectorAll('.failed-run').length};
            }),
            banner: document.querySelector('#latest').className,
        })"""
        )
        page.screenshot(path=str(shot), full_page=True)
    return shown, requested, console, shot


def test_the_page_shows_one_row_per_report_newest_first_equal_to_the_reports(history, page_in_chromium):
    shown, *_ = page_in_chromium
    reports = load_reports(history.reports_dir)[::-1]
    assert [(row["start"], row["exit"]) for row in shown["rows"]] == [(r["run_start"], r["exit_status"]) for r in reports]
    for row, report in zip(shown["rows"], reports, strict=True):
        assert (row["newLead"], row["newBrief"]) == (report["records"]["lead"]["new"], report["records"]["brief"]["new"])
        failed = [m["name"] for m in report["monitors"] if not m["passed"]]
        assert row["failedMonitors"] == [f"✗ {name}" for name in failed]
        if report["exit_status"]:
            assert shown["failures"][report["run_start"]] == report["failures"]
        else:
            assert report["run_start"] not in shown["failures"]
        # the feed files, linked relative to the page, are there to open
        linked = [Path(link.removeprefix("file://")) for link in row["links"]]
        assert linked == [Path(feed["uri"]) for feed in report["feeds"]] and all(p.is_file() for p in linked)


def test_a_failed_run_is_visibly_marked(page_in_chromium):
    shown, *_ = page_in_chromium
    ok = [row for row in shown["rows"] if row["exit"] == 0]
    failed = [row for row in shown["rows"] if row["exit"] != 0]
    assert len(failed) == sum(outcome == "failed" for _, outcome in HISTORY) and ok
    for row in failed:
        assert row["cls"] == "run failed" and row["verdict"].startswith("FAILED")
        red, green, blue = map(int, re.findall(r"\d+", row["background"])[:3])
        assert red > green + 10 and red > blue + 10  # a reddish row
        assert row["background"] != ok[0]["background"] and row["verdictColor"] != ok[0]["verdictColor"]
        assert row["failedMonitors"] and all(bg == "rgb(198, 40, 40)" for bg in row["monitorBackground"])
    assert all(row["background"] in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)") for row in ok)


def test_the_plots_are_there_with_one_point_per_run(history, page_in_chromium):
    shown, *_ = page_in_chromium
    starts = [r["run_start"] for r in load_reports(history.reports_dir)]
    failed = {start for start, (_, outcome) in zip(starts, HISTORY, strict=True) if outcome == "failed"}
    assert [plot["id"] for plot in shown["plots"]] == ["plot-records", "plot-duration"]
    for plot in shown["plots"]:
        assert plot["width"] > 300 and plot["height"] > 80
        assert plot["series"], plot["id"]
        for points in plot["series"].values():
            assert [p["run"] for p in points] == starts
            assert all(p["visible"] for p in points)
            assert {p["run"] for p in points if p["failed"]} == failed
        assert plot["failedMarks"] == len(failed)
    assert sorted(shown["plots"][0]["series"]) == ["new-brief", "new-lead", "parsed"]


def test_the_page_works_from_disk_fetching_nothing(history, page_in_chromium):
    shown, requested, console, _ = page_in_chromium
    assert requested == [history.page.as_uri()]
    assert console == []  # no CSP violation, no error
    assert shown["banner"] == "banner ok"  # the last run of the history succeeded


def test_a_screenshot_of_the_page_is_kept(page_in_chromium, record_property):
    *_, shot = page_in_chromium
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    record_property("status_page_screenshot", str(shot))
    print(f"status page screenshot: {shot}")


def test_the_page_is_rewritten_by_each_run_from_the_reports_on_disk(history):
    html = history.page.read_text()
    for report in load_reports(history.reports_dir):
        assert f'data-run-start="{report["run_start"]}"' in html
    assert json.loads((sorted(history.reports_dir.glob("*.json"))[-1]).read_text())["exit_status"] == 0
