"""``python -m wirecrawler shared-demo``: the shared set-up on this machine, as two hosts on one schedule.

Starts PostgreSQL and SeaweedFS (``wirecrawler.local.backends``) with their logs and data in
the demo's folder, makes a database for the shared store and a bucket for the feeds, serves the
bundled site, and crawls it as two hosts would: each crawl with a state folder of its own
(``WIRECRAWLER_STATE_DIR``), both with the same store (``WIRECRAWLER_SEEN_STORE=postgresql://…``)
and feed place (``WIRECRAWLER_FEED_DIR=s3://…``). Both start at the same moment: one takes the
lease and publishes, the other finds the store busy and exits 75. The host that lost then runs
again, after the other finished: the seen set is shared, so it publishes nothing. Last, the
publication log as ``python -m wirecrawler feeds list`` shows it, the feeds copied out of the
object storage into the folder, and the servers are stopped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from wirecrawler.local.backends import BackendError, PostgresServer, SeaweedServer
from wirecrawler.local.demo import NotDemoFolder, local_crawl_command, prepare_demo_folder
from wirecrawler.local.server import PROJECT_ROOT, make_server
from wirecrawler.store.publog import PUBLISHED, Entry
from wirecrawler.store.pgstore import SharedStore

BUSY = os.EX_TEMPFAIL  # 75: the exit status of a crawl that finds the store in use (wirecrawler.runs.verdict)
HOSTS = {"host-a": "host A", "host-b": "host B"}  # folder: name in messages
DATABASE = "wirecrawler"
BUCKET = "wirecrawler"
FEED_PREFIX = "feeds"

# The demo's folder, marked as demo.py marks its own: only a folder with the marker is cleaned
# for a new demo, and then only of these entries.
MARKER = ".wirecrawler-shared-demo"
MARKER_TEXT = (
    "This folder holds the output of `python -m wirecrawler shared-demo`, which empties it of its own\n"
    "entries (postgresql/, seaweedfs/, host-a/, host-b/, feeds/) on every run and leaves the rest alone.\n"
    "Without this file, the demo refuses to write here.\n"
)
OWN_ENTRIES = ("postgresql", "seaweedfs", *HOSTS, "feeds")
# A crawl's last line, as wirecrawler.runs.verdict writes it: "<time> [<logger>] <LEVEL>: Run ...".
VERDICT_LINE = re.compile(r"\[wirecrawler\.runs\.verdict\] [A-Z]+: (Run (?:succeeded|failed).*)$")


def prepare_out(out: Path) -> None:
    """Makes *out* the shared demo's folder, as the demo makes its own (``prepare_demo_folder``)."""
    prepare_demo_folder(out, MARKER, MARKER_TEXT, OWN_ENTRIES, "the shared demo")


@dataclass
class Crawl:
    """One host's crawl: its process, then, once waited for, its exit status and how long it took."""

    host: str
    log: Path
    process: subprocess.Popen
    started: float
    status: int | None = None
    seconds: float = 0.0

    def wait(self) -> Crawl:
        self.status = self.process.wait()
        self.seconds = time.monotonic() - self.started
        return self

    @property
    def name(self) -> str:
        return HOSTS[self.host]

    def last_line(self) -> str:
        """What the crawl said last about its run (``Run succeeded`` or ``Run failed: <why>``)."""
        lines = self.log.read_text(encoding="utf-8").splitlines()
        said = [match.group(1) for line in lines if (match := VERDICT_LINE.search(line))]
        return said[-1] if said else "no verdict in its log"


class SharedDemo:
    """The two hosts' crawls against one store and one feed place (module docstring)."""

    def __init__(self, out: Path, base_url: str, store_url: str, feed_place: str, environment: dict[str, str]):
        self.out, self.base_url, self.store_url, self.feed_place = out, base_url, store_url, feed_place
        self.environment = environment
        self.runs = {host: 0 for host in HOSTS}

    def start(self, host: str) -> Crawl:
        self.runs[host] += 1
        folder = self.out / host
        folder.mkdir(exist_ok=True)
        command = local_crawl_command(
            self.base_url, folder / "state", self.feed_place, "-s", f"WIRECRAWLER_SEEN_STORE={self.store_url}"
        )  # fmt: skip
        log = folder / f"crawl-{self.runs[host]}.log"
        with log.open("w", encoding="utf-8") as log_file:
            process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self.environment, stdout=log_file, stderr=subprocess.STDOUT
            )  # fmt: skip
        return Crawl(host, log, process, time.monotonic())

    def published(self) -> list[Entry]:
        store = SharedStore.open(self.store_url)
        try:
            return [entry for entry in store.entries() if entry.event == PUBLISHED]
        finally:
            store.close()

    def feeds_list(self) -> tuple[str, subprocess.CompletedProcess]:
        """``python -m wirecrawler feeds … list`` of the shared feed place: the command as typed, and its run."""
        arguments = ["feeds", "--feed-dir", self.feed_place, "--store", self.store_url, "list"]
        command = [sys.executable, "-m", "wirecrawler", *arguments]
        done = subprocess.run(command, cwd=PROJECT_ROOT, env=self.environment, capture_output=True, text=True)
        return " ".join(["python -m wirecrawler", *arguments]), done


