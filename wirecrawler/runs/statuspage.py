"""The status page: one static HTML file beside the run reports, for people to look at.

Plain Python with no Scrapy import. ``<feed dir>/reports/index.html`` is made from the run
reports in that folder (``wirecrawler.runs.history.load_reports``), newest run first, at most
the reports kept: the latest runs (start, duration, verdict, records parsed and new per kind,
monitors, feed files, and for a failed run its failures), plots of the records and of the
duration of each run, the failed monitors highlighted, the feed files linked relative to the
page. Everything is inline (CSS, SVG, no script) and a Content-Security-Policy forbids any
fetch, so the page works opened from disk, with no server and no network.
``wirecrawler.statuspage.StatusPage`` writes it after every run.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from wirecrawler.portal.timeline import parse_iso, utc_iso
from wirecrawler.runs.checks import KINDS
from wirecrawler.runs.history import load_reports
from wirecrawler.settingvalues import SettingsReader, read_strictly
from wirecrawler.store.atomicfile import replace_whole

PAGE_NAME = "index.html"
SETTING = "WIRECRAWLER_STATUS_PAGE"
REFRESH_SECONDS = 300  # a page left open in a browser shows the new runs


@dataclass(frozen=True)
class StatusPageConfig:
    enabled: bool = True  # <feed dir>/reports/index.html regenerated after every run

    @classmethod
    def from_settings(cls, settings) -> StatusPageConfig:
        """From Scrapy settings: ``WIRECRAWLER_STATUS_PAGE``, 1 (on) or 0 (off).

        Raises ``SettingError`` for a value it cannot use."""
        return read_strictly(settings, cls.read)

    @classmethod
    def read(cls, reader: SettingsReader) -> StatusPageConfig:
        """As ``from_settings``; a bad value is recorded in *reader* and its default used."""
        return cls(enabled=reader.boolean(SETTING, cls.enabled, "the status page"))


# --- What the page shows of one run.


@dataclass(frozen=True)
class FeedLink:
    label: str  # "leads/2026-11-24T10-00-00Z.jsonl"
    href: str | None  # relative to the page; None when the file is not there (pruned) or not a file
    records: int
    published: bool


@dataclass(frozen=True)
class RunRow:
    start: datetime
    end: datetime
    job: dict[str, str]
    exit_status: int
    failures: list[str]
    parsed: dict[str, int]
    new: dict[str, int]
    pages: dict[str, int]
    requests_failed: int
    retries: int
    monitors: list[dict[str, Any]]
    feeds: list[FeedLink]

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    @property
    def duration(self) -> float:
        return max(0.0, (self.end - self.start).total_seconds())

    @property
    def failed_monitors(self) -> list[dict[str, Any]]:
        return [m for m in self.monitors if not m.get("passed")]


def _feed_path(uri: str) -> Path | None:
    if uri.startswith("file://"):
        return Path(unquote(urlsplit(uri).path))
    if "://" in uri:
        return None
    path = Path(uri)
    return path if path.is_absolute() else None


def feed_link(feed: dict[str, Any], page_dir: Path, exists: Callable[[Path], bool]) -> FeedLink:
    """A feed file of a report, linked relative to the page when it is still there."""
    uri = str(feed.get("uri", ""))
    path = _feed_path(uri)
    label = "/".join(path.parts[-2:]) if path is not None else uri
    href = None
    if path is not None and exists(path):
        href = quote(Path(os.path.relpath(path, page_dir)).as_posix())
    return FeedLink(label, href, int(feed.get("records", 0)), bool(feed.get("published")))


def run_row(report: dict[str, Any], page_dir: Path, exists: Callable[[Path], bool]) -> RunRow:
    records = report.get("records", {})
    requests = report.get("requests", {})
    return RunRow(
        start=parse_iso(report["run_start"]),
        end=parse_iso(report["run_end"]),
        job=report.get("job", {}),
        exit_status=int(report.get("exit_status", 1)),
        failures=list(report.get("failures", [])),
        parsed={kind: int(records.get(kind, {}).get("parsed", 0)) for kind in KINDS},
        new={kind: int(records.get(kind, {}).get("new", 0)) for kind in KINDS},
        pages={kind: int(report.get("pages", {}).get(kind, 0)) for kind in ("listing", "article")},
        requests_failed=int(requests.get("failed", 0)),
        retries=int(requests.get("retries", 0)),
        monitors=list(report.get("monitors", [])),
        feeds=[feed_link(feed, page_dir, exists) for feed in report.get("feeds", [])],
    )


# --- Formatting.


def shown_time(instant: datetime) -> str:
    """ "2026-11-24 10:00:00" (UTC)."""
    return utc_iso(instant).replace("T", " ").removesuffix("Z")


def shown_duration(seconds: float) -> str:
    """ "41 s", "2 min 05 s", "1 h 02 min" (the reports' times are whole seconds)."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _time(instant: datetime) -> str:
    return f'<time datetime="{utc_iso(instant)}">{shown_time(instant)}</time>'


# --- Plots: inline SVG, one point per run and series, failed runs marked by a red line.

PLOT_WIDTH, PLOT_HEIGHT = 720, 220
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 52, 16, 14, 30


@dataclass(frozen=True)
class Series:
    key: str  # data-series of its points
    label: str
    color: str
    values: list[float]
    dashed: bool = False


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is at least *value* (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return 10.0 * power  # not reached


def _number(value: float) -> str:
    return f"{value:g}"


def svg_plot(plot_id: str, title: str, rows: list[RunRow], series: list[Series], unit: str) -> str:
    """A line plot of *series* over *rows* (oldest first), x by the runs' start times."""
    width = PLOT_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    height = PLOT_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    bottom = MARGIN_TOP + height
    top_value = nice_ceiling(max((v for s in series for v in s.values), default=0))
    times = [row.start.timestamp() for row in rows]
    first, last = (min(times), max(times)) if times else (0.0, 0.0)

    def x(index: int) -> float:
        if last == first:
            return MARGIN_LEFT + width / 2
        return MARGIN_LEFT + (times[index] - first) / (last - first) * width

    def y(value: float) -> float:
        return bottom - value / top_value * height

    parts = [
        f'<svg id="{plot_id}" class="plot" viewBox="0 0 {PLOT_WIDTH} {PLOT_HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for fraction in (0, 0.5, 1):
        value = top_value * fraction
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + width}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{_number(value)}</text>'
        )
    parts.append(
        f'<text class="unit" x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP - 3}" text-anchor="end">{escape(unit)}</text>'
    )
    for index, row in enumerate(rows):
        if not row.ok:
            parts.append(
                f'<line class="failed-run" data-run="{utc_iso(row.start)}" x1="{x(index):.1f}" x2="{x(index):.1f}" '
                f'y1="{MARGIN_TOP}" y2="{bottom}"><title>{shown_time(row.start)} UTC: run failed</title></line>'
            )
    if rows:
        labels = {0: "start", len(rows) - 1: "end"} if len(rows) > 1 else {0: "middle"}
        short = "%m-%d %H:%M" if last - first >= 600 else "%m-%d %H:%M:%S"
        for index, anchor in labels.items():
            parts.append(
                f'<text class="tick" x="{x(index):.1f}" y="{bottom + 18}" text-anchor="{anchor}">'
                f"{rows[index].start.strftime(short)} UTC</text>"
            )
    for line in series:
        points = [(x(i), y(v)) for i, v in enumerate(line.values)]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            dash = ' stroke-dasharray="5 4"' if line.dashed else ""
            parts.append(f'<polyline class="line" points="{path}" stroke="{line.color}"{dash}/>')
        for (px, py), value, row in zip(points, line.values, rows, strict=True):
            state = "ok" if row.ok else "failed"
            parts.append(
                f'<circle class="point {state}" data-series="{line.key}" data-run="{utc_iso(row.start)}" '
                f'data-value="{_number(value)}" cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{line.color}">'
                f"<title>{shown_time(row.start)} UTC: {_number(value)} {escape(line.label)}"
                f"{'' if row.ok else ' (run failed)'}</title></circle>"
            )
    if not rows:
        parts.append(
            f'<text class="empty" x="{MARGIN_LEFT + width / 2}" y="{MARGIN_TOP + height / 2}" '
            f'text-anchor="middle">no runs on record</text>'
        )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key{" dashed" if s.dashed else ""}" style="--c: {s.color}"></span>{escape(s.label)} ' for s in series
    )
    return (
        f'<figure class="plot-figure">{"".join(parts)}<figcaption><strong>{escape(title)}</strong> '
        f'{legend}<span class="key failed-key"></span>failed run</figcaption></figure>'
    )


