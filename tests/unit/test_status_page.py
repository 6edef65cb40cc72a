"""The status page (``wirecrawler.runs.statuspage``) as HTML, from reports ``build_report`` made.

The page as Chromium shows it, made by real crawls, is tested in ``tests/e2e/test_watching.py``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from scrapy.settings import Settings

from tests.sample_reports import JOB, START, history, sample_report
from wirecrawler.runs.history import write_report
from wirecrawler.runs.statuspage import (
    PAGE_NAME,
    StatusPageConfig,
    nice_ceiling,
    render_page,
    shown_duration,
    write_status_page,
)

WRITTEN = datetime(2026, 11, 24, 11, 0, 0, tzinfo=UTC)
FEEDS = Path("/srv/feeds")
PAGE_DIR = FEEDS / "reports"


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes, and the page's text by element id."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def with_class(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]


def page(reports, keep=50, exists=lambda path: True) -> str:
    return render_page(reports, page_dir=PAGE_DIR, written=WRITTEN, keep=keep, exists=exists)


def test_one_row_per_report_newest_first():
    reports = history(6)
    rows = Elements(page(reports)).with_class("tr", "run")
    assert [row["data-run-start"] for row in rows] == [r["run_start"] for r in reversed(reports)]
    assert [int(row["data-exit-status"]) for row in rows] == [r["exit_status"] for r in reversed(reports)]


def test_at_most_the_reports_kept_are_shown():
    reports = history(6)
    rows = Elements(page(reports, keep=4)).with_class("tr", "run")
    assert [row["data-run-start"] for row in rows] == [r["run_start"] for r in reversed(reports[-4:])]


def test_a_failed_run_is_marked_with_its_failures_and_failed_monitors():
    reports = history(3, failed_at=(1,))
    html = page(reports)
    rows = Elements(html).with_class("tr", "run")
    assert [row["class"] for row in rows] == ["run ok", "run failed", "run ok"]
    failed = reports[1]
    # its failures, each one, in the row after it, the monitors' ones highlighted
    block = re.search(rf'<tr class="failures" data-run-start="{failed["run_start"]}">(.*?)</tr>', html, re.S)[1]
    assert re.findall(r"<li class=\"(\w+)\">(.*?)</li>", block) == [
        ("monitor" if f.startswith("monitor ") else "cause", f.replace("'", "&#x27;").replace(">", "&gt;"))
        for f in failed["failures"]
    ]
    chips = re.findall(r'<span class="monitor-failed" title="[^"]*">✗ (\w+)</span>', html)
    assert chips == [m["name"] for m in failed["monitors"] if not m["passed"]]
    assert "FAILED (exit 1)" in html
    assert html.count('class="failures"') == 1  # successful runs have no failures row


def test_the_banner_tells_the_latest_outcome_and_the_last_success():
    reports = history(5, failed_at=(3, 4))
    banner = re.search(r'<p class="banner (\w+)" id="latest">(.*?)</p>', page(reports), re.S)
    assert banner[1] == "failed" and "FAILED" in banner[2]
    assert f'The last successful run ended <time datetime="{reports[2]["run_end"]}">' in banner[2]
    banner = re.search(r'<p class="banner (\w+)" id="latest">', page(history(3, failed_at=())))
    assert banner[1] == "ok"


def test_each_plot_has_one_point_per_run_in_each_series_and_marks_the_failed_runs():
    reports = history(7, failed_at=(2, 5))
    elements = Elements(page(reports))
    svgs = [a["id"] for t, a in elements.tags if t == "svg"]
    assert svgs == ["plot-records", "plot-duration"]
    points = elements.with_class("circle", "point")
    by_series = {}
    for point in points:
        by_series.setdefault(point["data-series"], []).append(point)
    assert sorted(by_series) == ["duration", "new-brief", "new-lead", "parsed"]
    starts = [r["run_start"] for r in reports]
    for series, drawn in by_series.items():
        assert [p["data-run"] for p in drawn] == starts, series  # one point per run, oldest first
    assert [float(p["data-value"]) for p in by_series["new-lead"]] == [r["records"]["lead"]["new"] for r in reports]
    assert [float(p["data-value"]) for p in by_series["duration"]] == [30 + 3 * i for i in range(7)]
    failed = {p["data-run"] for p in points if "failed" in p["class"].split()}
    assert failed == {starts[2], starts[5]}
    assert [a["data-run"] for a in elements.with_class("line", "failed-run")] == [starts[2], starts[5]] * 2
    # x follows the start times: later runs further right
    xs = [float(p["cx"]) for p in by_series["duration"]]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)


def test_feed_files_are_linked_relative_to_the_page_unless_gone():
    reports = history(2, failed_at=(), feed_dir=FEEDS)
    gone = Path(reports[0]["feeds"][0]["uri"])
    html = page(reports, exists=lambda path: path != gone)
    links = [a["href"] for t, a in Elements(html).tags if t == "a"]
    expected = [f"../{Path(f['uri']).parent.name}/{Path(f['uri']).name}" for r in reversed(reports) for f in r["feeds"]]
    assert links == [href for href in expected if not href.endswith(f"/{gone.parent.name}/{gone.name}")]
    assert (PAGE_DIR / links[0]).resolve() == Path(reports[1]["feeds"][0]["uri"])
    assert f'<span class="pruned" title="no longer on disk">briefs/{gone.name}</span>' in html


def test_a_feed_uri_with_a_scheme_or_odd_characters():
    report = sample_report()
    report["feeds"] = [
        {"uri": "file:///srv/feeds/leads/a%20b.jsonl", "records": 1, "published": True},
        {"uri": "s3://bucket/out.jsonl", "records": 2, "published": False},
        {"uri": "/srv/out dir/x#1.jsonl", "records": 3, "published": False},
    ]
    links = [a["href"] for t, a in Elements(page([report])).tags if t == "a"]
    assert links == ["../leads/a%20b.jsonl", "../../out%20dir/x%231.jsonl"]  # s3: shown, not linked


def test_everything_is_inline_nothing_is_fetched_and_text_is_escaped():
    report = sample_report(failed=True)
    report["failures"].append('<script>alert("x")</script>')
    html = page([report])
    tags = Elements(html).tags
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object", "embed")]
    assert [a for t, a in tags if t == "link"] == [{"rel": "icon", "href": "data:,"}]
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    csp = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no URL of another place


def test_an_empty_history_still_makes_a_page():
    html = page([])
    assert "No run reports yet." in html and "no runs on record" in html
    assert Elements(html).with_class("tr", "run") == []


def test_runs_of_several_jobs_get_a_job_column():
    other = {"spider": "buitenland", "start_url": "http://127.0.0.1:8000/nieuws/buitenland"}
    reports = [sample_report(), sample_report(start=START + timedelta(minutes=1), job=other)]
    html = page(reports)
    assert "<th>Job</th>" in html
    assert [a["class"] for t, a in Elements(html).tags if t == "td" and a.get("class") == "job"] == ["job"] * 2
    assert "<th>Job</th>" not in page(reports[:1])
    assert f"Job: buitenland — {JOB['start_url']}" in page(reports[:1])


def test_write_status_page_reads_the_reports_beside_it(tmp_path):
    reports_dir = tmp_path / "reports"
    for report in history(4):
        write_report(reports_dir / f"{report['run_start'].replace(':', '-')}.json", report)
    (reports_dir / "2026-11-24T09-00-00Z.json").write_text("{torn")  # left out, as the history does
    path, shown = write_status_page(reports_dir, keep=3, written=WRITTEN)
    assert (path, shown) == (reports_dir / PAGE_NAME, 3)
    assert len(Elements(path.read_text()).with_class("tr", "run")) == 3
    assert sorted(p.name for p in reports_dir.iterdir() if not p.name.endswith(".json")) == [PAGE_NAME]


@pytest.mark.parametrize(("raw", "enabled"), [(None, True), ("1", True), ("0", False), ("false", False), ("True", True)])
def test_the_page_setting(raw, enabled):
    settings = Settings({} if raw is None else {"WIRECRAWLER_STATUS_PAGE": raw})
    assert StatusPageConfig.from_settings(settings).enabled is enabled


def test_a_bad_page_setting_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^WIRECRAWLER_STATUS_PAGE=ja: the status page is switched with 1 \(on\) or 0 \(off\)"):
        StatusPageConfig.from_settings(Settings({"WIRECRAWLER_STATUS_PAGE": "ja"}))


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (0.3, 0.5), (1, 1), (7, 10), (59, 100), (101, 200), (4000, 5000)])
def test_nice_ceiling(value, ceiling):
    assert nice_ceiling(value) == ceiling


@pytest.mark.parametrize(("seconds", "shown"), [(0, "0 s"), (41, "41 s"), (125, "2 min 05 s"), (3720, "1 h 02 min")])
def test_shown_duration(seconds, shown):
    assert shown_duration(seconds) == shown