def _report(crawl: Crawl, new: list[Entry]) -> None:
    outcome = f"published {len(new)} files" if new else "published nothing"
    print(f"  {crawl.name}: exit status {crawl.status} in {crawl.seconds:.1f} s, {outcome}: {crawl.last_line()}")
    for entry in new:
        print(f"    {entry.path}: {entry.records} records")
    print(f"    log: {crawl.log}")


def _copy_feeds(seaweed: SeaweedServer, entries: list[Entry], into: Path) -> None:
    """The published objects, copied to *into* under their log paths: the server stops with the demo."""
    with closing(seaweed.client()) as s3:
        for entry in entries:
            target = into / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            body = s3.get_object(Bucket=BUCKET, Key=f"{FEED_PREFIX}/{entry.path}")["Body"]
            with closing(body):
                target.write_bytes(body.read())


def run_shared_demo(site: Path, out: Path) -> int:
    """The demo (module docstring). Exit status 0 when it went as described; 2 when *out* is
    refused; else 1, or the status of a crawl that failed otherwise than busy."""
    # Absolute: the servers run in their folders and the crawls in the project root, each of
    # which would read a relative path from where it runs.
    out = out.absolute()
    try:
        prepare_out(out)
    except NotDemoFolder as exc:
        print(f"shared-demo: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"shared-demo: cannot prepare {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        with PostgresServer(out / "postgresql") as postgres, SeaweedServer(out / "seaweedfs") as seaweed:
            store_url = postgres.new_database(DATABASE)
            bucket = seaweed.new_bucket(BUCKET)
            print(f"PostgreSQL: {store_url} (log: {postgres.log})")
            print(f"SeaweedFS: S3 at {seaweed.endpoint_url}, bucket {bucket} (data: {seaweed.data})")
            server = make_server(site)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            try:
                base_url = f"http://127.0.0.1:{server.server_address[1]}"
                print(f"Serving {site} at {base_url} (fixed Date: {(site / 'REF').read_text().strip()})")
                environment = {**os.environ, **seaweed.client_environment()}
                demo = SharedDemo(out, base_url, store_url, f"{bucket}/{FEED_PREFIX}", environment)
                status = _crawl_as_two_hosts(demo, out)
                if status == 0:
                    _copy_feeds(seaweed, demo.published(), out / "feeds")
                    place = demo.feed_place
                    print(f"\nFeeds: {place}/leads/ and {place}/briefs/ in SeaweedFS, copied to {out / 'feeds'}/")
            finally:
                server.shutdown()
                server.server_close()
            print("Stopping PostgreSQL and SeaweedFS")
    except BackendError as exc:
        print(f"shared-demo: {exc}", file=sys.stderr)
        return 1
    return status


def _crawl_as_two_hosts(demo: SharedDemo, out: Path) -> int:
    """The demo's three crawls and the log; 0 when they went as the module docstring says."""
    print(
        f"\nTwo hosts, each with its own state folder ({', '.join(str(out / host / 'state') for host in HOSTS)}), "
        f"sharing the store {demo.store_url} and the feed place {demo.feed_place}"
    )
    print("\nBoth hosts start at the same moment:")
    crawls = [demo.start(host) for host in HOSTS]
    for crawl in crawls:
        crawl.wait()
    published = demo.published()
    winners = [crawl for crawl in crawls if crawl.status == 0]
    losers = [crawl for crawl in crawls if crawl.status == BUSY]
    for crawl in crawls:
        _report(crawl, published if crawl in winners else [])
    if not (len(winners) == 1 and len(losers) == 1 and published):
        print(
            f"shared-demo: expected one crawl to publish and the other to exit {BUSY} (busy); "
            f"exit statuses {[crawl.status for crawl in crawls]}, {len(published)} files published: see the logs",
            file=sys.stderr,
        )
        return next((crawl.status for crawl in crawls if crawl.status not in (0, BUSY)), 1)

    loser = losers[0]
    print(f"\n{loser.name} again, after {winners[0].name} finished:")
    again = demo.start(loser.host).wait()
    new = demo.published()[len(published) :]
    _report(again, new)
    if again.status != 0 or new:
        print(
            f"shared-demo: expected {loser.name}'s second crawl to exit 0 and publish nothing: see {again.log}",
            file=sys.stderr,
        )
        return again.status or 1

    command, listed = demo.feeds_list()
    print(f"\nPublication log ({command}):")
    print(listed.stdout, end="")
    if listed.returncode != 0:
        print(f"shared-demo: feeds list exited {listed.returncode}: {listed.stderr.strip()}", file=sys.stderr)
        return listed.returncode
    return 0
