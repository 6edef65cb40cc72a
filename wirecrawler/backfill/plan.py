"""The backfill's walk: windows of listing pages, where the walk stops, what each window's crawl is told.

Plain Python with no Scrapy import. A walk goes from a first listing page (1 by default) towards
older pages until a page limit (``--pages``), a date (``--until``: a listing page whose rows are
all older than that date is the last one read, as ``max_age_hours`` ends a scheduled crawl) or
the archive's last page. It is cut into windows of ``--window`` listing pages; each window is
one ordinary ``scrapy crawl buitenland`` that starts at its first page (``-a first_page``) and
reads at most its pages (``-a max_pages``), publishing its records at its end. Every window
after the first starts at the last page of the one before: the listing shifts down as news
arrives (and up when a story is taken off), so each window re-reads one page, and the seen
store drops what that page shows twice.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SITE_ZONE = ZoneInfo("Europe/Amsterdam")  # --until's date is a day of the site's own calendar
NO_AGE_LIMIT_HOURS = 10_000_000.0  # max_age_hours when only pages end the walk: over a thousand years
DEFAULT_WINDOW = 20
DEFAULT_YIELD_EVERY = 10.0  # minutes: the schedule of deploy/crontab and deploy/wirecrawler.timer
WINDOW_SETTINGS = [
    # A window is not a scheduled run: the gap since the last one is the schedule's business.
    "WIRECRAWLER_MAX_RUN_GAP_MINUTES=0",
    # Scrapy's "Crawled N pages (at M pages/min)" every 5 s: the progress shown while a window runs.
    "LOGSTATS_INTERVAL=5",
]


class PlanError(ValueError):
    """Options that make no walk: said in one line, exit status 2."""


@dataclass(frozen=True)
class Walk:
    """What the operator asked for: where the walk starts, and what ends it."""

    start_url: str
    from_page: int = 1
    pages: int | None = None  # listing pages at most, from from_page on
    until: date | None = None  # a listing page whose rows are all older than this day is the last read

    @property
    def last_page(self) -> int | None:
        return None if self.pages is None else self.from_page + self.pages - 1

    def until_instant(self) -> datetime | None:
        """The start of the ``until`` day in the site's time zone, in UTC."""
        if self.until is None:
            return None
        return datetime(self.until.year, self.until.month, self.until.day, tzinfo=SITE_ZONE).astimezone(UTC)

    def max_age_hours(self, now: datetime) -> float:
        """The crawl's ``max_age_hours`` that stops at ``until``, counted back from *now*.

        The crawl reads each page's time labels against that page's ``Date`` header, which the
        live site sets from a clock within seconds of ours. Raises PlanError when ``until`` is
        not in the past."""
        instant = self.until_instant()
        if instant is None:
            return NO_AGE_LIMIT_HOURS
        hours = (now - instant).total_seconds() / 3600
        if hours <= 0:
            raise PlanError(f"--until {self.until.isoformat()} is not in the past")
        return hours

    def describe(self) -> str:
        ends = []
        if self.pages is not None:
            ends.append(f"listing page {self.last_page}")
        if self.until is not None:
            ends.append(f"stories of {self.until.isoformat()}")
        ends.append("the archive's last page")
        first = ", whichever comes first" if len(ends) > 1 else ""
        return f"{self.start_url} from listing page {self.from_page} to " + " or ".join(ends) + first


@dataclass(frozen=True)
class Window:
    number: int  # 1 for the walk's first window
    first: int  # its first listing page
    pages: int  # listing pages at most (the crawl's max_pages)

    @property
    def last(self) -> int:
        return self.first + self.pages - 1

    def describe(self) -> str:
        return f"window {self.number} (listing pages {self.first}-{self.last})"


def next_window(walk: Walk, next_page: int, windows_done: int, size: int) -> Window | None:
    """The window that starts at *next_page*, or None when the walk has read its last page.

    Every window after the first starts on a page the one before read (its last): when that
    page is the walk's last page, nothing is left to read.
    """
    if size < 2:
        raise PlanError("a window is 2 listing pages at least (each window re-reads the last page of the one before)")
    last = walk.last_page
    if windows_done and last is not None and next_page >= last:
        return None
    pages = size if last is None else min(size, last - next_page + 1)
    return Window(number=windows_done + 1, first=next_page, pages=pages)


