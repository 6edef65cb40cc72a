"""``python -m wirecrawler demo``: the scheduled job, run twice on a bundled offline site.

Serves the site locally (fixed ``Date``), runs ``scrapy crawl buitenland`` against it, says
where the feeds went and what they hold, then runs again to show that a run with nothing new
publishes nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from wirecrawler.local.server import PROJECT_ROOT, make_server
from wirecrawler.store.publog import PublicationLog


def local_crawl_command(base_url: str, state_dir: Path, feed_dir: Path, *extra: str) -> list[str]:
    """``scrapy crawl buitenland`` against a locally served site, with its own state and feeds.

    No politeness delay: the server is this machine's own. The demo, the end-to-end tests and
    the benchmarks all crawl this way.
    """
    return [
        sys.executable, "-m", "scrapy", "crawl", "buitenland",
        "-a", f"start_url={base_url}/nieuws/buitenland",
        "-s", f"WIRECRAWLER_STATE_DIR={state_dir}",
        "-s", f"WIRECRAWLER_FEED_DIR={feed_dir}",
        "-s", "DOWNLOAD_DELAY=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        *extra,
    ]  # fmt: skip


def _crawl(base_url: str, out: Path, log: Path) -> tuple[int, float]:
    command = local_crawl_command(base_url, out / "state", out / "feeds")
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as log_file:
        status = subprocess.run(command, cwd=PROJECT_ROOT, stdout=log_file, stderr=subprocess.STDOUT).returncode
    return status, time.monotonic() - started


def _feed_files(feeds: Path) -> set[Path]:
    return set(feeds.rglob("*.jsonl")) if feeds.exists() else set()


def _lines(path: Path) -> int:
    with path.open(encoding="utf-8") as feed:
        return sum(1 for line in feed if line.strip())


# The demo's own folder: a marker file, written when the demo makes (or takes) the folder, and
# the entries it writes there. Only a folder with the marker is cleaned for a new demo, and then
# only of these entries: whatever else is in it stays.
MARKER = ".wirecrawler-demo"
MARKER_TEXT = (
    "This folder holds the output of `python -m wirecrawler demo`, which empties it of its own\n"
    "entries (state/, feeds/, crawl-1.log, crawl-2.log) on every run and leaves the rest alone.\n"
    "Without this file, the demo refuses to write here.\n"
)
OWN_ENTRIES = ("state", "feeds", "crawl-1.log", "crawl-2.log")


class NotDemoFolder(Exception):
    """--out names something the demo may not write into: said in one line."""


def prepare_out(out: Path) -> None:
    """Makes *out* the demo's folder (``prepare_demo_folder``). A demo from before the marker
    left exactly its own entries, its first log among them: that folder is the demo's too."""
    prepare_demo_folder(
        out, MARKER, MARKER_TEXT, OWN_ENTRIES, "the demo",
        older_demo=lambda names: "crawl-1.log" in names and set(names) <= set(OWN_ENTRIES),
    )  # fmt: skip


def prepare_demo_folder(
    out: Path, marker: str, marker_text: str, own_entries: tuple[str, ...], made_by: str,
    *, older_demo=lambda names: False,
) -> None:  # fmt: skip
    """Makes *out* a demo's folder, empty of the demo's entries; refuses anyone else's.

    A missing or empty folder becomes the demo's (the *marker* is written); a folder with the
    marker, or whose entries *older_demo* accepts, has the demo's own entries removed; anything
    else is refused (``NotDemoFolder``). Nothing outside *own_entries* is ever deleted, and an
    entry that is a symbolic link is removed, not followed.
    """
    if out.exists() and not out.is_dir():
        raise NotDemoFolder(f"{out} is not a folder")
    if out.is_dir() and not (out / marker).is_file():
        foreign = sorted(entry.name for entry in out.iterdir())
        if foreign and not older_demo(foreign):
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise NotDemoFolder(
                f"{out} is not empty ({shown}) and {made_by} did not make it (no {marker} in it): "
                "name a new or empty folder with --out"
            )
    out.mkdir(parents=True, exist_ok=True)
    for name in own_entries:
        entry = out / name
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        elif entry.exists() or entry.is_symlink():
            entry.unlink()
    (out / marker).write_text(marker_text, encoding="utf-8")


def run_demo(site: Path, out: Path) -> int:
    try:
        prepare_out(out)
    except NotDemoFolder as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"demo: cannot prepare {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    server = make_server(site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"Serving {site} at {base_url} (fixed Date: {(site / 'REF').read_text().strip()})")
    try:
        for attempt, label in ((1, "first run"), (2, "second run, same seen store")):
            before = _feed_files(out / "feeds")
            reports_before = set((out / "feeds" / "reports").glob("*.json"))
            log = out / f"crawl-{attempt}.log"
            status, seconds = _crawl(base_url, out, log)
            new = sorted(_feed_files(out / "feeds") - before)
            print(f"\n{label}: exit status {status} in {seconds:.1f} s (log: {log})")
            for path in new:
                print(f"  {path}: {_lines(path)} records")
            if not new:
                print("  no feed file: nothing new since the previous run")
            for report in sorted(set((out / "feeds" / "reports").glob("*.json")) - reports_before):
                print(f"  run report: {report}")
            if status != 0:
                print(f"The crawl failed; see {log}", file=sys.stderr)
                return status
    finally:
        server.shutdown()
    print(f"\nFeeds: {out / 'feeds'}/leads/ and {out / 'feeds'}/briefs/ (JSON Lines, one file per run)")
    log = PublicationLog(out / "feeds")
    print(f"Publication log: {log.path} ({len(log.entries())} files; read with python -m wirecrawler feeds --feed-dir {out / 'feeds'} list)")
    page = out / "feeds" / "reports" / "index.html"
    if page.exists():
        print(f"Status page: {page} (open it in a browser)")
    print(f"Seen store: {out / 'state' / 'seen.sqlite3'}")
    return 0
