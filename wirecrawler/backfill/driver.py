"""The ``backfill`` command: one ``scrapy crawl`` process per window, the walk's state, its progress.

The driver holds no records and no pages: each window is an ordinary crawl in a process of its
own, which publishes its records through the publication log when it ends and is gone, so the
memory of a walk of any depth is that of one window. The driver keeps a lock (one backfill per
state directory), the state file (``wirecrawler.backfill.state``), the windows' log, and the
progress: a tqdm bar on a terminal, else a log line per window and every minute. Between two
windows it lets the scheduled crawl have the seen store (``plan.tick_to_yield_to``).
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from wirecrawler.backfill import plan, progress
from wirecrawler.backfill.plan import PlanError, Walk, Window
from wirecrawler.backfill.progress import Published
from wirecrawler.backfill.state import LOCK_NAME, LOG_NAME, STATE_NAME, BackfillState, StateError, load, save
from wirecrawler.portal.timeline import utc_iso
from wirecrawler.store.feednames import run_stamp

logger = logging.getLogger("wirecrawler.backfill")

EXIT_FAILED = 1  # a window failed (after its retries), or the backfill was stopped: resume with the same command
EX_USAGE = 2
EX_TEMPFAIL = 75  # another backfill holds the state directory, or the seen store stayed busy
EX_CONFIG = 78
BUSY_WAIT = 10.0  # seconds before a window refused for a busy seen store (exit 75) is tried again
BUSY_GIVE_UP = 30 * 60.0  # ... and how long that may go on
RETRIES = 3  # a failed window is run again this many times, after RETRY_WAIT, 2 x RETRY_WAIT ...
RETRY_WAIT = 30.0
POLL = 0.5  # seconds between two looks at a running window
LINE_EVERY = 60.0  # seconds between two progress lines while a window runs (not on a terminal)
SCHEDULED_START_GRACE = 45.0  # seconds after the scheduled start within which its crawl must show up
SCHEDULED_RUN_MAX = 15 * 60.0  # the longest wait for a scheduled crawl holding the seen store


def _utc_now() -> datetime:
    return datetime.now(UTC)



# --- The project's set-up, as a window's crawl will see it.


@dataclass(frozen=True)
class Setup:
    state_dir: Path
    reports_dir: Path
    publication_log: Path  # where the windows' files are entered (none here in the shared set-up)
    store_lock: Path | None  # the SQLite seen store's lock file (its holder's pid is in it)
    download_delay: float
    autothrottle_max_delay: float
    default_start_url: str


def project_setup(overrides: list[str]) -> Setup:
    """The settings every window gets (the project's, with *overrides* as ``-s`` gives them).

    Raises ``SettingError`` for a project setting that cannot be used."""
    from scrapy.utils.project import get_project_settings

    from wirecrawler.config import WireConfig
    from wirecrawler.spiders.buitenland import DEFAULT_START_URL
    from wirecrawler.store.publog import LOG_NAME as LOG_NAME_PUBLICATIONS
    from wirecrawler.store.seen import SCHEME, sqlite_path

    settings = get_project_settings()
    settings.setdict(dict(item.split("=", 1) for item in overrides), priority="cmdline")
    config = WireConfig.from_settings(settings)
    store_lock = None
    if config.seen_store.startswith(SCHEME):
        path = sqlite_path(config.seen_store)
        store_lock = Path(f"{os.path.realpath(path)}.lock") if path != ":memory:" else None
    return Setup(
        state_dir=config.state_dir,
        reports_dir=config.feed_dir / "reports",
        publication_log=config.feed_dir / LOG_NAME_PUBLICATIONS,
        store_lock=store_lock,
        download_delay=settings.getfloat("DOWNLOAD_DELAY"),
        autothrottle_max_delay=settings.getfloat("AUTOTHROTTLE_MAX_DELAY"),
        default_start_url=DEFAULT_START_URL,
    )


def store_lock_holder(lock: Path | None) -> int | None:
    """The pid of the live crawl holding the seen store, from its lock file (``StoreLock`` writes
    its pid there and empties the file when it ends); None when no live process is named."""
    if lock is None:
        return None
    try:
        pid = int(lock.read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a crawl that was killed: the kernel released its lock
    except PermissionError:
        pass  # alive, another user's
    return pid


class BackfillBusy(Exception):
    pass


class DirectoryLock:
    """One backfill at a time per state directory: ``flock`` on ``<state dir>/backfill.lock``."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(self.fd)
            raise BackfillBusy(f"another backfill runs with {path.parent} (pid {holder})") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"{os.getpid()}\n".encode("ascii"), 0)

    def release(self) -> None:
        os.ftruncate(self.fd, 0)
        os.close(self.fd)


