"""deploy/run-crawl as an operator meets it: who runs it, the ping URL, the log's one time zone.

The wrapper really runs, as a subprocess; the ownership tests run it as an unprivileged user
(``nobody``, through ``setpriv``) against folders a root run left behind, for real. The ping
tests point ``WIRECRAWLER_PING_URL`` at a server in this process (127.0.0.1) that records what
it is sent, or at one that refuses, fails or never answers.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.test_deploy import EX_CONFIG, FAST, WRAPPER, dead_port, runs, site_copy, start_url, wrapper_env
from wirecrawler.local.server import served

__all__ = ["runs"]  # the fixture, used here

USER = "nobody"  # an unprivileged user every Debian has
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="runs the wrapper as root and as another user")
ONE_PAGE = ["-a", "max_pages=1", *FAST]


# --- running as the service user, never as root -------------------------------------------------


@needs_root
def test_refuses_to_run_as_root_in_one_line_and_touches_nothing(tmp_path, runs):
    env = wrapper_env(tmp_path)
    del env["WIRECRAWLER_ALLOW_ROOT"]
    with PingRecorder() as pings:
        env["WIRECRAWLER_PING_URL"] = pings.url
        run = runs(env, "-a", "max_pages=1")
        assert run.wait(timeout=20) == EX_CONFIG
    (line,) = run.stderr.splitlines()
    assert re.fullmatch(
        r"\S+Z run-crawl\[\d+\]: refusing to run as root: run it as the service user, e\.g\. "
        rf"sudo -u wirecrawler {re.escape(str(WRAPPER))} \(or set WIRECRAWLER_ALLOW_ROOT=1 to run as root all the same\); "
        r"exiting 78",
        line,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no state, log or feeds made
    assert pings.requests == []  # it did nothing, like a refused overlap: nothing to report


def as_user(user: str, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The wrapper run as *user* (no supplementary groups), with *env*."""
    entry = pwd.getpwnam(user)
    return subprocess.run(
        ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", str(WRAPPER), *args],
        env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def python_for(user: str) -> tuple[str, dict[str, str]]:
    """A Python with the project's packages that *user* may run, and what its environment needs.

    The venv's own when the user can reach it; otherwise (here the venv's base interpreter lives
    under /root, which only root may enter) the system's Python of the same version, with the
    venv's packages on PYTHONPATH.
    """
    entry = pwd.getpwnam(user)
    reach = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "test", "-x"]
    if subprocess.run([*reach, sys.executable]).returncode == 0:
        return sys.executable, {}
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    assert subprocess.run([*reach, system]).returncode == 0, f"{user} can run neither {sys.executable} nor {system}"
    site_packages = next(p for p in sys.path if p.startswith(sys.prefix) and p.endswith("site-packages"))
    return system, {"PYTHONPATH": site_packages}


