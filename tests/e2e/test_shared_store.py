"""The shared set-up on two hosts: real crawls, one PostgreSQL database, one bucket, faults injected for real.

"Two hosts" are two copies of the project (the files git knows, tracked or new) in folders of
their own, each with its own local state (``WIRECRAWLER_STATE_DIR``: run reports, the spool of
feed files being written), both pointing at the same database and the same bucket. Every crawl
is a ``python -m scrapy crawl buitenland`` subprocess run from its host's copy, against a site
server of its own (``tests.faultserver``), so that what each host fetched is known.

The faults and what must come of them:

========================================  =====================================================
fault                                     outcome
========================================  =====================================================
both hosts start at once                  one publishes (0), the other exits 75 having fetched
                                          nothing, its last line naming the holder
SIGKILL of the holder at each crash       the other host, started at once, is refused (75)
point (5-second lease)                    while the lease lives; once it expired it settles
                                          the dead crawl's pending upload and publishes the rest
holder stopped (SIGSTOP) mid-fetch,       the other host takes over and publishes everything;
past its lease                            resumed, the holder publishes nothing and fails
holder stopped (SIGSTOP) mid-upload,      as above; its upload lands late, its commit is
past its lease                            fenced (LeaseLost); the next run deletes the object
holder stopped inside a store             the other host takes over once the lease expired
transaction, past its lease               (it does not wait for the stopped one's transaction)
PostgreSQL restarted mid-run (while       the crawl succeeds, or fails with lines naming the
fetching; between claim and commit)       cause; a rerun completes the feed
PostgreSQL down before the crawl          75, nothing fetched, the store named
object storage down before the crawl      75, nothing fetched, the storage named; lease freed
object storage down mid-run, up after     1, nothing committed; the next run publishes
                                          everything once and deletes the stray object
========================================  =====================================================

After every step the whole published log is checked (``Shared.check``): seq 1..N without gaps
and only ever appended to; every file it names in the bucket, equal to its entry (bytes,
sha256, records), named by its run, every line a complete record of its folder's kind, never
changed once published; the seen set exactly the ids the published files hold. After a run
that ended cleanly also: no pending upload, no object the log does not name, the lease released.
Over all the runs of a test every record of the site is published exactly once.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.crawling import CRAWL_TIMEOUT, ROOT, SAMPLE_SITE, feed_keys, read_jsonl, stats_of, url_path
from tests.faultserver import FaultServer, serving
from testsites.sample import generate
from wirecrawler.local.demo import local_crawl_command

EXPECTED = read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")
EXPECTED_KEYS = {(r["kind"], r["id"]) for r in EXPECTED}
BRIEFS = {key for key in EXPECTED_KEYS if key[0] == "brief"}
KIND_OF_FOLDER = {"briefs": "brief", "leads": "lead"}
FEED_NAME = re.compile(r"(?P<stamp>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)(?:-(?P<number>[2-9]|[1-9]\d+))?\.jsonl")
HOSTNAME = socket.gethostname()  # both "hosts" are this machine: holders differ by their pid

# The holder renews every third of it. Long enough that a crawl started at once after the
# holder's death (it takes the lease ~1.2 s after its start here) still finds it alive,
# short enough that waiting for its expiry costs a few seconds.
LEASE_SECONDS = 5
SLOW_PAGE_SECONDS = 0.3  # a slow site: its 34 pages take ~3 s at 4 requests at a time
EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 75


# --- Two hosts: two copies of the project, one local state each.


def project_files() -> list[str]:
    """The project's files as git knows them: tracked, and new ones not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    return sorted(name for name in set(listed.split("\0")) if name and (ROOT / name).is_file())