# --- A window's process.


def _death_signal():
    """In the window's process, before it runs the crawl: SIGTERM when the backfill dies, so that
    a killed backfill leaves no window running on its own (it stops gracefully, publishing what
    it fetched). Linux's prctl(PR_SET_PDEATHSIG); elsewhere nothing."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def set_up() -> None:
        prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the backfill died before that took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return set_up


@dataclass
class WindowRun:
    exit_status: int
    seconds: float
    log: str
    result: progress.WindowResult | None


# --- Progress: a bar on a terminal, log lines elsewhere.


class Lines:
    """A log line per window and, while one runs, every LINE_EVERY seconds (cron, systemd)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.said: str | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def show(self, figures: progress.Figures, *, force: bool = False) -> None:
        if force or time.monotonic() - self.last >= LINE_EVERY:
            self.last = time.monotonic()
            said = progress.describe(figures)
            if said != self.said:
                self.said = said
                logger.info("Progress: %s", said)


class Bar:
    """A tqdm bar on stderr: pages fetched of the estimated total, then the walk's own rate and
    time left (worked out over the time spent in windows, as the log lines say them), the
    deepest listing page, the records published and how far back in time the walk has come."""

    KNOWN = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} pages [{elapsed}{postfix}]"
    UNKNOWN = "{desc}: {n_fmt} pages [{elapsed}{postfix}]"

    def __init__(self, start: progress.Figures) -> None:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        tqdm.monitor_interval = 0  # no monitor thread: the driver forks its windows
        self._stack = ExitStack()
        self.bar = tqdm(
            total=start.total, initial=start.pages_fetched, desc="backfill", file=sys.stderr, dynamic_ncols=True,
            bar_format=self.KNOWN if start.total is not None else self.UNKNOWN, postfix=progress.postfix(start),
        )  # fmt: skip
        self._stack.callback(self.bar.close)
        self._stack.enter_context(logging_redirect_tqdm(loggers=[logger], tqdm_class=tqdm))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def show(self, figures: progress.Figures, *, force: bool = False) -> None:
        if figures.total != self.bar.total:
            self.bar.total = figures.total
            self.bar.bar_format = self.KNOWN if figures.total is not None else self.UNKNOWN
        self.bar.set_postfix_str(progress.postfix(figures), refresh=False)
        self.bar.n = figures.pages_fetched
        self.bar.refresh()