@pytest.fixture
def shared_dir():
    """A folder other users can enter (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="wirecrawler-owner-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@needs_root
def test_a_path_left_by_a_root_run_is_named_with_its_owner(shared_dir, runs):
    """One run by hand as root (allowed here) in a deployed layout; the service user's next run
    stops with 78 and names what root left and who owns it; after a chown it runs and publishes."""
    user = pwd.getpwnam(USER)
    state, feeds, log = shared_dir / "state", shared_dir / "feeds", shared_dir / "state" / "logs" / "crawl.log"
    for folder in (state, feeds):  # as deploy/README.md installs them: the service user's
        folder.mkdir(mode=0o750)
        os.chown(folder, user.pw_uid, user.pw_gid)
    env = {
        **wrapper_env(shared_dir),
        "WIRECRAWLER_STATE_DIR": str(state),
        "WIRECRAWLER_FEED_DIR": str(feeds),
        "WIRECRAWLER_LOG": str(log),
        "HOME": str(shared_dir),
    }
    with served(site_copy(shared_dir)) as base:
        by_root = runs(env, *start_url(base), *ONE_PAGE)
        assert by_root.wait() == 0, by_root.stderr + log.read_text()
        left_by_root = {p for p in [*state.rglob("*"), *feeds.iterdir()] if p.stat().st_uid == 0}
        assert {state / "seen.sqlite3", state / "run.lock", log, feeds / "publications.log"} <= left_by_root

        service_env = {k: v for k, v in env.items() if k != "WIRECRAWLER_ALLOW_ROOT"}
        log_before = log.read_text()
        refused = as_user(USER, service_env, *start_url(base), *ONE_PAGE)
        assert refused.returncode == EX_CONFIG, refused.stderr
        (line,) = refused.stderr.splitlines()
        named = re.fullmatch(
            rf"\S+Z run-crawl\[\d+\]: configuration error: (\S+) is owned by root, not by {USER} "
            r"\(the user running this\): chown it \(and (\d+) more such paths\); exiting 78",
            line,
        )
        assert named, line
        assert Path(named[1]) in left_by_root
        assert int(named[2]) >= 3
        assert log.read_text() == log_before  # nothing started: the line is on stderr (cron's mail, the journal)

        # chown, as the line says: the service user's next run goes through.
        subprocess.run(["chown", "-R", f"{USER}:", str(state), str(feeds)], check=True)
        python, extra_env = python_for(USER)
        reports_before = set((feeds / "reports").iterdir())
        fixed = as_user(USER, {**service_env, "WIRECRAWLER_PYTHON": python, **extra_env}, *start_url(base), *ONE_PAGE)
    assert fixed.returncode == 0, fixed.stderr + log.read_text()[-3000:]
    assert re.search(r"run-crawl\[\d+\]: crawl finished status=0 after \d+s$", log.read_text())
    (report,) = set((feeds / "reports").iterdir()) - reports_before  # the crawl ran, as the service user
    assert report.stat().st_uid == user.pw_uid


@needs_root
def test_an_unwritable_folder_to_make_things_in_is_named(shared_dir):
    """A state directory still to be made, in a folder of root's: named, with what to do."""
    env = {k: v for k, v in wrapper_env(shared_dir).items() if k != "WIRECRAWLER_ALLOW_ROOT"}
    env.update(WIRECRAWLER_STATE_DIR=str(shared_dir / "state"), WIRECRAWLER_LOG=str(shared_dir / "state" / "crawl.log"))
    env["WIRECRAWLER_FEED_DIR"] = str(shared_dir / "state" / "feeds")
    done = as_user(USER, env)
    assert done.returncode == EX_CONFIG
    (line,) = done.stderr.splitlines()
    assert (
        f"configuration error: cannot create {shared_dir / 'state'}: {shared_dir} is owned by root, not by {USER} "
        f"(the user running this): make it for {USER} (sudo install -d -o {USER} {shared_dir / 'state'})"
    ) in line
    assert list(shared_dir.iterdir()) == []

    # The service user's own folder, made read-only: said as such.
    user = pwd.getpwnam(USER)
    (shared_dir / "state").mkdir(mode=0o550)
    os.chown(shared_dir / "state", user.pw_uid, user.pw_gid)
    done = as_user(USER, env)
    assert done.returncode == EX_CONFIG
    assert (
        f"configuration error: {shared_dir / 'state'} is not writable by {USER}, its owner (mode dr-xr-x---): "
        "chmod u+w it"
    ) in done.stderr


# --- the ping URL ----------------------------------------------------------------------------------


class PingRecorder:
    """A ping endpoint on 127.0.0.1 that records the path of every request.

    *answer*: "ok" (200), "error" (500) or "hang" (accepts the connection, never answers).
    """

    def __init__(self, answer: str = "ok"):
        self.answer = answer
        self.requests: list[str] = []
        self.hanging: list[socket.socket] = []

    def __enter__(self) -> PingRecorder:
        if self.answer == "hang":
            self.socket = socket.create_server(("127.0.0.1", 0), backlog=16)  # never accepted
            port = self.socket.getsockname()[1]
        else:
            recorder = self

            class Handler(BaseHTTPRequestHandler):
                def do_GET(self):  # noqa: N802
                    recorder.requests.append(self.path)
                    status = 200 if recorder.answer == "ok" else 500
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"OK")

                def log_message(self, *args):
                    pass

            self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            threading.Thread(target=self.server.serve_forever, daemon=True).start()
            port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/ping/0f3c"
        return self

    def __exit__(self, *exc) -> None:
        if self.answer == "hang":
            self.socket.close()
        else:
            self.server.shutdown()
            self.server.server_close()


def crawl_seconds(run) -> int:
    """The crawl's own duration, from the wrapper's line about its end."""
    (seconds,) = [m[1] for line in run.lines() if (m := re.match(r"crawl finished status=0 after (\d+)s", line))]
    return int(seconds)


def test_ping_start_then_success(tmp_path, runs):
    with PingRecorder() as pings, served(site_copy(tmp_path)) as base:
        run = runs(wrapper_env(tmp_path, WIRECRAWLER_PING_URL=pings.url + "/"), *start_url(base), *ONE_PAGE)
        assert run.wait() == 0, run.stderr
    assert pings.requests == ["/ping/0f3c/start", "/ping/0f3c"]
    assert run.stderr == "" and not any(line.startswith("ping ") for line in run.lines())