@dataclass(frozen=True)
class WindowEnd:
    """What a window that succeeded means for the walk."""

    finished: str | None  # why the walk is over, or None
    next_page: int  # where the next window starts


def after_window(walk: Walk, window: Window, listing_pages_read: int, why_short: str | None = None) -> WindowEnd:
    """The walk after *window* succeeded, having read *listing_pages_read* listing pages.

    A window that read fewer pages than it could ended the walk itself: the archive's last
    page had no next one, or a page's rows were all older than ``until`` (*why_short*, from its
    log, says which). One that read them all hands over to the next window, at its last page,
    unless that page is the walk's last.
    """
    if listing_pages_read < window.pages:
        return WindowEnd(why_short or "the walk ended before the window's last page", window.first + max(listing_pages_read, 1) - 1)
    if walk.last_page is not None and window.last >= walk.last_page:
        return WindowEnd(f"listing page {walk.last_page} read (--pages {walk.pages})", window.last)
    return WindowEnd(None, window.last)


def crawl_arguments(walk: Walk, window: Window, now: datetime) -> list[str]:
    """The ``-a`` arguments of *window*'s crawl."""
    return [
        "-a", f"start_url={walk.start_url}",
        "-a", f"first_page={window.first}",
        "-a", f"max_pages={window.pages}",
        "-a", f"max_age_hours={walk.max_age_hours(now):.6f}",
    ]  # fmt: skip


def rate_settings(max_rate: float | None, download_delay: float, autothrottle_max_delay: float) -> list[str]:
    """``-s`` settings that hold the windows to *max_rate* pages a minute, on average.

    Only ever slower than the crawl's own settings: ``DOWNLOAD_DELAY`` is the least time between
    two requests to the site (AutoThrottle waits longer when the site is slow, never shorter),
    so the crawl's own ceiling is 60 / ``DOWNLOAD_DELAY`` pages a minute. AutoThrottle's
    ``AUTOTHROTTLE_MAX_DELAY`` caps the delay, so it is raised with it. Raises PlanError for a
    rate at or over the ceiling.
    """
    if max_rate is None:
        return []
    if not (math.isfinite(max_rate) and max_rate > 0):
        raise PlanError(f"--max-rate must be a number of pages a minute above 0, not {max_rate!r}")
    delay = 60.0 / max_rate
    if download_delay > 0 and delay <= download_delay:
        ceiling = 60.0 / download_delay
        raise PlanError(
            f"--max-rate can only lower the crawl's rate: its settings (DOWNLOAD_DELAY={download_delay:g}) already "
            f"hold it to {ceiling:g} pages a minute at most; give a number below that"
        )
    settings = ["-s", f"DOWNLOAD_DELAY={delay:g}"]
    if delay > autothrottle_max_delay:
        settings += ["-s", f"AUTOTHROTTLE_MAX_DELAY={delay:g}"]
    return settings


# --- Yielding to the scheduled crawl. Only one crawl holds the seen store at a time: a
# scheduled run that starts while a window runs is refused (exit 75). So the backfill starts no
# window that would still run at the schedule's next start, and lets that run go first.

START_MARGIN = timedelta(seconds=10)  # a window is not started this close before the scheduled run


def next_tick(now: datetime, every_minutes: float) -> datetime:
    """The schedule's next start after *now*: every *every_minutes* on the clock (:00, :10, ...
    for 10), as cron's ``*/10`` and systemd's ``*:0/10`` start the scheduled crawl."""
    period = every_minutes * 60
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - midnight).total_seconds()
    tick = midnight + timedelta(seconds=(math.floor(elapsed / period) + 1) * period)
    return tick


