"""What a window did, how far the walk is, and how that is said. Plain Python with no Scrapy import.

A window's crawl says what it did in its run report (``wirecrawler.runs.history``: pages read,
feed files published with their record counts), whose name its log gives ("Run report ...
written"); while it runs, Scrapy's "Crawled N pages (at M pages/min)" lines give its pages so far.
From these and the state file the walk's figures are worked out: pages fetched and still to
come (estimated), records published, rate, time left, and how far back in time it has come.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wirecrawler.backfill.plan import Walk
from wirecrawler.backfill.state import BackfillState

CRAWLED = re.compile(r"Crawled (\d+) pages \(at (\d+) pages/min\)")
REPORT_WRITTEN = re.compile(r"Run report (.+?) written \(exit status (\d+)\)")
LAST_LINE = re.compile(r"\] (?:ERROR|INFO): (Run (?:failed|succeeded).*)$", re.M)
# Why a window read fewer listing pages than it could: the spider's own lines.
NO_NEXT_PAGE = re.compile(r"Listing page (\d+) \(.*\) has no next page")
ALL_OLDER = re.compile(r"Stopping at listing page (\d+): every row is older than")


def crawled_so_far(log_text: str) -> int | None:
    """The pages the window's crawl has received so far, from its latest "Crawled" line."""
    found = CRAWLED.findall(log_text)
    return int(found[-1][0]) if found else None


def last_line(log_text: str) -> str | None:
    """The window's verdict line, "Run succeeded" or "Run failed: ...", when it wrote one."""
    found = LAST_LINE.findall(log_text)
    return found[-1] if found else None


def why_short(log_text: str) -> str | None:
    """Why a window stopped before its last page, as its crawl logged it."""
    if match := ALL_OLDER.search(log_text):
        return f"listing page {match.group(1)} shows only stories older than --until"
    if match := NO_NEXT_PAGE.search(log_text):
        return f"listing page {match.group(1)} is the archive's last"
    return None


@dataclass(frozen=True)
class WindowResult:
    """What a window's run report says it did."""

    exit_status: int
    listing_pages: int
    article_pages: int
    records: dict[str, int]  # records in the feed files it published, per kind
    published_files: list[str]  # those files (local paths, or URIs)

    @classmethod
    def from_report(cls, report: dict) -> WindowResult:
        pages = report.get("pages") or {}
        records = {"brief": 0, "lead": 0}
        files = []
        for feed in report.get("feeds") or []:
            if not feed.get("published"):
                continue
            uri = str(feed.get("uri", ""))
            kind = "lead" if "/leads/" in uri else "brief" if "/briefs/" in uri else None
            if kind is None:
                continue  # a -O/-o file: not part of the feed
            records[kind] += int(feed.get("records") or 0)
            files.append(uri)
        return cls(
            exit_status=int(report.get("exit_status", 1)),
            listing_pages=int(pages.get("listing") or 0),
            article_pages=int(pages.get("article") or 0),
            records=records,
            published_files=files,
        )


def report_of(log_text: str) -> Path | None:
    """The run report the window's log names."""
    found = REPORT_WRITTEN.findall(log_text)
    return Path(found[-1][0]) if found else None


