"""A small HTTP server for a saved copy of the site, as the portal would serve it.

Used by the demo, the tests and the benchmarks (in this process, or in its own with ``served``): every crawl here runs against it, never
against the live site. The URL scheme follows the portal:
``/nieuws/buitenland?page=N`` is ``nieuws/buitenland@page=N.html`` and ``/nieuws/<slug>``
is ``nieuws/<slug>.html``. ``SITEDIR/REF`` holds the fixed HTTP ``Date`` value;
``SITEDIR/DELAY`` (seconds, optional) slows every page response. With an access log, every
request is appended to it as one line, "STATUS PATH", so tests can see what a crawl fetched.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# Where `python -m wirecrawler` and `scrapy crawl` run from: the checkout, with scrapy.cfg.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
NOT_FOUND = b"<html><body>Niet gevonden</body></html>"


def page_file(root: Path, raw_path: str) -> Path | None:
    """The file that serves *raw_path* (path and query), or None when there is none."""
    url = urlsplit(raw_path)
    name = url.path.strip("/")
    page = parse_qs(url.query).get("page", ["1"])[0]
    if page != "1":
        name += f"@page={page}"
    if not name or ".." in name.split("/"):
        return None
    file = root / f"{name}.html"
    return file if file.is_file() else None


class AccessLog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock, self.path.open("a", encoding="utf-8") as log:
            log.write(line + "\n")


class SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args, root: Path, date: str, delay: float, access_log: AccessLog | None, **kwargs):
        self.root, self.date, self.delay, self.access_log = root, date, delay, access_log
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if urlsplit(self.path).path == "/robots.txt":
            self.send(200, ROBOTS_TXT, "text/plain")
            return
        file = page_file(self.root, self.path)
        if file is None:
            self.send(404, NOT_FOUND)
            return
        if self.delay:
            time.sleep(self.delay)
        self.send(200, file.read_bytes())

    def send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8") -> None:
        if self.access_log is not None:
            self.access_log.write(f"{status} {self.path}")
        self.send_response_only(status)
        self.send_header("Date", self.date)
        self.send_header("Server", "nginx")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        pass


def make_server(
    root: Path, port: int = 0, host: str = "127.0.0.1", access_log: Path | None = None
) -> ThreadingHTTPServer:
    """A server for the site in *root*; ``server.server_address[1]`` is its port."""
    root = Path(root)
    date = (root / "REF").read_text(encoding="utf-8").strip()
    delay_file = root / "DELAY"
    delay = float(delay_file.read_text()) if delay_file.exists() else 0.0
    log = AccessLog(access_log) if access_log else None
    handler = partial(SiteHandler, root=root, date=date, delay=delay, access_log=log)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


class Served(str):
    """A served site's base URL, with the server's access log."""

    access_log: Path

    def requested(self) -> list[str]:
        """The paths requested so far, in order, each with its status: "200 /nieuws/buitenland"."""
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []


@contextmanager
def served(site: Path, access_log: Path | None = None):
    """Serves *site* with ``python -m wirecrawler serve``; yields its base URL as a ``Served``."""
    access_log = access_log or Path(tempfile.mkdtemp()) / "access.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "wirecrawler", "serve", str(site), "--access-log", str(access_log)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        url = Served(f"http://127.0.0.1:{port}")
        url.access_log = access_log
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