# --- The page.

STYLE = """
:root { color-scheme: light; --ok: #1a7f37; --bad: #c62828; --bad-bg: #fdecea; --muted: #5f6368; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0 auto; padding: 16px 20px 40px; max-width: 1280px; color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 22px 0 8px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.banner { padding: 10px 14px; border-radius: 6px; margin: 8px 0; border-left: 6px solid var(--ok); background: #eaf6ec; }
.banner.failed { border-left-color: var(--bad); background: var(--bad-bg); }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; }
figure { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }
figcaption { font-size: 13px; color: var(--muted); }
figcaption strong { color: #1f2328; margin-right: 8px; }
svg.plot { width: 100%; height: auto; display: block; }
svg .grid { stroke: #e5e7eb; stroke-width: 1; }
svg .tick, svg .unit, svg .empty { font-size: 11px; fill: var(--muted); }
svg .line { fill: none; stroke-width: 2; }
svg .point.failed { stroke: var(--bad); stroke-width: 2; }
svg .failed-run { stroke: var(--bad); stroke-width: 6; stroke-opacity: .18; }
.key { display: inline-block; width: 14px; height: 3px; background: var(--c); vertical-align: middle; margin: 0 4px 0 8px; }
.key.dashed { background: repeating-linear-gradient(90deg, var(--c) 0 5px, transparent 5px 8px); }
.key.failed-key { width: 6px; height: 12px; background: var(--bad); opacity: .3; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.start, td.verdict, td.feeds { white-space: nowrap; }
tr.run.failed td { background: var(--bad-bg); }
tr.run.failed td.verdict { color: var(--bad); font-weight: 700; }
tr.run.ok td.verdict { color: var(--ok); }
tr.failures td { background: var(--bad-bg); border-bottom: 2px solid #f3c2bd; padding-top: 0; }
tr.failures ul { margin: 0; padding-left: 20px; }
tr.failures li.monitor { font-weight: 600; }
.monitor-failed { display: inline-block; background: var(--bad); color: #fff; border-radius: 4px;
                  padding: 0 6px; margin: 1px 2px; font-weight: 600; }
.monitors-ok { color: var(--ok); }
.feeds a, .feeds span { white-space: nowrap; }
.pruned { color: var(--muted); text-decoration: line-through; }
.job { color: var(--muted); font-size: 12px; }
"""


