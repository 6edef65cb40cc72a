"""Helpers for watching runs: a real crawl history, the status page in Chromium, node_exporter.

A history is made by crawling one locally served copy of the sample site several times with
one seen store, the site regenerated between runs (``testsites.sample`` variants): new
stories, nothing new, and the layout changed under the crawler (the run fails). Each run is
a ``scrapy crawl`` subprocess with the metrics and the status page on, as ``settings.py``
lists them (``WATCHING_EXTENSIONS`` until it does).

``python -m tests.watching docs/status-page.png`` makes such a history and saves the README's
screenshot of its status page.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scrapy.utils.project import get_project_settings

from tests.crawling import ROOT, Crawl, crawl
from testsites import sample as sitegen
from wirecrawler.local.server import served

CHROMIUM = "/usr/bin/chromium"  # Debian's package, as the rendering tests use it
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"  # Debian's prometheus-node-exporter
PROMTOOL = "/usr/bin/promtool"  # Debian's prometheus

# The project's extensions with the metrics and the status page, as settings.py is to list them.
WATCHING_EXTENSIONS = {
    **get_project_settings().getdict("EXTENSIONS"),
    "wirecrawler.metrics.RunMetrics": 120,
    "wirecrawler.statuspage.StatusPage": 130,
}

# (site variant, what the run should do): the history the status page tests and the README show.
HISTORY = (
    ("base", "ok"),  # a first run: everything is new
    ("base", "ok"),  # nothing new since
    ("new-stories", "ok"),  # a few new stories on top
    ("renamed-classes", "failed"),  # the site's layout changed: no listing rows
    ("renamed-classes", "failed"),  # still changed
    ("new-stories", "ok"),  # fixed: nothing new since
)


def installed(tool: str) -> str:
    """*tool*'s path; a missing one fails the test, naming the Debian package (the Makefile installs it)."""
    package = {PROMTOOL: "prometheus", NODE_EXPORTER: "prometheus-node-exporter", CHROMIUM: "chromium"}[tool]
    assert os.access(tool, os.X_OK), f"{tool} is not installed: run `make system-deps` (Debian package {package})"
    return tool


def watching_args(metrics_dir: Path | None) -> list[str]:
    args = ["-s", f"EXTENSIONS={json.dumps(WATCHING_EXTENSIONS)}"]
    if metrics_dir is not None:
        args += ["-s", f"WIRECRAWLER_METRICS_DIR={metrics_dir}"]
    return args


@dataclass
class History:
    state: Path  # crawl()'s state: feeds in state/feeds, reports in state/feeds/reports
    metrics_dir: Path
    runs: list[Crawl]
    metrics_after: list[dict[str, str]]  # after each run: file name -> text of the metrics folder

    @property
    def reports_dir(self) -> Path:
        return self.state / "feeds" / "reports"

    @property
    def page(self) -> Path:
        return self.reports_dir / "index.html"


def crawl_history(root: Path, steps=HISTORY, *args: str) -> History:
    """Crawls a served copy of the sample site once per step, regenerating it between runs."""
    site, state, metrics = root / "site", root / "runs", root / "metrics"
    metrics.mkdir(parents=True)
    sitegen.generate(site, steps[0][0])
    runs, after = [], []
    with served(site) as url:
        for variant, _ in steps:
            sitegen.generate(site, variant)
            runs.append(crawl(url, state, *watching_args(metrics), *args))
            after.append({path.name: path.read_text() for path in sorted(metrics.iterdir())})
    return History(state, metrics, runs, after)


# --- Chromium


@contextmanager
def chromium_page(viewport=(1280, 900)):
    """A page in Debian's Chromium, headless, through Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=installed(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            yield page
        finally:
            browser.close()


def screenshot(page_file: Path, into: Path, width: int = 1280) -> Path:
    """A full-page PNG of *page_file* opened from disk."""
    with chromium_page((width, 900)) as page:
        page.goto(page_file.as_uri())
        page.screenshot(path=str(into), full_page=True)
    return into


# --- node_exporter


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def node_exporter(textfile_dir: Path, log: Path):
    """A real node_exporter on 127.0.0.1 with only the textfile collector; yields its metrics URL."""
    port = free_port()
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                installed(NODE_EXPORTER),
                "--collector.disable-defaults",
                "--collector.textfile",
                f"--collector.textfile.directory={textfile_dir}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/metrics"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    scrape(url)  # read whole: a response cut short is an error in its log
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(f"node_exporter did not start: {log.read_text()}") from None
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def main(argv: list[str]) -> int:
    import tempfile

    if len(argv) != 1:
        print("usage: python -m tests.watching OUT.png", file=sys.stderr)
        return 2
    out = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        history = crawl_history(Path(tmp))
        statuses = [run.returncode for run in history.runs]
        print(f"{len(statuses)} runs, exit statuses {statuses}")
        screenshot(history.page, out)
    print(f"{out}: {os.path.getsize(out)} bytes")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main(sys.argv[1:]))
