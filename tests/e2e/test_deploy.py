"""The deployment files in deploy/: the wrapper really run, the schedules really parsed.

The wrapper tests run ``deploy/run-crawl`` as a subprocess, with its state and log in
tmp_path and the crawl pointed at a local copy of the sample site; a ``DELAY`` file in
that copy makes the crawl as slow as a test needs. They look at processes through /proc
(Linux only, like the wrapper's flock and timeout).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from croniter import croniter

from tests.crawling import ROOT, SAMPLE_SITE, copy_site
from wirecrawler.local.server import served

DEPLOY = ROOT / "deploy"
WRAPPER = DEPLOY / "run-crawl"
INSTALL_PATH = "/opt/wirecrawler"  # the placeholder install path in every deploy file

EX_TEMPFAIL, EX_CONFIG, EX_TIMEOUT = 75, 78, 124
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


# --- helpers ----------------------------------------------------------------------------


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgrp) of a live process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
    return state, int(ppid), int(pgrp)


def all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def in_group(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group *pgid*."""
    return [pid for pid in all_pids() if (s := proc_stat(pid)) and s[2] == pgid and s[0] != "Z"]


def children(pid: int) -> list[int]:
    return [p for p in all_pids() if (s := proc_stat(p)) and s[1] == pid and s[0] != "Z"]


def lock_holders(lock: Path) -> set[int]:
    """Processes with *lock* open (the flock lives as long as one of them keeps it)."""
    holders = set()
    for pid in all_pids():
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == str(lock):
                    holders.add(pid)
            except OSError:
                pass
    return holders


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Run:
    """One ``deploy/run-crawl`` subprocess."""

    def __init__(self, env: dict[str, str], args: list[str], wrapper: Path = WRAPPER):
        self.log = Path(env["WIRECRAWLER_LOG"])
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(wrapper), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.pid = self.proc.pid
        self.returncode: int | None = None
        self.stdout = self.stderr = ""
        self.elapsed = 0.0

    def wait(self, timeout: float = 60) -> int:
        self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        self.returncode = self.proc.returncode
        self.elapsed = time.monotonic() - self.started
        return self.returncode

    def lines(self) -> list[str]:
        """This wrapper's own log lines (without timestamp and tag)."""
        tag = f" run-crawl[{self.pid}]: "
        text = self.log.read_text() if self.log.exists() else ""
        return [line.split(tag, 1)[1] for line in text.splitlines() if tag in line]

    def crawl_pid(self, timeout: float = 10) -> int:
        """The pid of ``timeout``, leader of the crawl's process group, once started."""

        def started():
            for line in self.lines():
                if m := re.match(r"crawl started pid=(\d+)", line):
                    return int(m.group(1))
            return None

        return wait_for(started, timeout, f"run-crawl[{self.pid}] to start the crawl")


@pytest.fixture
def runs():
    """Starts wrappers; at the end kills whatever is left of them and of their crawls."""
    started: list[Run] = []

    def start(env, *args, **kwargs) -> Run:
        run = Run(env, list(args), **kwargs)
        started.append(run)
        return run

    yield start
    for run in started:
        groups = {run.pid}
        for line in run.lines():
            if m := re.match(r"crawl started pid=(\d+)", line):
                groups.add(int(m.group(1)))
        for pgid in groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if run.returncode is None:
            run.wait(timeout=10)