def _job_text(job: dict[str, str]) -> str:
    return f"{job.get('spider', '?')} — {job.get('start_url', '?')}"


def _feeds_cell(feeds: list[FeedLink]) -> str:
    if not feeds:
        return '<span class="none">none</span>'
    items = []
    for feed in feeds:
        note = f" ({feed.records})" + ("" if feed.published else ", not published")
        if feed.href is not None:
            items.append(f'<a href="{escape(feed.href)}">{escape(feed.label)}</a>{escape(note)}')
        else:
            items.append(f'<span class="pruned" title="no longer on disk">{escape(feed.label)}</span>{escape(note)}')
    return "<br>".join(items)


def _monitors_cell(row: RunRow) -> str:
    if not row.monitors:
        return '<span class="monitor-failed">did not run</span>' if not row.ok else "—"
    failed = row.failed_monitors
    if not failed:
        return f'<span class="monitors-ok">all {len(row.monitors)} passed</span>'
    return " ".join(
        f'<span class="monitor-failed" title="{escape(str(m.get("message", "")))}">✗ {escape(str(m["name"]))}</span>'
        for m in failed
    )


def _run_rows(row: RunRow, columns: int, with_job: bool) -> str:
    state = "ok" if row.ok else "failed"
    verdict = "succeeded" if row.ok else f"FAILED (exit {row.exit_status})"
    job = f'<td class="job">{escape(_job_text(row.job))}</td>' if with_job else ""
    cells = (
        f'<td class="start">{_time(row.start)}</td>'
        f"{job}"
        f'<td class="duration n" data-seconds="{row.duration:.3f}">{shown_duration(row.duration)}</td>'
        f'<td class="verdict">{verdict}</td>'
        + "".join(f'<td class="new-{kind} n">{row.new[kind]}</td>' for kind in KINDS)
        + "".join(f'<td class="parsed-{kind} n">{row.parsed[kind]}</td>' for kind in KINDS)
        + f'<td class="pages n">{row.pages["listing"]} / {row.pages["article"]}</td>'
        f'<td class="requests n">{row.requests_failed} / {row.retries}</td>'
        f'<td class="monitors">{_monitors_cell(row)}</td>'
        f'<td class="feeds">{_feeds_cell(row.feeds)}</td>'
    )
    html = (
        f'<tr class="run {state}" data-run-start="{utc_iso(row.start)}" data-exit-status="{row.exit_status}">'
        f"{cells}</tr>\n"
    )
    if row.failures:
        items = "".join(
            f'<li class="{"monitor" if failure.startswith("monitor ") else "cause"}">{escape(failure)}</li>'
            for failure in row.failures
        )
        html += (
            f'<tr class="failures" data-run-start="{utc_iso(row.start)}"><td colspan="{columns}">'
            f"<ul>{items}</ul></td></tr>\n"
        )
    return html