@pytest.fixture(scope="module")
def host_copies(tmp_path_factory) -> dict[str, Path]:
    files = project_files()
    copies = {}
    for name in ("a", "b"):
        root = tmp_path_factory.mktemp(f"host-{name}") / "wirecrawler"
        for relative in files:
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, root / relative)
        # A crawl started there runs that copy's code, not the checkout's.
        found = subprocess.run(
            [sys.executable, "-c", "import wirecrawler; print(wirecrawler.__file__)"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert Path(found).is_relative_to(root), found
        copies[name] = root
    return copies


@dataclass
class Run:
    host: str
    status: int
    log: str

    @property
    def last_line(self) -> str:
        lines = self.log.rstrip("\n").splitlines()
        return lines[-1] if lines else ""

    def stats(self) -> dict[str, int]:
        return stats_of(self.log)

    def recovered(self) -> dict[str, int]:
        prefix = "wirecrawler/recovered/"
        return {key[len(prefix) :]: n for key, n in self.stats().items() if key.startswith(prefix)}

    def tail(self) -> str:
        return f"{self.host}'s crawl ended {self.status}; its log ends:\n" + self.log[-4000:]


@dataclass
class Host:
    """One host: its copy of the project and its own state folder, the store and bucket shared."""

    name: str
    root: Path
    state: Path
    store: str
    feeds: str
    env: dict[str, str]
    logs: Path
    started: list[subprocess.Popen] = field(default_factory=list)

    @property
    def spool(self) -> Path:
        return self.state / "feeds" / "spool"

    def temp_files(self) -> list[str]:
        return sorted(p.name for p in self.spool.glob(".tmp-*")) if self.spool.is_dir() else []

    def start(self, site: FaultServer, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        command = local_crawl_command(
            site.url, self.state, self.feeds,  # type: ignore[arg-type]  (an s3:// URL, formatted as given)
            "-s", f"WIRECRAWLER_SEEN_STORE={self.store}",
            "-s", f"WIRECRAWLER_LEASE_SECONDS={LEASE_SECONDS}",
            *extra,
        )  # fmt: skip
        log = self.logs / f"{self.name}-{len(self.started) + 1}.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                command, cwd=self.root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                env={**os.environ, **self.env, **(env or {})},
            )  # fmt: skip
        process.log_path = log
        self.started.append(process)
        return process

    def finish(self, process: subprocess.Popen) -> Run:
        status = process.wait(timeout=CRAWL_TIMEOUT)
        return Run(self.name, status, process.log_path.read_text(encoding="utf-8", errors="replace"))

    def run(self, site: FaultServer, *extra: str, env: dict[str, str] | None = None) -> Run:
        return self.finish(self.start(site, *extra, env=env))

    def holder(self, process: subprocess.Popen) -> str:
        """How the shared store names this crawl as the lease's holder."""
        return f"{HOSTNAME}:{process.pid}"

    def end_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
                process.wait()


# --- The shared store and the bucket, read from outside.


class Shared:
    """The database and the bucket both hosts use, checked across runs."""

    def __init__(self, store: str, feeds: str, s3):
        self.store = store
        self.bucket, _, prefix = feeds[len("s3://") :].partition("/")
        self.prefix = prefix.strip("/")
        self.s3 = s3
        self.entries_read: list[tuple] = []  # the log as last checked: every later log starts with it
        self.digests: dict[str, str] = {}  # path -> sha256 when first checked

    def feeds_url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def query(self, sql: str, *params) -> list[tuple]:
        with psycopg.connect(self.store, connect_timeout=10) as db:
            return db.execute(sql, params).fetchall()

    def entries(self) -> list[tuple]:
        """(seq, event, path, kind, records, bytes, sha256, run) in seq order."""
        return self.query("SELECT seq, event, path, kind, records, bytes, sha256, run FROM publications ORDER BY seq")

    def seen(self) -> set[tuple[str, str]]:
        return set(self.query("SELECT kind, id FROM seen"))

    def pending(self) -> list[str]:
        return [path for (path,) in self.query("SELECT path FROM pending_upload ORDER BY path")]

    def lease(self) -> tuple[str, int, float] | None:
        """(holder, epoch, seconds left by the database's clock), or None before any crawl took it."""
        rows = self.query("SELECT holder, epoch, extract(epoch FROM expires_at - clock_timestamp())::float FROM lease")
        return rows[0] if rows else None

    def wait_for_lease_expiry(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (lease := self.lease()) is not None and lease[2] > 0:
            assert time.monotonic() < deadline, f"the lease did not expire: {lease}"
            time.sleep(min(lease[2], 0.5) + 0.05)

    def objects(self) -> set[str]:
        """Every object under the feed prefix, as a path relative to it."""
        found = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/"):
            found.update(item["Key"][len(self.prefix) + 1 :] for item in page.get("Contents", ()))
        return found

    def read(self, path: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{path}")["Body"].read()

    def put(self, path: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{path}", Body=data)

    def check(self, *, settled: bool = True) -> Counter:
        """Everything a reader relies on (module docstring); each published (kind, id), counted.

        *settled*: a run ended cleanly last, so nothing may be pending, stray or held either."""
        entries = self.entries()
        rewritten = entries[: len(self.entries_read)] != self.entries_read
        assert not rewritten, "the publication log was rewritten, not appended to"
        self.entries_read = entries
        assert [e[0] for e in entries] == list(range(1, len(entries) + 1)), f"seq not 1..N: {entries}"
        assert {e[1] for e in entries} <= {"published"}, entries
        paths = [e[2] for e in entries]
        assert len(set(paths)) == len(paths), f"a file entered twice: {Counter(paths).most_common(3)}"
        published: Counter = Counter()
        for _, _, path, kind, records, size, digest, run in entries:
            folder, name = path.split("/")
            assert kind == KIND_OF_FOLDER[folder], (path, kind)
            named = FEED_NAME.fullmatch(name)
            assert named and named["stamp"] == run, f"{path} is not named by its run {run}"
            data = self.read(path)
            assert (len(data), sha256(data).hexdigest()) == (size, digest), f"{path} is not what its entry says"
            assert self.digests.setdefault(path, digest) == digest, f"{path} changed after its publication"
            keys = feed_keys(path, data, kind)
            assert len(keys) == records > 0, (path, records, len(keys))
            published.update(keys)
        seen = self.seen()
        assert seen - set(published) == set(), "ids marked seen that no published file holds"
        assert set(published) - seen == set(), "published ids not marked seen (the next run publishes them again)"
        if settled:
            assert self.pending() == [], "pending uploads left"
            assert self.objects() == set(paths), "objects in the bucket that the log does not name, or missing"
            lease = self.lease()
            assert lease is None or lease[2] <= 0, f"the lease is still held: {lease}"
        return published


def assert_exactly_once(published: Counter, expected: set = EXPECTED_KEYS) -> None:
    assert {key: n for key, n in published.items() if n > 1} == {}, "records published more than once"
    assert expected - set(published) == set(), "records lost"
    assert set(published) - expected == set(), "records the site does not hold"


def published_by(shared: Shared, run: Run) -> int:
    """How many records the files of *run* (by its run stamp, read from its log) hold."""
    stamps = set(re.findall(r"Published s3://\S+/(?:briefs|leads)/(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)", run.log))
    return sum(records for _, _, _, _, records, _, _, stamp in shared.entries() if stamp in stamps)


def served(site: FaultServer) -> set[str]:
    """The paths the site answered with 200."""
    return {hit.split(" ", 1)[1] for hit in site.requested() if hit.startswith("200 ")}


def articles_served(site: FaultServer) -> int:
    return sum(
        1 for hit in site.requested() if hit.startswith("200 /nieuws/") and not hit.startswith("200 /nieuws/buitenland")
    )


def wait_until(condition, what: str, process: subprocess.Popen | None = None, timeout: float = CRAWL_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process is None or process.poll() is None, f"the crawl ended before {what}"
        assert time.monotonic() < deadline, f"waited in vain for {what}"
        time.sleep(0.02)


# --- Fixtures.


@pytest.fixture
def s3(seaweed):
    with closing(seaweed.client()) as client:
        yield client


@pytest.fixture
def hosts(host_copies, shared, postgres_url, s3_feed_url, s3_env, tmp_path):
    """Hosts a and b; their crawls still running at the end are killed (before ``shared`` goes)."""
    made = [
        Host(name, root, tmp_path / name / "state", postgres_url, s3_feed_url, dict(s3_env), tmp_path / "logs")
        for name, root in sorted(host_copies.items())
    ]
    (tmp_path / "logs").mkdir()
    yield made
    for host in made:
        host.end_all()


@pytest.fixture
def shared(postgres_url, s3_feed_url, s3, seaweed):
    yield Shared(postgres_url, s3_feed_url, s3)
    # The bucket goes with its test: SeaweedFS gives every bucket volumes of its own, from a
    # handful in all (its default -volume.max=8), and refuses uploads to new buckets once they are taken.
    seaweed.start()  # a test that stopped it and failed before starting it again
    bucket = s3_feed_url[len("s3://") :].split("/", 1)[0]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", ()):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture
def sites():
    """Serves a site (the sample site unless given), one server per call (``delay``: seconds each page waits)."""
    with ExitStack() as stack:
        yield lambda delay=0.0, site=SAMPLE_SITE: stack.enter_context(serving(site, delay=delay))


@pytest.fixture(scope="module")
def new_stories_site(tmp_path_factory) -> Path:
    """The sample site a little later: four records more (``testsites.sample``, variant new-stories)."""
    site = tmp_path_factory.mktemp("new-stories")
    generate(site, "new-stories")
    return site


# --- 1. Both hosts at once.


def test_two_hosts_started_at_once_one_publishes_the_other_is_refused_having_fetched_nothing(hosts, shared, sites):
    a, b = hosts
    site_a, site_b = sites(0.2), sites(0.2)  # each crawl fetches for ~2 s: the two overlap
    crawl_a, crawl_b = a.start(site_a), b.start(site_b)
    runs = {crawl_a: a.finish(crawl_a), crawl_b: b.finish(crawl_b)}
    assert sorted(run.status for run in runs.values()) == [EXIT_OK, EXIT_REFUSED], [r.tail() for r in runs.values()]

    (winner, won), (_, lost) = sorted(runs.items(), key=lambda item: item[1].status)
    loser_site = site_a if lost.host == "a" else site_b
    assert loser_site.requested() == [], "the refused crawl fetched pages"
    assert (
        f"Run failed: not started: the shared store {shared.store} is in use by another crawl"
        f" ({HOSTNAME}:{winner.pid}, lease epoch 1, " in lost.last_line
    ), lost.tail()
    assert published_by(shared, won) == len(EXPECTED_KEYS)
    assert_exactly_once(shared.check())

    # The loser's next run finds every record seen, written by the other host: it publishes nothing.
    again = (b if lost.host == "b" else a).run(loser_site)
    assert again.status == EXIT_OK, again.tail()
    assert again.last_line.endswith("Run succeeded") and "Published s3://" not in again.log
    assert_exactly_once(shared.check())


# --- 2. SIGKILL of the holder at each crash point.

# point -> (published by the killed crawl, pending uploads it left, of which uploaded)
CRASH_POINTS = {
    "feed_temp_created": (set(), 0, 0),
    "item_scraped@20": (set(), 0, 0),
    "before_feed_rename": (set(), 1, 0),  # the briefs file recorded as pending, not uploaded
    "after_feed_rename": (set(), 1, 1),  # the briefs file uploaded, its commit not made
    "after_seen_commit": (BRIEFS, 0, 0),  # the briefs file published, the leads not
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_a_holder_killed_at_a_crash_point_blocks_the_other_host_until_its_lease_expires(hosts, shared, sites, point):
    a, b = hosts
    site_a, site_b = sites(), sites()
    visible, pending, uploaded = CRASH_POINTS[point]

    crawl_a = a.start(site_a, env={"WIRECRAWLER_CRASH_AT": point})
    killed = a.finish(crawl_a)
    assert killed.status == -signal.SIGKILL, killed.tail()
    refused = b.run(site_b)  # at once: the dead crawl's lease lives on

    # The dead crawl left only what its commits say; what it did not commit is pending or local.
    assert set(shared.check(settled=False)) == visible
    assert len(shared.pending()) == pending
    assert len(shared.objects() - {e[2] for e in shared.entries()}) == uploaded
    assert a.temp_files() != [], "the killed crawl left no file being written in its spool"

    assert refused.status == EXIT_REFUSED, refused.tail()
    assert f"in use by another crawl ({a.holder(crawl_a)}, lease epoch 1" in refused.last_line, refused.tail()
    assert site_b.requested() == [], "the refused crawl fetched pages"

    shared.wait_for_lease_expiry()
    taken = b.run(site_b)
    assert taken.status == EXIT_OK, taken.tail()
    assert taken.recovered() == ({"unpublished": pending} if pending else {}), taken.tail()
    assert "Shared store postgresql://" in taken.log and "lease taken (epoch 2)" in taken.log
    assert published_by(shared, taken) == len(EXPECTED_KEYS - visible)
    assert_exactly_once(shared.check())

    # The killed host's next run removes the files it left in its own spool and publishes nothing.
    leftovers = a.temp_files()
    again = a.run(site_a)
    assert again.status == EXIT_OK, again.tail()
    assert again.recovered() == {"temp_files_removed": len(leftovers)}, again.tail()
    assert "Published s3://" not in again.log and a.temp_files() == []
    assert_exactly_once(shared.check())


# --- 3. Fencing: a holder paused past its lease.


def test_a_holder_stopped_mid_fetch_past_its_lease_is_fenced_when_it_resumes(hosts, shared, sites, new_stories_site):
    """The stopped host crawls a newer version of the site: resumed, it holds records that the
    host which took over did not publish, and its claim to publish them is fenced."""
    a, b = hosts
    newer = {(r["kind"], r["id"]) for r in read_jsonl(new_stories_site / "expected-feed.jsonl")}
    new = read_jsonl(new_stories_site / "expected-new.jsonl")
    new_articles = {url_path(r["url"]) for r in new if r["kind"] == "lead"}
    slow_site, site_b = sites(SLOW_PAGE_SECONDS, new_stories_site), sites()
    crawl_a = a.start(slow_site)
    wait_until(lambda: new_articles <= served(slow_site), "the new stories' articles served", crawl_a)
    os.kill(crawl_a.pid, signal.SIGSTOP)
    try:
        assert shared.lease()[:2] == (a.holder(crawl_a), 1)
        shared.wait_for_lease_expiry()
        taken = b.run(site_b)
        assert taken.status == EXIT_OK, taken.tail()
        assert "lease taken (epoch 2)" in taken.log
        assert published_by(shared, taken) == len(EXPECTED_KEYS)
        assert_exactly_once(shared.check())
    finally:
        os.kill(crawl_a.pid, signal.SIGCONT)
    resumed = a.finish(crawl_a)

    assert resumed.status == EXIT_FAILED, resumed.tail()
    assert "Published s3://" not in resumed.log, resumed.tail()
    assert "expired or was taken over by another crawl" in resumed.log, resumed.tail()
    assert "Error storing jsonlines feed" in resumed.log, resumed.tail()  # its new records: the claim fenced
    assert "lease" in resumed.last_line, resumed.tail()
    assert_exactly_once(shared.check())  # the site as the other host saw it, and nothing of the stopped one

    again = a.run(sites(0.0, new_stories_site))
    assert again.status == EXIT_OK, again.tail()
    assert published_by(shared, again) == len(new)
    assert_exactly_once(shared.check(), newer)


class Relay:
    """A TCP relay to a server that holds one message of its client (unsent) until ``release``:
    the first for which *holds(data)* is true. A crawl cut off from the server at that moment."""

    def __init__(self, endpoint: tuple[str, int], holds):
        self.target = endpoint
        self.holds = holds
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"  # for an HTTP server
        self.holding = threading.Event()  # a message arrived and is held
        self.released = threading.Event()
        self.held = b""
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = [self.listener]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.set()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:  # the server is down: so is the client's connection
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
                for source, sink, hold in ((client, upstream, True), (upstream, client, False)):
                    thread = threading.Thread(target=self._pump, args=(source, sink, hold), daemon=True)
                    self._threads.append(thread)
                    thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket, hold: bool) -> None:
        try:
            while data := source.recv(65536):
                if hold and not self.holding.is_set() and self.holds(data):
                    self.held = data
                    self.holding.set()
                    self.released.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


def upload_hold(seaweed) -> Relay:
    """A relay to the object storage holding the first upload of a briefs file: a crawl stopped mid-upload."""
    endpoint = urlsplit(seaweed.endpoint_url)

    def briefs_upload(data: bytes) -> bool:
        first_line = data.split(b"\r\n", 1)[0]
        return first_line.startswith(b"PUT ") and b"/briefs/" in first_line

    return Relay((endpoint.hostname, endpoint.port), briefs_upload)


def test_a_holder_stopped_mid_upload_past_its_lease_is_fenced_and_its_late_object_collected(
    hosts, shared, sites, seaweed
):
    a, b = hosts
    site_a, site_b = sites(), sites()
    hold = upload_hold(seaweed)
    try:
        crawl_a = a.start(site_a, env={"AWS_ENDPOINT_URL": hold.url})
        wait_until(hold.holding.is_set, "the upload of the briefs file", crawl_a)
        os.kill(crawl_a.pid, signal.SIGSTOP)
        try:
            (claimed,) = shared.pending()
            assert hold.held.startswith(f"PUT /{shared.bucket}/{shared.prefix}/{claimed}".encode())
            assert shared.entries() == [] and shared.objects() == set()

            shared.wait_for_lease_expiry()
            taken = b.run(site_b)
            assert taken.status == EXIT_OK, taken.tail()
            assert taken.recovered() == {"unpublished": 1}, taken.tail()  # the stopped crawl's claim
            assert published_by(shared, taken) == len(EXPECTED_KEYS)
            assert_exactly_once(shared.check())
        finally:
            hold.release()  # the upload goes on, then the crawl
            os.kill(crawl_a.pid, signal.SIGCONT)
        resumed = a.finish(crawl_a)
    finally:
        hold.close()

    assert resumed.status == EXIT_FAILED, resumed.tail()
    assert "Published s3://" not in resumed.log, resumed.tail()
    assert "expired or was taken over by another crawl" in resumed.log, resumed.tail()
    # Its upload landed after the takeover, and its commit was fenced: an object no entry names.
    assert_exactly_once(shared.check(settled=False))
    assert shared.objects() - {e[2] for e in shared.entries()} == {claimed}
    assert shared.pending() == []

    again = b.run(site_b)
    assert again.status == EXIT_OK and "Published s3://" not in again.log, again.tail()
    assert again.recovered() == {"garbage_removed": 1}, again.tail()
    assert_exactly_once(shared.check())


TAKEOVER_SECONDS = 20  # from the lease's expiry: the other host's whole run, with time to spare


def test_a_holder_stopped_inside_a_store_transaction_past_its_lease_does_not_block_the_takeover(
    hosts, shared, sites, postgres
):
    """The holder stops (SIGSTOP, as a paused VM; or its network goes) between the statements of
    a fenced transaction, here its claim to publish the briefs file, before its COMMIT: the
    database still has its session, idle in a transaction that locks the lease's row."""
    a, b = hosts
    site_a, site_b = sites(), sites()
    claimed = threading.Event()

    def commit_of_the_claim(data: bytes) -> bool:
        if b"INSERT INTO pending_upload (" in data:
            claimed.set()
        return claimed.is_set() and b"COMMIT" in data

    relay = Relay(("127.0.0.1", postgres.port), commit_of_the_claim)
    try:
        database = shared.store.rsplit("/", 1)[1]
        crawl_a = a.start(site_a, "-s", f"WIRECRAWLER_SEEN_STORE=postgresql://wire@127.0.0.1:{relay.port}/{database}")
        wait_until(relay.holding.is_set, "the commit of the claim", crawl_a)
        os.kill(crawl_a.pid, signal.SIGSTOP)
        try:
            shared.wait_for_lease_expiry()
            crawl_b = b.start(site_b)
            with suppress(subprocess.TimeoutExpired):
                crawl_b.wait(timeout=TAKEOVER_SECONDS)
            if crawl_b.poll() is None:
                sessions = shared.query(
                    "SELECT state, wait_event_type, left(query, 60) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                pytest.fail(
                    f"the lease expired {TAKEOVER_SECONDS} s ago and the other host has not taken over: it waits"
                    f" for the stopped holder's transaction to end (sessions: {sessions})"
                )
            taken = b.finish(crawl_b)
            assert taken.status == EXIT_OK, taken.tail()
            assert "lease taken (epoch 2)" in taken.log
            assert published_by(shared, taken) == len(EXPECTED_KEYS)
            assert_exactly_once(shared.check())
        finally:
            relay.release()
            os.kill(crawl_a.pid, signal.SIGCONT)
        resumed = a.finish(crawl_a)
    finally:
        relay.close()

    assert resumed.status == EXIT_FAILED, resumed.tail()
    assert "Published s3://" not in resumed.log, resumed.tail()
    again = b.run(site_b)
    assert again.status == EXIT_OK and "Published s3://" not in again.log, again.tail()
    assert_exactly_once(shared.check())


# --- 4. PostgreSQL restarted mid-run.


@pytest.mark.parametrize("moment", ["fetching", "uploading"])
def test_postgresql_restarted_mid_run_then_a_rerun_publishes_every_record_once(
    hosts, shared, sites, postgres, seaweed, moment
):
    """Restarted while the crawl fetches (slow pages), or while it uploads its first feed file,
    between the claim and the commit (the upload held by ``upload_hold`` until the server is back)."""
    a, b = hosts
    with ExitStack() as stack:
        if moment == "fetching":
            site_a = sites(SLOW_PAGE_SECONDS)
            crawl_a = a.start(site_a)
            wait_until(lambda: articles_served(site_a) >= 4, "four articles served", crawl_a)
            postgres.restart()
        else:
            hold = stack.enter_context(closing(upload_hold(seaweed)))
            crawl_a = a.start(sites(), env={"AWS_ENDPOINT_URL": hold.url})
            wait_until(hold.holding.is_set, "the upload of the briefs file", crawl_a)
            try:
                postgres.restart()
            finally:
                hold.release()
        during = a.finish(crawl_a)

    assert during.status in (EXIT_OK, EXIT_FAILED), during.tail()
    assert "Lost the connection to the shared store" in during.log, during.tail()
    if during.status == EXIT_OK:
        assert during.last_line.endswith("Run succeeded"), during.tail()
    else:
        # Said in lines of the log, as in the local set-up (tests/e2e/test_publication_faults.py):
        # the last line, and an error line that names the cause, with no traceback.
        assert "] ERROR: Run failed: " in during.last_line, during.tail()
        named = re.search(r"\] ERROR: .*shared store postgresql://", during.log) is not None
        assert named and "Traceback" not in during.log, f"no line names the cause, but a traceback: {during.tail()}"
    shared.check(settled=False)

    shared.wait_for_lease_expiry()  # if the crawl could not end its lease
    rerun = b.run(sites())
    assert rerun.status == EXIT_OK, rerun.tail()
    assert_exactly_once(shared.check())


def test_postgresql_down_at_the_start_refuses_the_crawl_before_it_fetches(hosts, shared, sites, postgres):
    a, _ = hosts
    site = sites()
    postgres.stop()
    try:
        refused = a.run(site)
    finally:
        postgres.start()
    assert refused.status == EXIT_REFUSED, refused.tail()
    assert site.requested() == [], "the refused crawl fetched pages"
    refusal = f"Run failed: not started: cannot reach the shared store {shared.store}: "
    assert refusal in refused.last_line, refused.tail()
    assert shared.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'") == []
    assert shared.objects() == set()


# --- 5. Object storage unreachable.


def test_object_storage_down_at_the_start_refuses_the_crawl_before_it_fetches(hosts, shared, sites, seaweed):
    a, _ = hosts
    site = sites()
    seaweed.stop()
    try:
        refused = a.run(site)
    finally:
        seaweed.start()
    assert refused.status == EXIT_REFUSED, refused.tail()
    assert site.requested() == [], "the refused crawl fetched pages"
    assert re.search(
        rf"Run failed: not started: cannot use the object storage {re.escape(shared.feeds_url())}: .*(connect|Connect)",
        refused.last_line,
    ), refused.tail()
    assert shared.check() == Counter()  # nothing committed, and the lease released at once

    again = a.run(site)
    assert again.status == EXIT_OK, again.tail()
    assert_exactly_once(shared.check())


def test_object_storage_down_mid_run_fails_the_run_then_the_next_publishes_once_and_clears_strays(
    hosts, shared, sites, seaweed
):
    a, b = hosts
    slow_site, site_b = sites(SLOW_PAGE_SECONDS), sites()
    crawl_a = a.start(slow_site)
    wait_until(lambda: articles_served(slow_site) >= 4, "four articles served", crawl_a)
    seaweed.stop()
    try:
        failed = a.finish(crawl_a)
    finally:
        seaweed.start()
    assert failed.status == EXIT_FAILED, failed.tail()
    assert "Published s3://" not in failed.log and "Run failed: " in failed.last_line, failed.tail()
    assert "cannot upload" in failed.log, failed.tail()
    assert shared.check() == Counter()  # nothing committed, nothing pending, the lease released

    # An upload the storage took though the crawl saw an error: what the crawl left to delete.
    left = re.search(r"Left s3://\S+?/((?:briefs|leads)/\S+\.jsonl) for the next crawl to delete", failed.log)
    assert left, failed.tail()
    shared.put(left[1], b'{"kind": "brief", "id": "0123456789abcdef0123456789abcdef"}\n')

    rerun = b.run(site_b)
    assert rerun.status == EXIT_OK, rerun.tail()
    assert rerun.recovered() == {"garbage_removed": 1}, rerun.tail()
    assert published_by(shared, rerun) == len(EXPECTED_KEYS)
    assert_exactly_once(shared.check())


