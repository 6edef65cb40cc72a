"""Publication under real faults: real crawls of the sample site, each with a fault injected for real.

The faults: a feed directory on a tmpfs that is full when the crawl starts writing and frees up
while it runs (small records, and ~14 KB records whose short write tears a record); the seen
store write-locked by another process mid-run; ``-O`` with the per-kind feeds unable to be
written; two crawls sharing a feed directory in the same second; a crawl started from a
subfolder with relative paths; a live crawl's store reached through a symbolic link; a store
file of zero bytes.

After every run, every published file is read with a JSON parser (``FeedDir.check``): each line
a complete record of its folder's kind; every file in the publication log, which is only ever
appended to, with seq 1..N, and equal to its entry (bytes, sha256, records); no file changed
after it was entered; no temporary file left; and the seen store holding exactly the (kind, id)
pairs the published files hold, with nothing pending in its journal and its lock released. Over
the first run and the reruns until one succeeds, every record the site holds is published
exactly once.

Root on Linux is needed (``mount -t tmpfs``), as in CI; without it the tests fail, never skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import closing
from hashlib import sha256
from pathlib import Path

import pytest

from tests.crawling import CRAWL_TIMEOUT, ROOT, SAMPLE_SITE, copy_site, feed_keys, read_jsonl
from tests.faults_fs import PAGE, Watcher, fill, temp_files, tmpfs
from wirecrawler.local.demo import local_crawl_command
from wirecrawler.local.server import served
from wirecrawler.store.seen import SeenStore

EXPECTED = read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")
EXPECTED_KEYS = {(r["kind"], r["id"]) for r in EXPECTED}
KIND_OF_FOLDER = {"briefs": "brief", "leads": "lead"}
FEED_NAME = re.compile(r"(?P<stamp>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)(?:-(?P<number>[2-9]|[1-9]\d+))?\.jsonl")
REPORT_LINE = re.compile(r"Run report (?P<path>\S+) written \(exit status (?P<status>\d+)\)")
COMMITTED_LINE = re.compile(r"Seen store \S+: \d+ new ids committed after publishing (?P<path>\S+)")
ENOSPC = "[Errno 28] No space left on device"
FULL_DISK_DELAY = 0.003  # "a few ms" between the trigger and the space coming back
RERUNS = 3


# --- Crawls as subprocesses, their logs in files (read while they run).


class Crawls:
    """Starts ``scrapy crawl`` subprocesses and ends, at teardown, any still running (by their pid)."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.started: list[subprocess.Popen] = []

    def start(self, url: str, state_dir: Path, feed_dir: Path, *extra: str, cwd: Path = ROOT, name: str = "crawl"):
        log = self.logs / f"{name}-{len(self.started)}.log"
        command = local_crawl_command(url, state_dir, feed_dir, *extra)
        if cwd != ROOT:  # ../.venv/bin/python from a subfolder, as a user would type it
            command[0] = os.path.relpath(command[0], cwd)
        with log.open("w") as stderr:
            process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        process.log_path = log
        self.started.append(process)
        return process

    def run(self, *args, **kwargs) -> tuple[int, str]:
        process = self.start(*args, **kwargs)
        return finish(process)

    def end_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
                process.wait()


def finish(process: subprocess.Popen) -> tuple[int, str]:
    status = process.wait(timeout=CRAWL_TIMEOUT)
    return status, log_of(process)


def log_of(process: subprocess.Popen) -> str:
    return process.log_path.read_text(encoding="utf-8", errors="replace")


def last_line(log: str) -> str:
    lines = log.rstrip("\n").splitlines()
    return lines[-1] if lines else ""


@pytest.fixture
def crawls(tmp_path):
    runner = Crawls(tmp_path / "logs")
    yield runner
    runner.end_all()


# --- What a feed directory published, read as a reader would, checked after every run.


def published_files(feed_dir: Path) -> list[Path]:
    """Every file a reader of the per-kind folders sees (temporary, dot names excluded)."""
    return sorted(
        path
        for folder in KIND_OF_FOLDER
        if (feed_dir / folder).is_dir()
        for path in (feed_dir / folder).iterdir()
        if not path.name.startswith(".")
    )