def test_ping_failure_carries_the_exit_status(tmp_path, runs):
    with PingRecorder() as pings:
        env = wrapper_env(tmp_path, WIRECRAWLER_PING_URL=pings.url)
        run = runs(env, *start_url(f"http://127.0.0.1:{dead_port()}"), *FAST, "-s", "RETRY_TIMES=0")
        status = run.wait()
        assert status not in (0, EX_CONFIG)
        assert pings.requests == ["/ping/0f3c/start", f"/ping/0f3c/{status}"]

        # A configuration error is a failed run too: only its end is told (no crawl started).
        config = runs(wrapper_env(tmp_path, WIRECRAWLER_PING_URL=pings.url, WIRECRAWLER_TIME_LIMIT="9m"))
        assert config.wait(timeout=20) == EX_CONFIG
        assert pings.requests[2:] == ["/ping/0f3c/78"]

        # And without the crawl's Python, curl sends it.
        missing = runs(wrapper_env(tmp_path, WIRECRAWLER_PING_URL=pings.url, WIRECRAWLER_PYTHON="/nonexistent/python"))
        assert missing.wait(timeout=20) == EX_CONFIG
        assert pings.requests[3:] == ["/ping/0f3c/78"]


def test_a_bad_ping_setting_is_a_configuration_error(tmp_path, runs):
    run = runs(wrapper_env(tmp_path, WIRECRAWLER_PING_URL="hc-ping.com/0f3c"))
    assert run.wait(timeout=20) == EX_CONFIG
    assert "WIRECRAWLER_PING_URL must be an http:// or https:// URL, not 'hc-ping.com/0f3c'" in run.stderr


@pytest.mark.parametrize("answer", ["refused", "error", "hang"])
def test_a_dead_ping_endpoint_neither_fails_nor_holds_up_the_run(tmp_path, runs, answer):
    limit = 2
    with PingRecorder("error" if answer == "error" else "hang") as pings, served(site_copy(tmp_path)) as base:
        url = f"http://127.0.0.1:{dead_port()}/ping" if answer == "refused" else pings.url
        env = wrapper_env(tmp_path, WIRECRAWLER_PING_URL=url, WIRECRAWLER_PING_TIMEOUT=limit)
        run = runs(env, *start_url(base), *ONE_PAGE)
        assert run.wait() == 0, run.stderr + run.log.read_text()[-3000:]
    assert run.stderr == ""  # still silent on success: cron mails nothing
    # Two pings of at most `limit` seconds each (1 s more for `timeout` to kill one), beside the
    # crawl, the wrapper's own start, and a machine busy with other tests.
    assert run.elapsed < crawl_seconds(run) + 2 * (limit + 1) + 4
    failed = [line for line in run.lines() if line.startswith("ping ")]
    assert [line.split(" failed (")[0] for line in failed] == ["ping start", "ping success"]
    assert all(line.endswith("; the run is not affected") for line in failed)
    if answer == "hang":
        assert all(f"(no answer within {limit}s)" in line for line in failed)
    if answer == "error":  # retried, a little: at most 3 tries a ping
        assert 2 <= len(pings.requests) <= 6
        assert set(pings.requests) == {"/ping/0f3c/start", "/ping/0f3c"}
        assert "HTTP Error 500" in failed[0]


# --- one time zone in the log ----------------------------------------------------------------------

STAMP = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S*) ")


def test_the_whole_log_is_in_utc_whatever_the_machines_zone(tmp_path, runs):
    """Scrapy's lines and the wrapper's, read from a real run's log, in one format and zone."""
    before = datetime.now(UTC).replace(microsecond=0)
    env = wrapper_env(tmp_path, TZ="Asia/Kathmandu")  # +05:45: local time would show
    with served(site_copy(tmp_path)) as base:
        run = runs(env, *start_url(base), *ONE_PAGE)
        assert run.wait() == 0, run.stderr
    after = datetime.now(UTC)
    lines = run.log.read_text().splitlines()
    stamped = [(m[1], line) for line in lines if (m := STAMP.match(line))]
    assert len(stamped) > 10
    assert any(" run-crawl[" in line for _, line in stamped) and any(" [scrapy." in line for _, line in stamped)
    for stamp, line in stamped:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp), line
        when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert before - timedelta(seconds=1) <= when <= after, line
