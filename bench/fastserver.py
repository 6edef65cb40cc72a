"""A fast static server for the benchmark site: every response prebuilt in memory, asyncio.

``wirecrawler.local.server`` reads a file and runs a Python thread per connection for every
request, which is fine for tests but would make the crawl benchmark measure the server. This
one answers the same URLs (``/nieuws/buitenland?page=N``, ``/nieuws/<slug>``, ``/robots.txt``)
with the same headers (the site's fixed ``Date``), from bytes prepared at start, over
HTTP/1.1 keep-alive. It counts the pages it served, so a benchmark can tie memory samples of
the crawler to its progress.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from wirecrawler.local.server import NOT_FOUND, ROBOTS_TXT

HTML = "text/html; charset=utf-8"


def _response(status: str, body: bytes, date: str, content_type: str = HTML) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nDate: {date}\r\nServer: nginx\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def site_responses(root: Path) -> dict[bytes, bytes]:
    """Request target -> the full response, for every page of the site in *root*."""
    date = (root / "REF").read_text(encoding="utf-8").strip()
    responses = {b"/robots.txt": _response("200 OK", ROBOTS_TXT, date, "text/plain")}
    for file in (root / "nieuws").glob("*.html"):
        name, _, page = file.stem.partition("@page=")
        target = f"/nieuws/{name}" + (f"?page={page}" if page else "")
        responses[target.encode("utf-8")] = _response("200 OK", file.read_bytes(), date)
    responses[b""] = _response("404 Not Found", NOT_FOUND, date)
    return responses


class _Connection(asyncio.Protocol):
    def __init__(self, server: FastSiteServer):
        self.server = server
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            request_line, _, headers = head.partition(b"\r\n")
            target = request_line.split(b" ")[1] if request_line.count(b" ") == 2 else b""
            self.transport.write(self.server.answer(target))
            if b"connection: close" in headers.lower():
                self.transport.close()
                return


class FastSiteServer:
    """Serves a site directory on 127.0.0.1 from a background thread: ``with FastSiteServer(dir) as url``."""

    def __init__(self, root: Path):
        self.responses = site_responses(Path(root))
        self.pages_served = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fastserver", daemon=True)

    def answer(self, target: bytes) -> bytes:
        response = self.responses.get(target)
        if response is None:
            return self.responses[b""]
        if target != b"/robots.txt":
            self.pages_served += 1
        return response

    def __enter__(self) -> str:
        server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Connection(self), "127.0.0.1", 0, backlog=256)
        )
        self._server = server
        self._thread.start()
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    def __exit__(self, *exc) -> None:
        async def close():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
