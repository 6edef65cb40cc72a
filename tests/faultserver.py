"""A local copy of the site that misbehaves on purpose, path by path.

It serves a site directory as ``wirecrawler.local.server`` does (same URL scheme, the ``Date`` of
``SITEDIR/REF``), but a test gives any path a script of faults, used up one request at a time:
``{"/nieuws/x": [Status(500), Status(502)]}`` answers 500, then 502, then the page. A fault
with ``times=None`` spoils every request. It runs in a thread of the test process, so the test
reads back what the crawler asked, in order, with the headers that matter, and how many
requests it held at once (``max_in_flight``): a request counts from its arrival until the
answer starts, or the crawler hangs up, so an answer the crawler already has never counts.
"""

from __future__ import annotations

import select
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from wirecrawler.local.server import NOT_FOUND, page_file

ALLOW_ALL = "User-agent: *\nAllow: /\n"


@dataclass(kw_only=True)
class Fault:
    times: int | None = 1  # requests in a row it spoils; None: every one


@dataclass(kw_only=True)
class Status(Fault):
    """An error status instead of the page, with extra headers (``Retry-After``)."""

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class Stall(Fault):
    """The page, but only after *seconds*: past the crawler's download timeout."""

    seconds: float


@dataclass(kw_only=True)
class Trickle(Fault):
    """The page a few bytes at a time, *interval* seconds apart: each byte is prompt, the whole is not."""

    interval: float
    chunk: int = 64


@dataclass(kw_only=True)
class Reset(Fault):
    """Headers promising the whole page, half of it, then a TCP reset."""


@dataclass(kw_only=True)
class Redirect(Fault):
    """A redirect; ``{base}`` and ``{port}`` in *location* are this server's base URL and port."""

    location: str
    status: int = 302


@dataclass(kw_only=True)
class Stream(Fault):
    """*size* bytes of markup with no Content-Length: the body ends when the connection does."""

    size: int


@dataclass(kw_only=True)
class Header(Fault):
    """The page with one header replaced; *value* None leaves the header out."""

    name: str
    value: str | None


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it; *outcome* is the status sent, or what happened instead."""

    outcome: str
    path: str
    user_agent: str

    def __str__(self) -> str:
        return f"{self.outcome} {self.path}"


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, faults: dict[str, Sequence[Fault]], robots: str, delay: float):
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.root = Path(root)
        self.delay = delay  # seconds every page waits before its answer, so that requests overlap
        self.date = (self.root / "REF").read_text(encoding="utf-8").strip()
        self.robots = robots.encode()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.stopping = threading.Event()
        self.hits: list[Hit] = []
        self.in_flight = self.max_in_flight = 0
        self._faults = {path: [(fault, fault.times) for fault in script] for path, script in faults.items()}
        self._lock = threading.Lock()

    def next_fault(self, path: str) -> Fault | None:
        with self._lock:
            script = self._faults.get(path, [])
            for index, (fault, left) in enumerate(script):
                if left is None:
                    return fault
                if left > 0:
                    script[index] = (fault, left - 1)
                    return fault
            return None

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def entered(self, change: int) -> None:
        with self._lock:
            self.in_flight += change
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def requested(self) -> list[str]:
        """Every request so far, in order: "200 /nieuws/buitenland", "reset /nieuws/x" ..."""
        with self._lock:
            return [str(hit) for hit in self.hits]

    def handle_error(self, request, client_address) -> None:
        # A crawler hanging up on a stalled or oversized page is what the faults are for; any
        # other error is a bug of this server, and is printed.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.entered(+1)
        self._counted = True
        try:
            self._answer()
        except OSError:  # the crawler hung up (download timeout, size cap): nothing to answer
            self.close_connection = True
        finally:
            self._answered()

    def _answered(self) -> None:
        if self._counted:
            self._counted = False
            self.server.entered(-1)

    def _wait(self, seconds: float) -> bool:
        """Waits *seconds*; False as soon as the crawler hangs up (or the server stops)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and not self.server.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if readable and self._hung_up():
                return False
            if readable:  # data, not an end: nothing to wait on but time
                self.server.stopping.wait(min(left, 0.05))
        return not self.server.stopping.is_set()

    def _hung_up(self) -> bool:
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _gone(self) -> None:
        self.server.record(Hit("hung up", self.path, self.headers.get("User-Agent", "")))
        self.close_connection = True

    def _answer(self) -> None:
        if urlsplit(self.path).path == "/robots.txt":
            self._send(200, self.server.robots, {"Content-Type": "text/plain"})
            return
        if not self._wait(self.server.delay):
            self._gone()
            return
        fault = self.server.next_fault(self.path)
        file = page_file(self.server.root, self.path)
        body = file.read_bytes() if file else NOT_FOUND
        status = 200 if file else 404
        match fault:
            case Status():
                self._send(fault.status, f"<html><body>{fault.status}</body></html>".encode(), fault.headers)
            case Redirect():
                location = fault.location.format(base=self.server.url, port=self.server.server_address[1])
                self._send(fault.status, b"", {"Location": location})
            case Header():
                self._send(status, body, {fault.name: fault.value})
            case Stall():
                if self._wait(fault.seconds):
                    self._send(status, body)
                else:
                    self._gone()
            case Trickle():
                self._start(status, len(body), {})
                for start in range(0, len(body), fault.chunk):
                    if not self._wait(fault.interval):
                        break
                    self.wfile.write(body[start : start + fault.chunk])
                    self.wfile.flush()
            case Reset():
                self._start(status, len(body), {})
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self._reset()
            case Stream():
                self._stream(fault.size)
            case _:
                self._send(status, body)

    def _start(self, status: int, length: int | None, headers: dict[str, str | None]) -> None:
        self._answered()
        self.server.record(Hit(str(status), self.path, self.headers.get("User-Agent", "")))
        merged = {"Date": self.server.date, "Server": "nginx", "Content-Type": "text/html; charset=utf-8"}
        if length is not None:
            merged["Content-Length"] = str(length)
        merged.update(headers)
        self.send_response_only(status)
        for name, value in merged.items():
            if value is not None:
                self.send_header(name, value)
        self.end_headers()

    def _send(self, status: int, body: bytes, headers: dict[str, str | None] | None = None) -> None:
        self._start(status, len(body), headers or {})
        self.wfile.write(body)

    def _stream(self, size: int) -> None:
        self._start(200, None, {"Connection": "close"})
        self.close_connection = True
        block = b"<p>" + b"x" * 65_530 + b"</p>"
        sent = 0
        while sent < size and not self.server.stopping.is_set():
            self.wfile.write(block)
            sent += len(block)

    def _reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), not a clean end: what a crashed upstream does."""
        self.server.record(Hit("reset", self.path, self.headers.get("User-Agent", "")))
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:  # the socket was reset on purpose, or the crawler hung up
            pass

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        pass


@contextmanager
def serving(
    site: Path, faults: dict[str, Sequence[Fault]] | None = None, robots: str = ALLOW_ALL, delay: float = 0.0
) -> Iterator[FaultServer]:
    """Serves *site* with *faults* in a thread until the block ends."""
    server = FaultServer(site, faults or {}, robots, delay)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