def wrapper_env(tmp_path: Path, **overrides: str | int) -> dict[str, str]:
    """The wrapper's environment for a run in *tmp_path*. The tests run as root, which the
    wrapper refuses unless told (tests/e2e/test_wrapper_operator.py runs it as another user)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRECRAWLER_")}
    if os.geteuid() == 0:
        env["WIRECRAWLER_ALLOW_ROOT"] = "1"
    env.update(
        WIRECRAWLER_PYTHON=sys.executable,
        WIRECRAWLER_STATE_DIR=str(tmp_path / "state"),
        WIRECRAWLER_FEED_DIR=str(tmp_path / "feeds"),
        WIRECRAWLER_LOG=str(tmp_path / "logs" / "crawl.log"),
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def site_copy(tmp_path: Path, delay: float | None = None) -> Path:
    assert (SAMPLE_SITE / "REF").is_file(), f"the sample site is missing: {SAMPLE_SITE}"
    site = copy_site(SAMPLE_SITE, tmp_path / "site")
    if delay is not None:
        (site / "DELAY").write_text(f"{delay}\n")
    return site


def start_url(base: str) -> list[str]:
    return ["-a", f"start_url={base}/nieuws/buitenland"]


# --- the wrapper ------------------------------------------------------------------------


def test_normal_run_exits_zero_logs_and_writes_feeds(tmp_path, runs):
    env = wrapper_env(tmp_path)
    link = tmp_path / "bin" / "run-crawl"  # as installed into a PATH directory
    link.parent.mkdir()
    link.symlink_to(WRAPPER)
    with served(site_copy(tmp_path)) as base:
        run = runs(env, *start_url(base), "-a", "max_pages=1", *FAST, wrapper=link)
        assert run.wait() == 0, run.stderr + run.log.read_text()
    lines = run.lines()
    assert lines[0].startswith(f"start home={ROOT} state={tmp_path / 'state'} time_limit=540s")
    assert re.fullmatch(r"crawl finished status=0 after \d+s", lines[-1])
    assert run.stderr == ""  # silent on success: cron mails nothing
    log = run.log.read_text()
    assert "[scrapy.core.engine] INFO: Spider closed (finished)" in log  # the crawl's output is appended
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ run-crawl\[\d+\]: start ", log, re.M)
    feeds = list((tmp_path / "feeds").rglob("*.jsonl"))
    assert feeds and all(f.stat().st_size > 0 for f in feeds)
    assert (tmp_path / "state" / "run.lock").is_file()
    assert lock_holders(tmp_path / "state" / "run.lock") == set()


def test_failed_crawl_status_is_passed_through(tmp_path, runs):
    args = [*start_url(f"http://127.0.0.1:{dead_port()}"), *FAST, "-s", "RETRY_TIMES=0"]
    direct = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "buitenland", *args,
         "-s", f"WIRECRAWLER_STATE_DIR={tmp_path / 'direct'}", "-s", f"WIRECRAWLER_FEED_DIR={tmp_path / 'direct'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert direct.returncode not in (0, EX_TEMPFAIL, EX_CONFIG, EX_TIMEOUT), direct.stderr

    run = runs(wrapper_env(tmp_path), *args)
    assert run.wait() == direct.returncode
    assert re.fullmatch(rf"crawl failed status={direct.returncode} after \d+s; exiting {direct.returncode}", run.lines()[-1])
    assert f"crawl failed status={direct.returncode}" in run.stderr


def test_second_run_is_refused_at_once_while_the_first_runs(tmp_path, runs):
    env = wrapper_env(tmp_path, WIRECRAWLER_TIME_LIMIT=60, WIRECRAWLER_KILL_AFTER=5)
    with served(site_copy(tmp_path, delay=1.5)) as base:
        first = runs(env, *start_url(base), *FAST)
        first.crawl_pid()  # the first run holds the lock and its crawl is running
        second = runs(env, *start_url(base), *FAST)
        assert second.wait(timeout=10) == EX_TEMPFAIL
        assert second.elapsed < 3
        refusal = (
            f"another run is still in progress (lock {tmp_path / 'state' / 'run.lock'} held, "
            f"started by pid {first.pid}): not starting; exiting 75"
        )
        assert second.lines() == [refusal]  # one line, and no crawl started
        assert second.stderr.strip().endswith(refusal)
        assert first.proc.poll() is None  # the refused run left the first one alone

        # Stopping the wrapper (systemctl stop, kill) stops the crawl through it, gracefully.
        wait_for(lambda: "Spider opened" in first.log.read_text(), 20, "the crawl to open the spider")
        first.proc.send_signal(signal.SIGTERM)
        status = first.wait(timeout=20)
    assert status not in (EX_TEMPFAIL, EX_TIMEOUT)  # the crawl's own status: how it judged the stop
    assert first.lines()[-2].startswith("received SIGTERM: stopping the crawl")
    assert first.lines()[-1].endswith("(stopped by SIGTERM)" if status == 0 else f"(stopped by SIGTERM); exiting {status}")
    assert "Received SIGTERM, shutting down gracefully" in first.log.read_text()
    assert "forcing unclean shutdown" not in first.log.read_text()  # it got one SIGTERM, not two


def test_time_limit_stops_a_slow_crawl_with_sigterm(tmp_path, runs):
    # The limit leaves the crawl time to start (and set its signal handlers) even on a
    # busy machine; at 1 s a page the whole site takes far longer.
    env = wrapper_env(tmp_path, WIRECRAWLER_TIME_LIMIT=4, WIRECRAWLER_KILL_AFTER=15)
    with served(site_copy(tmp_path, delay=1)) as base:
        run = runs(env, *start_url(base), *FAST)
        group = run.crawl_pid()
        assert run.wait(timeout=30) == EX_TIMEOUT
    assert 4 <= run.elapsed < 4 + 15  # stopped gracefully, well before SIGKILL was due
    assert re.fullmatch(r"time limit of 4s hit: crawl stopped with SIGTERM after \d+s; exiting 124", run.lines()[-1])
    assert "time limit of 4s hit" in run.stderr
    log = run.log.read_text()
    assert "Received SIGTERM, shutting down gracefully" in log
    assert "forcing unclean shutdown" not in log  # one SIGTERM, not two
    # nothing of the crawl is left running
    wait_for(lambda: not in_group(group), 5, f"process group {group} to end")


def test_time_limit_kills_a_crawl_that_does_not_stop(tmp_path, runs):
    # Scrapy's graceful stop waits for the requests in flight; at 30 s a page, too long.
    env = wrapper_env(tmp_path, WIRECRAWLER_TIME_LIMIT=5, WIRECRAWLER_KILL_AFTER=1)
    with served(site_copy(tmp_path, delay=30)) as base:
        run = runs(env, *start_url(base), *FAST, "-s", "DOWNLOAD_TIMEOUT=60")
        group = run.crawl_pid()
        assert run.wait(timeout=30) == EX_TIMEOUT
        assert run.elapsed < 15
    assert re.fullmatch(
        r"time limit of 5s hit: crawl did not stop within 1s of SIGTERM and was killed \(SIGKILL\) "
        r"after \d+s; exiting 124",
        run.lines()[-1],
    ), run.log.read_text()
    assert "Received SIGTERM, shutting down gracefully" in run.log.read_text()  # it was asked first
    wait_for(lambda: not in_group(group), 5, f"process group {group} to end")


def test_lock_outlives_a_killed_wrapper_until_its_crawl_is_gone(tmp_path, runs):
    """kill -9 of the wrapper: its crawl keeps the lock, and gives it up when it ends.

    The lock's descriptor is inherited by ``timeout`` and the crawl (by design, see
    run-crawl's header): an orphaned crawl is still a run, so the next one must wait.
    """
    lock = tmp_path / "state" / "run.lock"
    env = wrapper_env(tmp_path, WIRECRAWLER_TIME_LIMIT=60, WIRECRAWLER_KILL_AFTER=5)
    with served(site_copy(tmp_path, delay=1.5)) as base:
        first = runs(env, *start_url(base), *FAST)
        group = first.crawl_pid()
        (crawl,) = wait_for(lambda: children(group), 10, "the crawl process")
        assert {first.pid, group, crawl} <= lock_holders(lock)

        first.proc.kill()
        assert first.wait(timeout=5) == -signal.SIGKILL
        assert lock_holders(lock) == {group, crawl}  # the orphaned run still holds it

        second = runs(env, *start_url(base), *FAST)
        assert second.wait(timeout=10) == EX_TEMPFAIL
        assert "another run is still in progress" in second.lines()[0]

        os.kill(group, signal.SIGTERM)  # end the orphaned run (timeout passes it on)
        wait_for(lambda: not in_group(group), 20, "the orphaned crawl to end")
        assert lock_holders(lock) == set()

    third = runs(env, *start_url(f"http://127.0.0.1:{dead_port()}"), *FAST, "-s", "RETRY_TIMES=0")
    status = third.wait()
    assert third.lines()[0].startswith("start ")  # it got the lock
    assert status not in (0, EX_TEMPFAIL)  # and ran: the dead port failed the crawl


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"WIRECRAWLER_TIME_LIMIT": "9m"}, "WIRECRAWLER_TIME_LIMIT must be a whole number of seconds, not '9m'"),
        ({"WIRECRAWLER_KILL_AFTER": "0"}, "WIRECRAWLER_KILL_AFTER must be a whole number of seconds, not '0'"),
        ({"WIRECRAWLER_PYTHON": "/nonexistent/python"}, "no Python interpreter at /nonexistent/python (set WIRECRAWLER_PYTHON)"),
    ],
)
def test_bad_configuration_exits_78(tmp_path, runs, setting, message):
    run = runs(wrapper_env(tmp_path, **setting))
    assert run.wait(timeout=10) == EX_CONFIG
    assert run.lines() == [f"configuration error: {message}; exiting 78"]
    assert message in run.stderr


# --- cron -------------------------------------------------------------------------------


def crontab_entries() -> list[list[str]]:
    entries = []
    for line in (DEPLOY / "crontab").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", line):
            continue  # comments and environment settings (MAILTO=...)
        entries.append(line.split(None, 5))
    return entries


def test_crontab_runs_the_wrapper_every_ten_minutes():
    (entry,) = crontab_entries()
    schedule, command = " ".join(entry[:5]), entry[5]
    assert croniter.is_valid(schedule)
    assert schedule == "*/10 * * * *"

    runs = croniter(schedule, datetime(2026, 11, 26, 10, 3, 17))
    assert [runs.get_next(datetime) for _ in range(3)] == [
        datetime(2026, 11, 26, 10, 10),
        datetime(2026, 11, 26, 10, 20),
        datetime(2026, 11, 26, 10, 30),
    ]
    runs = croniter(schedule, datetime(2026, 12, 31, 23, 50))  # on the dot: the next one
    assert [runs.get_next(datetime) for _ in range(3)] == [
        datetime(2027, 1, 1, 0, 0),
        datetime(2027, 1, 1, 0, 10),
        datetime(2027, 1, 1, 0, 20),
    ]

    # The command is the wrapper alone: the lock, the time limit and the log are its own.
    assert command == f"{INSTALL_PATH}/deploy/run-crawl"
    installed = Path(command.replace(INSTALL_PATH, str(ROOT)))
    assert installed == WRAPPER and os.access(installed, os.X_OK)


# --- systemd ----------------------------------------------------------------------------

SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"


def render_units(into: Path, **replace: str) -> Path:
    """The units with the install path replaced by this checkout (verify checks ExecStart)."""
    into.mkdir()
    for name in ("wirecrawler.service", "wirecrawler.timer"):
        text = (DEPLOY / name).read_text().replace(INSTALL_PATH, str(ROOT))
        for old, new in replace.items():
            assert old in text or name.endswith(".timer")
            text = text.replace(old, new)
        (into / name).write_text(text)
    return into


def verify(*units: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *map(str, units)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )  # fmt: skip


def unit_settings(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#")
    )


def test_systemd_units_verify(tmp_path):
    units = render_units(tmp_path / "units")
    done = verify(units / "wirecrawler.service", units / "wirecrawler.timer")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""  # unknown keys and bad values only warn: none

    service = unit_settings(units / "wirecrawler.service")
    assert service["Type"] == "oneshot"
    assert service["ExecStart"] == str(WRAPPER)
    assert service["WorkingDirectory"] == str(ROOT)
    assert service["User"] == "wirecrawler"
    assert service["KillMode"] == "mixed"  # SIGTERM to the wrapper only: the crawl gets one, not two
    # systemd's limit is a backstop above the wrapper's own (540 s, then 30 s to SIGKILL).
    wrapper = WRAPPER.read_text()
    limit = int(re.search(r"WIRECRAWLER_TIME_LIMIT:-(\d+)", wrapper).group(1))
    grace = int(re.search(r"WIRECRAWLER_KILL_AFTER:-(\d+)", wrapper).group(1))
    assert limit + grace < int(service["TimeoutStartSec"]) <= 600
    assert limit < 600  # under the 10-minute period

    timer = unit_settings(units / "wirecrawler.timer")  # verify does not check these
    assert timer["Unit"] == "wirecrawler.service"
    assert timer["Persistent"] == "true"
    assert timer["WantedBy"] == "timers.target"


def test_systemd_timer_fires_every_ten_minutes():
    timer = unit_settings(DEPLOY / "wirecrawler.timer")
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "calendar", "--iterations=3", "--base-time=2026-11-26 10:03:17 UTC", timer["OnCalendar"]],
        capture_output=True, text=True, timeout=60, env={**os.environ, "TZ": "UTC", "SYSTEMD_LOG_COLOR": "0"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    elapses = re.findall(r"(?:Next elapse|Iter\. #\d): \w+ (\S+ \S+) UTC", done.stdout)
    assert elapses == ["2026-11-26 10:10:00", "2026-11-26 10:20:00", "2026-11-26 10:30:00"]


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("ExecStart=" + str(WRAPPER), "ExecStart=/nonexistent/run-crawl", "is not executable"),
        ("ProtectSystem=strict", "ProtectSystem=strickt", "Failed to parse"),
        ("Type=oneshot", "Typ=oneshot", "Unknown key"),
    ],
)
def test_systemd_verify_catches_a_broken_unit(tmp_path, old, new, complaint):
    units = render_units(tmp_path / "units", **{old: new})
    done = verify(units / "wirecrawler.service", units / "wirecrawler.timer")
    assert done.returncode != 0 or done.stderr  # either counts as a failure in the test above
    assert complaint in done.stderr


# --- logrotate --------------------------------------------------------------------------


def test_logrotate_config(tmp_path, runs):
    text = (DEPLOY / "logrotate.conf").read_text()
    log_path = f"{INSTALL_PATH}/.wirecrawler/logs/crawl.log"
    assert f"\n{log_path} {{\n" in text  # the wrapper's default log in the default install
    directives = {line.split()[0] for line in text.split("{", 1)[1].splitlines() if line.strip() and not line.strip().startswith(("#", "}"))}
    assert {"daily", "maxsize", "rotate", "compress", "delaycompress", "missingok", "create"} <= directives
    assert "copytruncate" not in directives

    # `make test` installs logrotate (Makefile: system-deps); a missing one fails here.
    logrotate = shutil.which("logrotate", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    assert logrotate is not None, "logrotate is not installed: run `make system-deps`"
    # A real forced rotation, the paths and the user made this machine's.
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True, check=True).stdout.strip()
    log = tmp_path / "logs" / "crawl.log"
    log.parent.mkdir(mode=0o750)
    log.write_text("an earlier run\n")
    conf = tmp_path / "logrotate.conf"
    conf.write_text(text.replace(log_path, str(log)).replace("wirecrawler wirecrawler", f"{user} {group}"))
    done = subprocess.run(
        [logrotate, "--force", "--state", str(tmp_path / "logrotate.state"), str(conf)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "logs" / "crawl.log.1").read_text() == "an earlier run\n"  # delaycompress
    assert log.read_text() == ""  # create: a new, empty log

    run = runs(wrapper_env(tmp_path, WIRECRAWLER_TIME_LIMIT="x"))  # the wrapper appends to it
    assert run.wait(timeout=10) == EX_CONFIG
    assert len(log.read_text().splitlines()) == 1