def render_page(
    reports: list[dict[str, Any]],
    *,
    page_dir: Path,
    written: datetime,
    keep: int,
    exists: Callable[[Path], bool] = Path.exists,
) -> str:
    """The page for *reports* (oldest first, as ``load_reports`` gives them): the newest *keep*."""
    rows = [run_row(report, page_dir, exists) for report in reports[-keep:]]
    newest_first = rows[::-1]
    jobs = {tuple(sorted(row.job.items())) for row in rows}
    with_job = len(jobs) > 1
    title = "wirecrawler runs"
    if len(jobs) == 1:
        title += f": {rows[0].job.get('spider', '?')}"

    if rows:
        latest = newest_first[0]
        successes = [row for row in newest_first if row.ok]
        last_ok = (
            f"the last successful run ended {_time(successes[0].end)} UTC"
            if successes
            else "no successful run on record"
        )
        if latest.ok:
            banner = f'<p class="banner ok" id="latest">Latest run {_time(latest.start)} UTC succeeded; {last_ok}.</p>'
        else:
            reasons = "; ".join(latest.failures) or f"exit status {latest.exit_status}"
            banner = (
                f'<p class="banner failed" id="latest">Latest run {_time(latest.start)} UTC FAILED: '
                f"{escape(reasons)}. {last_ok[0].upper()}{last_ok[1:]}.</p>"
            )
    else:
        banner = '<p class="banner failed" id="latest">No run reports yet.</p>'

    plots = [
        svg_plot(
            "plot-records",
            "Records per run",
            rows,
            [
                Series("new-lead", "new leads", "#1f6feb", [float(r.new["lead"]) for r in rows]),
                Series("new-brief", "new briefs", "#e36209", [float(r.new["brief"]) for r in rows]),
                Series("parsed", "parsed (all kinds)", "#8c959f", [float(sum(r.parsed.values())) for r in rows], True),
            ],
            "records",
        ),
        svg_plot(
            "plot-duration",
            "Run duration",
            rows,
            [Series("duration", "duration", "#6f42c1", [round(r.duration, 1) for r in rows])],
            "seconds",
        ),
    ]
    headers = ["Started (UTC)", *(["Job"] if with_job else []), "Duration", "Verdict"]
    headers += [f"New {kind}s" for kind in KINDS] + [f"Parsed {kind}s" for kind in KINDS]
    headers += ["Pages listing / article", "Requests failed / retries", "Monitors", "Feed files"]
    table_rows = "".join(_run_rows(row, len(headers), with_job) for row in newest_first)
    job_line = f" Job: {escape(_job_text(rows[0].job))}." if len(jobs) == 1 else ""
    failed_count = sum(not row.ok for row in rows)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<meta name="generator" content="wirecrawler.runs.statuspage">
<link rel="icon" href="data:,">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">Page written {_time(written)} UTC from the run reports beside it: {len(rows)} runs
(at most {keep} kept), {failed_count} failed.{job_line}</p>
{banner}
<h2>History</h2>
<div class="plots">
{"".join(plots)}
</div>
<h2>Latest runs, newest first</h2>
<table id="runs">
<thead><tr>{"".join(f"<th>{escape(h)}</th>" for h in headers)}</tr></thead>
<tbody>
{table_rows}</tbody>
</table>
</body>
</html>
"""


def write_status_page(reports_dir: Path, keep: int, written: datetime) -> tuple[Path, int]:
    """Regenerates ``<reports_dir>/index.html`` from the reports there; returns its path and the runs shown."""
    reports = load_reports(reports_dir)[-keep:]
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / PAGE_NAME
    replace_whole(path, render_page(reports, page_dir=reports_dir, written=written, keep=keep).encode("utf-8"))
    return path, len(reports)