def leftovers(feed_dir: Path) -> list[str]:
    """Temporary (dot) files anywhere under the feed directory."""
    return sorted(str(p.relative_to(feed_dir)) for p in feed_dir.rglob(".*")) if feed_dir.is_dir() else []


class FeedDir:
    """A feed directory across runs: what it published, checked against its publication log."""

    def __init__(self, path: Path):
        self.path = path
        self.log_read = b""  # the log as last checked: every later log starts with it
        self.digests: dict[str, str] = {}  # file -> sha256 when first checked

    @property
    def log_path(self) -> Path:
        return self.path / "publications.log"

    def entries(self) -> list[dict]:
        raw = self.log_path.read_bytes() if self.log_path.exists() else b""
        return [json.loads(line) for line in raw.decode("utf-8").splitlines()]

    def check(self) -> dict[str, list[tuple[str, str]]]:
        """Checks everything a reader relies on; returns each published file's (kind, id) pairs."""
        raw = self.log_path.read_bytes() if self.log_path.exists() else b""
        assert raw.startswith(self.log_read), "the publication log was rewritten, not appended to"
        assert not raw or raw.endswith(b"\n"), f"the publication log ends in a torn line: {raw[-200:]!r}"
        self.log_read = raw
        entries = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1)), f"seq not 1..N: {entries}"
        assert {e["event"] for e in entries} <= {"published"}
        paths = [e["path"] for e in entries]
        assert len(set(paths)) == len(paths), f"a file entered twice: {Counter(paths).most_common(3)}"
        on_disk = [p.relative_to(self.path).as_posix() for p in published_files(self.path)]
        assert sorted(paths) == sorted(on_disk), "published files and log entries differ"
        assert leftovers(self.path) == [], "temporary files left"
        keys = {}
        for entry in entries:
            folder, name = entry["path"].split("/")
            assert entry["kind"] == KIND_OF_FOLDER[folder], entry
            named = FEED_NAME.fullmatch(name)
            assert named and named["stamp"] == entry["run"], f"{entry['path']} is not named by its run {entry['run']}"
            data = (self.path / entry["path"]).read_bytes()
            digest = sha256(data).hexdigest()
            assert (len(data), digest) == (entry["bytes"], entry["sha256"]), f"{entry['path']} is not what its entry says"
            assert self.digests.setdefault(entry["path"], digest) == digest, f"{entry['path']} changed after publication"
            keys[entry["path"]] = feed_keys(entry["path"], data, entry["kind"])
            assert len(keys[entry["path"]]) == entry["records"] > 0, entry
        return keys


def all_keys(keys_by_file: dict[str, list[tuple[str, str]]]) -> Counter:
    return Counter(key for keys in keys_by_file.values() for key in keys)


def store_state(store: Path) -> tuple[set, list, str]:
    """The seen store as the next run finds it: seen pairs, journal entries, lock file content."""
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        seen = set(db.execute("SELECT kind, id FROM seen"))
        journal = list(db.execute("SELECT temp_path, state FROM feed_journal"))
    return seen, journal, Path(f"{store}.lock").read_text()


def assert_store_holds(store: Path, published: Counter) -> None:
    """The store commits exactly what the published files hold, and nothing is pending."""
    seen, journal, lock = store_state(store)
    assert seen - set(published) == set(), "ids committed that no published file holds"
    assert set(published) - seen == set(), "published ids left uncommitted (the next run publishes them again)"
    assert journal == [], "the feed journal is not settled"
    assert lock == "", "the store lock was not released"


def assert_exactly_once(published: Counter, expected: set = EXPECTED_KEYS) -> None:
    assert {key: n for key, n in published.items() if n > 1} == {}, "records published more than once"
    lost = expected - set(published)
    headlines = {(r["kind"], r["id"]): r["headline"] for r in EXPECTED}
    assert lost == set(), f"records lost: {sorted((kind, headlines.get((kind, i), i)) for kind, i in lost)}"
    assert set(published) - expected == set(), "records the site does not hold"