def read_result(log_text: str) -> WindowResult | None:
    """The window's result from the report its log names; None when there is none to read."""
    path = report_of(log_text)
    if path is None:
        return None
    try:
        return WindowResult.from_report(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def log_end(log: Path) -> int:
    """Where the next entry of the publication log *log* will begin: after its last newline (a
    torn last line, left by a writer that was killed, is cut off by the next append)."""
    try:
        with log.open("rb") as file:
            end = file.seek(0, 2)
            while end > 0:
                start = max(end - 65536, 0)
                file.seek(start)
                chunk = file.read(end - start)
                if (newline := chunk.rfind(b"\n")) >= 0:
                    return start + newline + 1
                end = start
    except FileNotFoundError:
        pass
    return 0


@dataclass(frozen=True)
class Published:
    """What the publication log says a window published."""

    records: dict[str, int]  # per kind
    files: list[str]  # their paths


def published_since(log: Path, offset: int, stamp: str) -> Published | None:
    """The files entered in the publication log *log* after *offset* by runs that started at
    *stamp* (``wirecrawler.store.feednames.run_stamp``) or later: a window's, when *offset* and
    *stamp* were taken just before it started (no other crawl publishes while it holds the seen
    store, and one that held it first started earlier). None when there is no log here (the
    shared set-up's log is in its store)."""
    try:
        with log.open("rb") as file:
            file.seek(offset)
            lines = file.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return None
    records = {"brief": 0, "lead": 0}
    files = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "published" and str(entry.get("run", "")) >= stamp and entry.get("kind") in records:
            records[entry["kind"]] += int(entry.get("records") or 0)
            files.append(str(log.parent / entry["path"]))
    return Published(records, files)


def oldest_published(paths: list[str]) -> str | None:
    """The oldest ``published_at`` among the records of these feed files (local ones only)."""
    oldest: tuple[datetime, str] | None = None
    for name in paths:
        path = Path(name[len("file://") :] if name.startswith("file://") else name)
        if "://" in name and not name.startswith("file://"):
            continue
        try:
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    value = json.loads(line).get("published_at")
                    if value:
                        instant = datetime.fromisoformat(value)
                        if oldest is None or instant < oldest[0]:
                            oldest = (instant, value)
        except (OSError, ValueError, AttributeError):
            continue
    return oldest[1] if oldest else None


def older(one: str | None, other: str | None) -> str | None:
    if one is None or other is None:
        return one or other
    return one if datetime.fromisoformat(one) <= datetime.fromisoformat(other) else other


@dataclass(frozen=True)
class Figures:
    """The walk's progress, as shown: the bar's numbers and the log lines' words."""

    pages_fetched: int  # listing and article pages, so far
    pages_left: int | None  # estimated; None when nothing tells how far the walk goes
    listing_page: int  # the deepest listing page read
    last_listing_page: int | None  # the walk's last page, when --pages gives it
    records: int  # published
    pages_per_minute: float | None
    reached: str | None  # YYYY-MM-DD: the oldest story published so far
    fraction: float | None  # of the walk done, when known

    @property
    def seconds_left(self) -> float | None:
        if self.pages_left is None or not self.pages_per_minute:
            return None
        return 60 * self.pages_left / self.pages_per_minute

    @property
    def total(self) -> int | None:
        return None if self.pages_left is None else self.pages_fetched + self.pages_left


def figures(state: BackfillState, now: datetime, *, running_pages: int = 0, running_seconds: float = 0.0) -> Figures:
    """The walk's figures from its state, plus a window in flight (*running_pages* fetched in
    *running_seconds*).

    Pages left: listing pages still to walk, each with as many article pages as the walk has
    fetched per listing page so far. How many listing pages are left is known with ``--pages``;
    with ``--until`` it is estimated from how far back in time the walk has come (the oldest
    story published) against how far it must go.
    """
    walk: Walk = state.walk
    fetched = state.pages_fetched + running_pages
    seconds = state.work_seconds + running_seconds
    rate = 60 * fetched / seconds if seconds > 0 and fetched else None
    walked = max(state.last_page - state.from_page + 1, 0)
    per_listing_page = 1 + (state.article_pages / state.listing_pages if state.listing_pages else 0)
    fractions = []
    if state.finished:
        fractions.append(1.0)
    if walk.last_page is not None:
        fractions.append(walked / walk.pages)
    until = walk.until_instant()
    if until is not None and state.reached and walked:
        began = datetime.fromisoformat(state.started)
        reached = datetime.fromisoformat(state.reached)
        span = (began - until).total_seconds()
        if span > 0:
            fractions.append(min(max((began - reached).total_seconds() / span, 0.0), 1.0))
    fraction = max(fractions) if fractions else None
    left = None
    if fraction is not None:
        if fraction >= 1:
            left = 0
        elif fraction > 0 and walked:
            left_listing = walked / fraction - walked
            left = max(math.ceil(left_listing * per_listing_page) - running_pages, 0)
    return Figures(
        pages_fetched=fetched,
        pages_left=left,
        listing_page=state.last_page,
        last_listing_page=walk.last_page,
        records=state.records_published,
        pages_per_minute=rate,
        reached=state.reached[:10] if state.reached else None,
        fraction=fraction,
    )


def duration(seconds: float) -> str:
    """"3 h 05 min", "12 min", "40 s"."""
    seconds = max(int(seconds), 0)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def describe(figures: Figures) -> str:
    """The walk's progress in one line: "1,240 pages fetched, about 9,800 to come; listing page 58
    of 2,000; 1,160 records published; 190 pages/min; back to 2026-05-01; about 52 min left"."""
    parts = [f"{figures.pages_fetched:,} pages fetched"]
    if figures.pages_left is not None:
        parts[0] += f", about {figures.pages_left:,} to come"
    of = f" of {figures.last_listing_page:,}" if figures.last_listing_page is not None else ""
    parts.append(f"listing page {figures.listing_page:,}{of}")
    parts.append(f"{figures.records:,} records published")
    if figures.pages_per_minute is not None:
        parts.append(f"{figures.pages_per_minute:,.0f} pages/min")
    if figures.reached:
        parts.append(f"back to {figures.reached}")
    if (left := figures.seconds_left) is not None:
        parts.append(f"about {duration(left)} left" if left else "done")
    return "; ".join(parts)


def postfix(figures: Figures) -> str:
    """The bar's words after its count and elapsed time: rate, time left, listing page, records."""
    of = f"/{figures.last_listing_page:,}" if figures.last_listing_page is not None else ""
    words = []
    if figures.pages_per_minute is not None:
        words.append(f"{figures.pages_per_minute:,.0f} pages/min")
    if (left := figures.seconds_left) is not None:
        words.append(f"{duration(left)} left")
    words += [f"listing {figures.listing_page:,}{of}", f"{figures.records:,} records"]
    if figures.reached:
        words.append(f"back to {figures.reached}")
    return ", ".join(words)