def tick_to_yield_to(now: datetime, window_seconds: float | None, every_minutes: float) -> datetime | None:
    """The scheduled start a window begun *now* would run into, to wait for first; else None.

    *window_seconds* is how long a window is expected to take (the last one's time): unknown,
    or too long to fit between two scheduled starts, and the window goes ahead (a scheduled run
    during it is refused, exit 75, and the next one runs).
    """
    if not every_minutes or window_seconds is None:
        return None
    if window_seconds + START_MARGIN.total_seconds() >= every_minutes * 60 - 60:
        return None
    tick = next_tick(now, every_minutes)
    if now + timedelta(seconds=window_seconds) + START_MARGIN >= tick:
        return tick
    return None


# --- The command's options.

BACKFILL_HELP = """\
Walk the section's listing back to a date (--until) or a number of pages (--pages), and the
articles it links to, in windows of listing pages. Each window is an ordinary `scrapy crawl
buitenland` (same settings, robots.txt, AutoThrottle, seen store, publication log) that publishes
its records when it ends: a kill or a reboot loses at most the window in flight, and the same
command resumes where the walk stopped (the state is <state dir>/backfill.json). Articles whose
leads were published are not fetched again. The windows' logs go to <state dir>/backfill.log.

exit status:
  0   the walk is done (also: it was done already)
  1   a window failed and its retries too, or the backfill was stopped (SIGTERM, SIGINT):
      run the same command again to resume
  2   a usage error: bad options, or options that differ from the walk in progress
  75  another backfill runs with this state directory, or the seen store stayed busy
  78  a window's crawl found its set-up bad (a setting, a folder): see backfill.log
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number above 0, not {text!r}")
    return value


def _window(text: str) -> int:
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError("2 listing pages at least: each window re-reads the last page of the one before")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a date, YYYY-MM-DD, not {text!r}") from None


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"minutes, 0 or more, not {text!r}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"pages a minute, above 0, not {text!r}")
    return value


def _setting(text: str) -> str:
    if "=" not in text or not text.split("=", 1)[0]:
        raise argparse.ArgumentTypeError(f"NAME=VALUE, not {text!r}")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m wirecrawler backfill``."""
    parser.add_argument(
        "--start-url", metavar="URL", help="the section's first listing page (default: the spider's, the live site)"
    )
    parser.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="walk back to stories of this day")
    parser.add_argument("--pages", type=_positive_int, metavar="N", help="walk N listing pages at most")
    parser.add_argument(
        "--from-page", type=_positive_int, default=1, metavar="N", help="the listing page the walk starts at (default 1)"
    )
    parser.add_argument(
        "--window",
        type=_window,
        default=DEFAULT_WINDOW,
        metavar="N",
        help=f"listing pages per window, the batch a kill can lose (default {DEFAULT_WINDOW}); may change on resume",
    )
    parser.add_argument(
        "--max-rate",
        type=_rate,
        metavar="PAGES_PER_MINUTE",
        help="hold the crawl to this many requests a minute on average; only lowers the crawl's own rate",
    )
    parser.add_argument(
        "--yield-every",
        type=_minutes,
        default=DEFAULT_YIELD_EVERY,
        metavar="MINUTES",
        help="the scheduled crawl starts every MINUTES on the clock: start no window that would still run then, "
        f"and let that run go first (default {DEFAULT_YIELD_EVERY:g}, deploy/'s schedule; 0: never wait)",
    )
    parser.add_argument(
        "--progress",
        choices=("auto", "bar", "lines"),
        default="auto",
        help="a progress bar (on a terminal, the default there) or a log line per window and every minute",
    )
    parser.add_argument(
        "--status", action="store_true", help="say where the walk in progress is, and exit (nothing is fetched)"
    )
    parser.add_argument("--restart", action="store_true", help="forget the walk in progress or done, and start anew")
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        type=_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for every window's crawl, as scrapy crawl -s (repeatable)",
    )


def walk_from(args: argparse.Namespace, default_start_url: str) -> Walk:
    return Walk(
        start_url=args.start_url or default_start_url,
        from_page=args.from_page,
        pages=args.pages,
        until=args.until,
    )