def configure_logging() -> None:
    """The driver's lines, as the crawl writes its own: UTC times, stated."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


# --- The walk.


class Backfill:
    def __init__(self, args: argparse.Namespace, setup: Setup, walk: Walk, rate: list[str]):
        self.args = args
        self.setup = setup
        self.walk = walk
        self.rate = rate
        self.state_path = setup.state_dir / STATE_NAME
        self.log_path = setup.state_dir / LOG_NAME
        self.stopping = threading.Event()
        self.child: subprocess.Popen | None = None
        self.window_seconds: list[float] = []  # of the windows that succeeded, latest last
        self.state: BackfillState | None = None
        self.display: Lines | Bar | None = None

    # signals

    def stop(self, signum, frame) -> None:
        first = not self.stopping.is_set()
        self.stopping.set()
        if first:
            logger.warning(
                "Stopping (%s): the window in flight stops and publishes what it fetched; run the same command to resume",
                signal.Signals(signum).name,
            )
        child = self.child
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)  # a second one makes Scrapy stop at once

    def wait(self, seconds: float) -> bool:
        """Sleeps *seconds*, or less when told to stop; True when told to stop."""
        return self.stopping.wait(max(seconds, 0))

    # the walk

    def run(self) -> int:
        state = self.open_state()
        if isinstance(state, int):
            return state
        self.state = state
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.stop)
        began = time.monotonic()
        pages_before, records_before = state.pages_fetched, state.records_published
        mode = self.args.progress
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "lines"
        with Bar(self.figures()) if mode == "bar" else Lines() as display:
            self.display = display
            status = None
            while status is None and not self.stopping.is_set():
                window = plan.next_window(self.walk, state.next_page, state.windows_done, self.args.window)
                if window is None:
                    state.finished = state.finished or f"listing page {self.walk.last_page} read (--pages {self.walk.pages})"
                    self.save()
                if state.finished or self.yield_to_schedule(window):
                    break
                status = self.run_window(window)
            display.show(self.figures(), force=True)
        session = (
            f"{state.pages_fetched - pages_before:,} pages fetched and {state.records_published - records_before:,} "
            f"records published in {progress.duration(time.monotonic() - began)}"
        )
        if state.finished:
            logger.info(
                "Backfill done: %s. %s; all told %s records in %d windows",
                state.finished, session, f"{state.records_published:,}", state.windows_done,
            )  # fmt: skip
            return 0
        logger.warning(
            "Backfill stopped at window %d (listing page %d): %s; run the same command to resume",
            state.windows_done + 1, state.next_page, session,
        )  # fmt: skip
        return status or EXIT_FAILED

    def open_state(self) -> BackfillState | int:
        state = None
        if not self.args.restart:
            try:
                state = load(self.state_path)
            except StateError as exc:
                print(f"backfill: {exc}", file=sys.stderr)
                return EX_USAGE
        if state is not None:
            if differs := state.differs_from(self.walk):
                print(
                    f"backfill: a walk of {state.walk.describe()} is in progress (next: listing page {state.next_page}), "
                    f"and this one differs: {differs}. Resume it with its options, or start anew with --restart",
                    file=sys.stderr,
                )
                return EX_USAGE
            if state.finished:
                logger.info(
                    "The walk of %s is done already (%s; %s records published): nothing to do; --restart walks it again",
                    state.walk.describe(), state.finished, f"{state.records_published:,}",
                )  # fmt: skip
                return 0
            if (flight := state.in_flight) is not None:
                self.state = state
                published = self.account_in_flight()
                self.save()
                logger.info(
                    "Window %s was cut short when the backfill stopped; it had published %s records, and runs again",
                    flight.get("window"), f"{sum(published.records.values()):,}" if published else "an unknown number of",
                )  # fmt: skip
            logger.info(
                "Resuming at listing page %d (window %d) the walk of %s; %s",
                state.next_page, state.windows_done + 1, self.walk.describe(), progress.describe(self.figures(state)),
            )  # fmt: skip
            return state
        state = BackfillState.new(self.walk, utc_iso(_utc_now()))
        self.save(state)
        logger.info("Walking %s, %d listing pages a window", self.walk.describe(), self.args.window)
        return state

    def save(self, state: BackfillState | None = None) -> None:
        state = state or self.state
        state.updated = utc_iso(_utc_now())
        save(self.state_path, state)

    def figures(self, state: BackfillState | None = None, running_pages: int = 0, running_seconds: float = 0.0):
        return progress.figures(
            state or self.state, _utc_now(), running_pages=running_pages, running_seconds=running_seconds
        )

    def account_in_flight(self, result: progress.WindowResult | None = None) -> Published | None:
        """Counts what the window in flight published, as the publication log says (else, in the
        shared set-up, as its run report says), and clears it from the state (saved later)."""
        state, flight = self.state, self.state.in_flight
        if flight is None:
            return None
        stamp = run_stamp(datetime.fromisoformat(flight["started"].replace("Z", "+00:00")))
        published = progress.published_since(self.setup.publication_log, int(flight["log_offset"]), stamp)
        if published is None and result is not None:
            published = Published(result.records, result.published_files)
        if published is not None:
            for kind, count in published.records.items():
                state.records[kind] = state.records.get(kind, 0) + count
            briefs = [name for name in published.files if "/briefs/" in name]
            state.reached = progress.older(state.reached, progress.oldest_published(briefs))
        state.in_flight = None
        return published

    def run_window(self, window: Window) -> int | None:
        """Runs *window* until it succeeds (None), or says the exit status the backfill ends with."""
        state = self.state
        failures = 0
        busy_since: float | None = None
        while True:
            done = self.crawl(window)
            state.work_seconds += done.seconds
            if done.result is not None:
                state.listing_pages += done.result.listing_pages
                state.article_pages += done.result.article_pages
            self.account_in_flight(done.result)
            why = progress.last_line(done.log) or f"its crawl exited {done.exit_status}"
            if done.exit_status == 0 and done.result is not None:
                end = plan.after_window(self.walk, window, done.result.listing_pages, progress.why_short(done.log))
                state.windows_done += 1
                state.next_page = end.next_page
                state.last_page = max(state.last_page, window.first + done.result.listing_pages - 1)
                state.finished = end.finished
                self.save()
                self.window_seconds = [*self.window_seconds[-2:], done.seconds]
                logger.info(
                    "%s done in %s: %d listing and %d article pages, %s records published%s",
                    window.describe(), progress.duration(done.seconds), done.result.listing_pages,
                    done.result.article_pages, f"{sum(done.result.records.values()):,}",
                    f"; the walk is over: {end.finished}" if end.finished else "",
                )  # fmt: skip
                self.display.show(self.figures(), force=True)
                return None
            self.save()  # what it published is counted; the window comes again
            if self.stopping.is_set():
                return EXIT_FAILED
            if done.exit_status == EX_TEMPFAIL:
                busy_since = busy_since or time.monotonic()
                if time.monotonic() - busy_since > BUSY_GIVE_UP:
                    logger.error("The seen store stayed busy for %s: %s", progress.duration(BUSY_GIVE_UP), why)
                    return EX_TEMPFAIL
                logger.info(
                    "%s waits: another crawl holds the seen store (%s); again in %g s", window.describe(), why, BUSY_WAIT
                )
                if self.wait(BUSY_WAIT):
                    return EXIT_FAILED
                continue
            if done.exit_status in (EX_USAGE, EX_CONFIG):
                logger.error("%s could not start: %s (see %s)", window.describe(), why, self.log_path)
                return done.exit_status
            failures += 1
            if failures > RETRIES:
                logger.error(
                    "%s failed %d times, last: %s (see %s); run the same command to resume",
                    window.describe(), failures, why, self.log_path,
                )  # fmt: skip
                return EXIT_FAILED
            pause = RETRY_WAIT * failures
            logger.warning("%s failed: %s; again in %g s (see %s)", window.describe(), why, pause, self.log_path)
            if self.wait(pause):
                return EXIT_FAILED

    def command(self, window: Window) -> list[str]:
        settings = [part for setting in (*plan.WINDOW_SETTINGS, *self.args.settings) for part in ("-s", setting)]
        return [
            sys.executable, "-m", "scrapy", "crawl", "buitenland",
            *plan.crawl_arguments(self.walk, window, _utc_now()), *settings, *self.rate,
        ]  # fmt: skip

    def crawl(self, window: Window) -> WindowRun:
        """Runs *window*'s crawl to its end, its log appended to backfill.log, showing its progress."""
        command = self.command(window)
        self.state.in_flight = {
            "window": window.number,
            "started": utc_iso(_utc_now()),
            "log_offset": progress.log_end(self.setup.publication_log),
        }
        self.save()
        started = time.monotonic()
        chunks: list[bytes] = []
        with self.log_path.open("ab") as log, self.log_path.open("rb") as tail:
            header = f"{utc_iso(_utc_now())} [wirecrawler.backfill] INFO: {window.describe()}: {' '.join(command[1:])}\n"
            log.write(header.encode("utf-8"))
            log.flush()
            tail.seek(log.tell())
            self.child = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_death_signal(),
            )  # fmt: skip
            if self.stopping.is_set():
                self.child.send_signal(signal.SIGTERM)
            pages = 0
            while True:
                finished = self.child.poll() is not None
                if chunk := tail.read():
                    chunks.append(chunk)
                    if (crawled := progress.crawled_so_far(chunk.decode("utf-8", "replace"))) is not None:
                        pages = crawled
                self.display.show(self.figures(running_pages=pages, running_seconds=time.monotonic() - started))
                if finished:
                    break
                self.stopping.wait(POLL)
            exit_status = self.child.returncode
            self.child = None
        text = b"".join(chunks).decode("utf-8", "replace")
        return WindowRun(exit_status, time.monotonic() - started, text, progress.read_result(text))

    def yield_to_schedule(self, window: Window) -> bool:
        """Waits, before *window*, for the scheduled crawl it would run into; True when told to stop."""
        expected = max(self.window_seconds) if self.window_seconds else None
        tick = plan.tick_to_yield_to(_utc_now(), expected, self.args.yield_every)
        if tick is None:
            return False
        logger.info(
            "Letting the scheduled crawl of %s go first: %s takes about %s (--yield-every 0 waits for none)",
            tick.strftime("%H:%M UTC"), window.describe(), progress.duration(expected),
        )  # fmt: skip
        if self.wait((tick - _utc_now()).total_seconds()):
            return True
        held = False
        while True:
            now = _utc_now()
            if self.store_busy():
                held = True
                if now - tick > timedelta(seconds=SCHEDULED_RUN_MAX):
                    return False
            elif held or self.report_since(tick) or now - tick > timedelta(seconds=SCHEDULED_START_GRACE):
                return False
            if self.wait(1.0):
                return True

    def store_busy(self) -> bool:
        return store_lock_holder(self.setup.store_lock) is not None

    def report_since(self, instant: datetime) -> bool:
        """Whether a run report was written since *instant* (a crawl other than ours ended)."""
        try:
            return any(path.stat().st_mtime >= instant.timestamp() for path in self.setup.reports_dir.glob("*.json"))
        except OSError:
            return False