def rerun_until_success(crawls: Crawls, url, state_dir: Path, feeds: FeedDir, *, name: str) -> Counter:
    """Runs again without the fault until a run succeeds, checking after each; returns what was published."""
    for attempt in range(RERUNS):
        status, log = crawls.run(url, state_dir, feeds.path, name=f"{name}-rerun{attempt}")
        assert status in (0, 1), log[-3000:]
        published = all_keys(feeds.check())
        assert_store_holds(state_dir / "seen.sqlite3", published)
        if status == 0:
            assert last_line(log).endswith("Run succeeded")
            return published
    raise AssertionError(f"no rerun succeeded in {RERUNS}; the last one ended: {last_line(log)}")


# --- Sites.


def padded(site: Path, size: int = 14_000) -> Path:
    """Makes every lead and every brief of *site* about *size* bytes: long article bodies, long teasers."""
    sentence = (
        "De onderhandelaars spraken urenlang over de voorwaarden van het akkoord, de planning van de "
        "uitvoering en de verdeling van de kosten over de betrokken landen en instellingen. "
    )
    paragraphs = "".join(f"<p>Alinea {n}: {sentence}</p>\n" for n in range(size // (len(sentence) + 20)))
    teaser_tail = " " + sentence * (size // len(sentence))
    for page in (site / "nieuws").glob("*.html"):
        html = page.read_text(encoding="utf-8")
        if 'class="article__body"' in html:
            end = html.index("</div>", html.index('class="article__body"'))
            html = html[:end] + paragraphs + html[end:]
        html = re.sub(r'(<p class="news-list__text">.*?)(</p>)', lambda m: m[1] + teaser_tail + m[2], html)
        page.write_text(html, encoding="utf-8")
    return site


@pytest.fixture(scope="module")
def big_site_url(tmp_path_factory):
    site = padded(copy_site(SAMPLE_SITE, tmp_path_factory.mktemp("big") / "site"))
    with served(site) as url:
        yield url


@pytest.fixture(scope="module")
def slow_site_url(tmp_path_factory):
    site = copy_site(SAMPLE_SITE, tmp_path_factory.mktemp("slow") / "site")
    (site / "DELAY").write_text("0.1")  # about a second of fetching: room for a fault mid-run
    with served(site) as url:
        yield url


# --- 1. Transient disk full.


@pytest.mark.parametrize(
    ("site", "leave", "trigger"),
    [
        # Small records go through an 8 KB write buffer: the disk is given back a few ms after
        # the crawl's first failed write (logged), so it was full when the crawl wrote.
        pytest.param("site_url", 0, "write failed", id="small-records"),
        # ~14 KB records are written straight through, the first one as soon as its temporary
        # file appears: with one page free it is cut short, and the next record, written once the
        # space is back, is glued to its half.
        pytest.param("big_site_url", PAGE, "temp file", id="14KB-records-torn-write"),
    ],
)
def test_a_disk_full_while_writing_loses_nothing_and_publishes_no_invalid_line(
    request, tmp_path, crawls, site, leave, trigger
):
    """Fault: the feed directory on a tmpfs, full when the crawl starts writing, freed a few ms
    into it. Checked: the run fails; what it published is whole and committed, nothing else is;
    the reruns publish the rest; every record once, no invalid line."""
    url = request.getfixturevalue(site)
    state_dir = tmp_path / "state"
    with tmpfs(tmp_path / "feeds", 4 << 20) as mount:
        feeds = FeedDir(mount)
        filler = fill(mount, leave=leave)
        process_box: list[subprocess.Popen] = []

        def write_failed() -> bool:
            return bool(process_box) and ENOSPC in log_of(process_box[0])

        condition = (lambda: bool(temp_files(mount))) if trigger == "temp file" else write_failed
        watcher = Watcher(condition, filler.unlink, delay=FULL_DISK_DELAY, timeout=CRAWL_TIMEOUT)
        watcher.start()
        process_box.append(crawls.start(url, state_dir, mount, name="disk-full"))
        status, log = finish(process_box[0])
        watcher.stop()
        assert watcher.error is None, watcher.error
        assert watcher.fired_at is not None, "the disk was never freed: the crawl wrote nothing, or never failed to"
        assert ENOSPC in log, "the fault did not bite: no write hit the full disk"
        if trigger == "temp file":  # the file cut short (or glued) was caught and left unpublished
            assert "not published" in log, "a feed with a short write was not refused"
        assert status == 1 and "Run failed" in last_line(log), log[-3000:]

        first = feeds.check()
        assert_store_holds(state_dir / "seen.sqlite3", all_keys(first))
        assert set(all_keys(first)) < EXPECTED_KEYS, "the run that hit the full disk published everything"

        published = rerun_until_success(crawls, url, state_dir, feeds, name="disk-full")
        assert_exactly_once(published)
        if trigger == "temp file":
            records = [json.loads(line) for path in published_files(mount) for line in path.read_bytes().splitlines()]
            big = [r for r in records if len(json.dumps(r, ensure_ascii=False)) > 10_000]
            assert len(big) >= 0.9 * len(records)  # big records indeed (a brief whose teaser spans lines is not padded)


# --- 2. The seen store write-locked by another process mid-run.

HOLD_SECONDS = 20
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
print("released", flush=True)
"""


def test_a_store_write_locked_mid_run_marks_nothing_seen_that_no_file_holds(slow_site_url, tmp_path, crawls):
    """Fault: another process holds the store's write lock (BEGIN IMMEDIATE) for 20 s from the
    crawl's first fetch. Checked: the crawl waits and succeeds, or fails cleanly; the store
    commits only what the published files hold; every record once after the reruns."""
    state_dir = tmp_path / "state"
    feeds = FeedDir(tmp_path / "feeds")
    store = state_dir / "seen.sqlite3"
    SeenStore.open(f"sqlite:///{store}").close()  # an existing store, as every scheduled run finds it
    before = len(slow_site_url.requested())
    started = time.monotonic()
    process = crawls.start(slow_site_url, state_dir, feeds.path, name="locked")
    holder = None
    try:
        while not any("/nieuws/" in line for line in slow_site_url.requested()[before:]):
            assert process.poll() is None, f"the crawl ended before it fetched: {log_of(process)[-3000:]}"
            assert time.monotonic() - started < CRAWL_TIMEOUT
            time.sleep(0.005)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(store), str(HOLD_SECONDS)], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout.readline().strip() == "locked"
        locked_at = time.monotonic()
        assert process.poll() is None and temp_files(feeds.path) == [], "the lock came too late to be mid-run"
        status, log = finish(process)
        ended = time.monotonic()
        assert holder.wait(timeout=HOLD_SECONDS + 30) == 0
    finally:
        if holder is not None and holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder is not None:
            holder.stdout.close()

    assert status in (0, 1), log[-3000:]
    if status == 0:  # it waited for the lock
        assert ended - locked_at > HOLD_SECONDS - 2 and last_line(log).endswith("Run succeeded")
    else:  # it gave up cleanly
        assert "Run failed" in last_line(log) and "Traceback" not in log, log[-3000:]
    published = all_keys(feeds.check())
    assert_store_holds(store, published)
    if status == 1:
        published = rerun_until_success(crawls, slow_site_url, state_dir, feeds, name="locked")
    assert_exactly_once(published)


def stopped_at_first_temp_file(live, feeds):
    """*live*, a crawl just started, stopped (SIGSTOP) as soon as its first temporary feed file appears."""

    def stop_live() -> None:
        if live.returncode is None:  # not reaped: still running, or a zombie the signal cannot harm
            os.kill(live.pid, signal.SIGSTOP)

    stopper = Watcher(lambda: bool(temp_files(feeds.path)) or process_state(live.pid) == "Z", stop_live, delay=0, timeout=CRAWL_TIMEOUT)
    stopper.start()
    stopper.join(timeout=CRAWL_TIMEOUT + 10)
    assert stopper.error is None and stopper.fired_at is not None, f"the crawl never wrote a feed: {log_of(live)[-3000:]}"
    assert process_state(live.pid) != "Z", f"the crawl ended before it could be stopped: {log_of(live)[-3000:]}"
    deadline = time.monotonic() + 10
    while process_state(live.pid) != "T":
        assert time.monotonic() < deadline, "the crawl did not stop"
        time.sleep(0.01)
    return live


# --- 3. -O with the per-kind feeds failing.


@pytest.mark.parametrize("blocked", [("briefs", "leads"), ("briefs",)], ids=["both-kinds", "briefs-only"])
def test_an_output_file_marks_nothing_seen_when_the_kind_feeds_fail(site_url, tmp_path, crawls, blocked):
    """Fault: a file where a kind's folder should be, with ``-O out.jsonl``, once the crawl has
    begun writing its feeds (before, the preflight refuses the set-up: exit 78, nothing fetched).
    Checked: ``-O`` holds every record; the run fails; no id is committed but those of a
    per-kind file that was published; a rerun without the fault publishes the rest in the
    per-kind feeds."""
    state_dir = tmp_path / "state"
    feeds = FeedDir(tmp_path / "feeds")
    out = tmp_path / "out.jsonl"
    # Stopped as soon as its first temporary feed file appears; the folders turn into files then.
    live = stopped_at_first_temp_file(crawls.start(site_url, state_dir, feeds.path, "-O", str(out), name="blocked"), feeds)
    for folder in blocked:
        (feeds.path / folder).rename(tmp_path / f"moved-{folder}")  # with any temporary file in it
        (feeds.path / folder).write_text("a file, not a folder\n")
    os.kill(live.pid, signal.SIGCONT)
    status, log = finish(live)
    assert status == 1 and "Run failed" in last_line(log), log[-3000:]
    data = out.read_bytes()
    by_kind = {kind: b"".join(line for line in data.splitlines(keepends=True) if f'"kind": "{kind}"'.encode() in line)
               for kind in KIND_OF_FOLDER.values()}  # fmt: skip
    assert sum(len(part) for part in by_kind.values()) == len(data), "-O holds lines of no kind"
    output = Counter(key for kind, part in by_kind.items() for key in feed_keys(str(out), part, kind))
    assert output == Counter(EXPECTED_KEYS), "-O does not hold every record once"

    for folder in blocked:
        (feeds.path / folder).unlink()
    first = feeds.check()
    # With the briefs unpublished the leads are held back too: a published lead would make the
    # next run skip its article and the "Meer uit" briefs only that page shows.
    assert first == {}
    if "leads" not in blocked:
        assert "not published, because this run's brief records were not" in log
    assert store_state(state_dir / "seen.sqlite3")[0] == set(), "-O marked records seen"

    published = rerun_until_success(crawls, site_url, state_dir, feeds, name="unblocked")
    assert_exactly_once(published)


# --- 4. Two crawls in one second sharing a feed directory.

SAME_SECOND_ATTEMPTS = 6


def run_dir_lines(log: str, pattern: re.Pattern, feed_dir: Path) -> list[str]:
    """The paths a crawl's log names with *pattern*, relative to the feed directory."""
    return sorted(Path(m["path"]).relative_to(feed_dir).as_posix() for m in pattern.finditer(log))


def test_two_crawls_in_one_second_sharing_a_feed_directory_publish_under_distinct_names(site_url, tmp_path, crawls):
    """Fault: two crawls with their own stores and one feed directory, started at once, until a
    pair shares its run stamp (second). Checked: four files under distinct names, the log's seq
    1..4, every file equal to its entry, both reports kept under distinct names, each run's store
    holding what its own files hold, each record once per run."""
    for attempt in range(SAME_SECOND_ATTEMPTS):
        base = tmp_path / f"attempt-{attempt}"
        feeds = FeedDir(base / "feeds")
        pair = [crawls.start(site_url, base / f"state-{who}", feeds.path, name=f"same-second-{who}") for who in "ab"]
        results = [finish(process) for process in pair]
        for status, log in results:
            assert status == 0, log[-3000:]
        if len({entry["run"] for entry in feeds.entries()}) == 1:
            break
    else:
        pytest.fail(f"no two crawls of {SAME_SECOND_ATTEMPTS} pairs started in the same second")

    keys = feeds.check()
    stamp = feeds.entries()[0]["run"]
    assert sorted(keys) == sorted(f"{folder}/{stamp}{tail}.jsonl" for folder in KIND_OF_FOLDER for tail in ("", "-2"))
    reports = []
    own_files = []
    for (status, log), who in zip(results, "ab", strict=True):
        files = run_dir_lines(log, COMMITTED_LINE, feeds.path)
        assert sorted(path.split("/")[0] for path in files) == sorted(KIND_OF_FOLDER), f"run {who} published {files}"
        own_files.append(files)
        (report,) = run_dir_lines(log, REPORT_LINE, feeds.path)
        reports.append(report)
        content = json.loads((feeds.path / report).read_text(encoding="utf-8"))
        assert content["exit_status"] == 0
        listed = sorted(Path(feed["uri"]).relative_to(feeds.path).as_posix() for feed in content["feeds"] if feed["published"])
        assert listed == files, f"run {who}'s report names other files than it published"
        published = all_keys({path: keys[path] for path in files})
        assert_exactly_once(published)
        assert_store_holds(base / f"state-{who}" / "seen.sqlite3", published)
    assert set(own_files[0]).isdisjoint(own_files[1])
    assert set(reports) == {f"reports/{stamp}.json", f"reports/{stamp}-2.json"}, "the run reports are not both kept"
    assert {p.name for p in (feeds.path / "reports").glob("*.json")} == {f"{stamp}.json", f"{stamp}-2.json"}


# --- 5. Started from a subfolder with relative paths.


@pytest.fixture
def relative_dir():
    """A fresh relative folder under one the project's .gitignore ignores; removed after, with
    any copy a crawl made under tests/ by mistake."""
    relative = Path(".wirecrawler") / f"e2e-publication-{uuid.uuid4().hex[:12]}"
    stray = ROOT / "tests" / ".wirecrawler"
    stray_before = stray.exists()
    yield relative
    shutil.rmtree(ROOT / relative, ignore_errors=True)
    shutil.rmtree(ROOT / "tests" / relative, ignore_errors=True)
    if not stray_before and stray.exists():
        shutil.rmtree(stray, ignore_errors=True)


def test_a_crawl_started_from_a_subfolder_keeps_state_and_feeds_under_the_project_root(site_url, crawls, relative_dir):
    """Fault: ``cd tests && ../.venv/bin/python -m scrapy crawl ...`` with relative state and feed
    directories. Checked: both land under the project root, and runs from the root (and from the
    subfolder with a relative seen store URL) find the same store and publish nothing new."""
    state, feed = relative_dir / "state", relative_dir / "feeds"
    status, log = crawls.run(site_url, state, feed, cwd=ROOT / "tests", name="from-tests")
    assert status == 0, log[-3000:]
    assert not (ROOT / "tests" / relative_dir).exists(), "state or feeds landed under the working directory"
    feeds = FeedDir(ROOT / feed)
    published = all_keys(feeds.check())
    assert_exactly_once(published)
    store = ROOT / state / "seen.sqlite3"
    assert_store_holds(store, published)
    (report,) = [m["path"] for m in REPORT_LINE.finditer(log)]
    assert Path(report).parent == ROOT / feed / "reports"

    again = [
        crawls.run(site_url, state, feed, name="from-root"),
        crawls.run(
            site_url, relative_dir / "other-state", feed, "-s", f"WIRECRAWLER_SEEN_STORE=sqlite:///{state}/seen.sqlite3",
            cwd=ROOT / "tests", name="from-tests-store-url",
        ),
    ]  # fmt: skip
    for status, log in again:
        assert status == 0 and "committed after publishing" not in log, log[-3000:]
        assert all_keys(feeds.check()) == published, "a later run published again"
        assert_store_holds(store, published)
    assert not (ROOT / "tests" / relative_dir).exists()
    assert not (ROOT / relative_dir / "other-state" / "seen.sqlite3").exists()


# --- 6. A live crawl's store through a symbolic link; a store of zero bytes.


def process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_live_crawls_store_reached_through_a_symlink_is_refused(site_url, slow_site_url, tmp_path, crawls):
    """Fault: while a crawl has its temporary feed files open (stopped there with SIGSTOP), more
    crawls on the same feed directory reach its store through a symbolic link to the file, and
    to its folder. Checked: each is refused (store busy, exit 75, nothing fetched, nothing
    published), the live crawl's temporary files and journal are untouched, and it then
    completes: every record once."""
    state_dir = tmp_path / "state"
    store = state_dir / "seen.sqlite3"
    feeds = FeedDir(tmp_path / "feeds")
    live = stopped_at_first_temp_file(crawls.start(site_url, state_dir, feeds.path, name="live"), feeds)

    def temps() -> dict[str, tuple[int, int]]:
        return {p.name: (p.stat().st_ino, p.stat().st_size) for p in temp_files(feeds.path)}

    held, journal, entries = temps(), store_state(store)[1], feeds.entries()
    assert held, "the live crawl had published before it was stopped: no temporary file to watch"
    assert {Path(temp).name for temp, _ in journal} == set(held)

    links = tmp_path / "links"
    links.mkdir()
    (links / "store-link.sqlite3").symlink_to(store)
    (links / "state-link").symlink_to(state_dir, target_is_directory=True)
    for url_path in (links / "store-link.sqlite3", links / "state-link" / "seen.sqlite3"):
        before = len(slow_site_url.requested())
        status, log = crawls.run(
            slow_site_url, tmp_path / f"other-{url_path.parent.name}", feeds.path,
            "-s", f"WIRECRAWLER_SEEN_STORE=sqlite:///{url_path}", name="through-link",
        )  # fmt: skip
        assert status == 75, log[-3000:]  # EX_TEMPFAIL, as the wrapper's lock held by another run
        last = log.rstrip().splitlines()[-1]
        assert "ERROR: Run failed: not started: the seen store" in last and "is in use by another crawl" in last, last
        assert slow_site_url.requested()[before:] == [], "the refused crawl fetched pages"
        assert temps() == held, "the live crawl's temporary files were touched"
        assert store_state(store)[1] == journal, "the live crawl's journal was touched"
        assert feeds.entries() == entries, "the refused crawl published"
        assert process_state(live.pid) == "T"

    os.kill(live.pid, signal.SIGCONT)
    status, log = finish(live)
    assert status == 0, log[-3000:]
    published = all_keys(feeds.check())
    assert_exactly_once(published)
    assert_store_holds(store, published)


def test_a_zero_length_store_is_refused_with_one_line_and_nothing_published(site_url, tmp_path, crawls):
    """Fault: the store file is there with zero bytes (a restore gone wrong). Checked: exit 78
    (EX_CONFIG: the set-up needs the operator), one clear error line naming the store, the run's
    last, no traceback, no monitors, nothing fetched or published, the file left as it was."""
    state_dir = tmp_path / "state"
    store = state_dir / "seen.sqlite3"
    state_dir.mkdir()
    store.write_bytes(b"")
    feeds = FeedDir(tmp_path / "feeds")
    before = len(site_url.requested())
    status, log = crawls.run(site_url, state_dir, feeds.path, name="empty-store")
    assert status == 78, log[-3000:]
    lines = log.rstrip().splitlines()
    refusals = [n for n, line in enumerate(lines) if "] ERROR: " in line and "empty file (0 bytes)" in line]
    assert refusals == [len(lines) - 1], log[-3000:]  # one line, the run's last
    refusal = lines[-1]
    assert f"] ERROR: Run failed: not started: the seen store {store} is an empty file (0 bytes)" in refusal
    assert "Traceback" not in log and "Monitor " not in log
    assert site_url.requested()[before:] == [], "a crawl on an empty store fetched pages"
    assert published_files(feeds.path) == [] and feeds.entries() == []
    assert store.stat().st_size == 0
    assert sorted(p.name for p in state_dir.iterdir()) == ["seen.sqlite3", "seen.sqlite3.lock"]