def show_status(state_path: Path) -> int:
    try:
        state = load(state_path)
    except StateError as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return EX_USAGE
    if state is None:
        print(f"No backfill has run with {state_path.parent} (no {state_path.name})")
        return 0
    said = progress.describe(progress.figures(state, _utc_now()))
    if state.finished:
        where = f"done: {state.finished}"
    else:
        where = f"next: window {state.windows_done + 1} at listing page {state.next_page}"
    print(f"Walk of {state.walk.describe()}\n{where}; {state.windows_done} windows done, updated {state.updated}\n{said}")
    return 0


def run_backfill(args: argparse.Namespace) -> int:
    from wirecrawler.settingvalues import SettingError

    configure_logging()
    try:
        setup = project_setup(args.settings)
    except SettingError as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return EX_CONFIG
    walk = plan.walk_from(args, setup.default_start_url)
    parts = urlsplit(walk.start_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        print(f"backfill: --start-url must be an http(s) URL, not {walk.start_url!r}", file=sys.stderr)
        return EX_USAGE
    if args.status:
        return show_status(setup.state_dir / STATE_NAME)
    try:
        walk.max_age_hours(_utc_now())
        rate = plan.rate_settings(args.max_rate, setup.download_delay, setup.autothrottle_max_delay)
    except PlanError as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return EX_USAGE
    try:
        lock = DirectoryLock(setup.state_dir / LOCK_NAME)
    except BackfillBusy as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    except OSError as exc:
        print(f"backfill: cannot use {setup.state_dir}: {exc.strerror or exc}", file=sys.stderr)
        return EX_CONFIG
    try:
        return Backfill(args, setup, walk, rate).run()
    finally:
        lock.release()
