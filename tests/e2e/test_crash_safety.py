"""Crash safety, exactly once: real crawls of the sample site killed or stopped, then run again.

Every test injects a real fault into a ``scrapy crawl`` subprocess: SIGKILL at a crash point
(``wirecrawler.store.faults``), SIGKILL from outside while pages are being fetched, or SIGTERM/SIGINT.
It checks what the broken run left, then runs again without a fault and checks, across every
feed file that all the runs published: every (kind, id) of the expected feed exactly once and
as expected, no temporary file left, and the seen store holding exactly what was published,
with nothing pending in its journal and its lock released.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest

from tests.crawling import CRAWL_TIMEOUT, ROOT, SAMPLE_SITE, copy_site, crawl, differences, read_jsonl, url_path
from wirecrawler.local.demo import local_crawl_command
from wirecrawler.local.server import served
from wirecrawler.store.seen import StoreLock

EXPECTED = read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")
EXPECTED_KEYS = {(r["kind"], r["id"]) for r in EXPECTED}
EXPECTED_ARTICLES = sorted(url_path(r["url"]) for r in EXPECTED if r["kind"] == "lead")
SLOW_PAGE_SECONDS = "0.2"  # long enough for a signal to land while pages are still being fetched


@pytest.fixture(scope="module")
def slow_site_url(tmp_path_factory):
    site = copy_site(SAMPLE_SITE, tmp_path_factory.mktemp("slow") / "site")
    (site / "DELAY").write_text(SLOW_PAGE_SECONDS)
    with served(site) as url:
        yield url


# --- What is on disk.


def feed_files(state: Path) -> list[Path]:
    """Every feed file a reader sees: the per-kind feeds, temporary (dot) names excluded."""
    return sorted(p for kind in ("leads", "briefs") for p in (state / "feeds" / kind).glob("[!.]*.jsonl"))


def published(state: Path) -> list[dict]:
    return [record for path in feed_files(state) for record in read_jsonl(path)]


def keys(records: list[dict]) -> Counter:
    return Counter((r["kind"], r["id"]) for r in records)


def temp_files(state: Path) -> list[str]:
    feeds = state / "feeds"
    return sorted(p.name for p in feeds.rglob(".*")) if feeds.exists() else []


def seen_store(state: Path) -> tuple[set, list, str]:
    """The store as the next run finds it: seen pairs, journal (temp name, state), lock file content."""
    path = state / "state" / "seen.sqlite3"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        seen = set(db.execute("SELECT kind, id FROM seen"))
        journal = [(Path(temp).name, entry) for temp, entry in db.execute("SELECT temp_path, state FROM feed_journal")]
    return seen, journal, Path(f"{path}.lock").read_text()


def assert_exactly_once(state: Path, compare=differences) -> None:
    records = published(state)
    assert compare(records, EXPECTED) == []
    assert max(keys(records).values()) == 1
    assert temp_files(state) == []
    seen, journal, lock = seen_store(state)
    assert seen == set(keys(records)) == EXPECTED_KEYS
    assert journal == []
    assert lock == ""  # released by a clean exit


def article_requests(lines: list[str]) -> list[str]:
    return sorted(line.split(" ", 1)[1] for line in lines if "/nieuws/" in line and "/nieuws/buitenland" not in line)


def crawl_until(url, state: Path, articles: int, signum: int) -> tuple[int, str, list[str]]:
    """Crawls *url* (a slow site) and sends *signum* once *articles* article pages were served.

    Returns the exit status, the log, and the site's requests of this crawl, in-flight ones included.
    """
    before = len(url.requested())
    command = local_crawl_command(url, state / "state", state / "feeds")
    log = state / "crawl.log"
    state.mkdir(parents=True, exist_ok=True)
    with log.open("w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stderr=stderr)
        try:
            deadline = time.monotonic() + CRAWL_TIMEOUT  # a guard against a hang, not a measurement
            while len(article_requests(url.requested()[before:])) < articles:
                assert process.poll() is None, "the crawl ended before the signal"
                assert time.monotonic() < deadline, "the crawl fetched too few articles"
                time.sleep(0.02)
            process.send_signal(signum)
            status = process.wait(timeout=CRAWL_TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return status, log.read_text(), url.requested()[before:]


# --- SIGKILL at a crash point, then a run without fault.

UNCOMMITTED = "was published but its crawl died before committing its ids"
LEFTOVER = "Removed leftover temporary feed file"

# What the killed run left: the kinds of the feed files it published, the kinds it committed,
# its journal entries as (state, whether the temporary file is still there); then the line the
# next start logs as it settles them.
CRASHES = [
    pytest.param("feed_temp_created", [], [], {("writing", True)}, LEFTOVER, id="feed-file-being-written"),
    pytest.param("item_scraped@45", [], [], {("writing", True)}, LEFTOVER, id="during-pipelines"),
    pytest.param(
        "before_feed_rename",
        [],
        [],
        {("publishing", True), ("writing", True)},
        "was never published (its crawl died before publishing it)",
        id="before-rename",
    ),
    pytest.param(
        "after_feed_rename",
        ["brief"],  # briefs go first (settings.FEEDS): no lead is published without its page's briefs
        [],
        {("publishing", False), ("writing", True)},
        UNCOMMITTED,
        id="after-rename-before-commit",
    ),
    pytest.param(
        "after_feed_rename@2",
        ["brief", "lead"],
        [],
        {("publishing", False)},
        UNCOMMITTED,
        id="after-both-renames-before-commit",
    ),
    pytest.param(
        "after_seen_commit",
        ["brief", "lead"],
        ["brief"],
        {("publishing", False)},
        UNCOMMITTED,
        id="after-first-commit",
    ),
]


@pytest.mark.parametrize(("point", "visible_kinds", "committed_kinds", "journal", "recovery_line"), CRASHES)
def test_a_crawl_killed_at_a_crash_point_loses_and_repeats_nothing(
    site_url, tmp_path, point, visible_kinds, committed_kinds, journal, recovery_line
):
    """Fault: SIGKILL at *point*. Checked: the killed run left only complete feed files, a store
    that matches them and a journal that says where it died; the next start settles it with a
    log line and the next run completes the feed, each record once."""
    killed = crawl(site_url, tmp_path, env={"WIRECRAWLER_CRASH_AT": point})
    assert killed.returncode == -signal.SIGKILL, killed.log[-3000:]

    # Readers see complete files only, and the store holds what the killed run committed.
    visible = keys(published(tmp_path))
    assert set(visible) <= EXPECTED_KEYS and max(visible.values(), default=1) == 1
    assert sorted({kind for kind, _ in visible}) == visible_kinds
    seen, entries, lock = seen_store(tmp_path)
    assert seen == {key for key in visible if key[0] in committed_kinds}
    assert {(state, name in temp_files(tmp_path)) for name, state in entries} == journal
    assert lock.strip().isdigit()  # the killed crawl's pid: a stale lock

    again = crawl(site_url, tmp_path)
    assert again.returncode == 0, again.log[-3000:]
    assert "Stale lock" in again.log and recovery_line in again.log
    assert_exactly_once(tmp_path)


def test_a_crawl_killed_while_fetching_publishes_nothing_and_the_next_fetches_everything(
    slow_site_url, site_url, tmp_path
):
    """Fault: SIGKILL from outside after 6 article pages were served. Checked: no file, no temp, store untouched.

    The next run goes to another server of the same site: the slow one may still log a request
    of the killed crawl that it was serving.
    """
    status, _, requests = crawl_until(slow_site_url, tmp_path, 6, signal.SIGKILL)
    assert status == -signal.SIGKILL
    assert len(article_requests(requests)) < len(EXPECTED_ARTICLES)
    assert (published(tmp_path), temp_files(tmp_path)) == ([], [])
    seen, journal, lock = seen_store(tmp_path)
    assert (seen, journal, lock.strip().isdigit()) == (set(), [], True)

    before = len(site_url.requested())
    again = crawl(site_url, tmp_path)
    assert again.returncode == 0, again.log[-3000:]
    assert "Stale lock" in again.log
    assert article_requests(site_url.requested()[before:]) == EXPECTED_ARTICLES
    assert_exactly_once(tmp_path)


# --- SIGTERM and SIGINT: a graceful stop publishes what was complete.


def without_times(records: list[dict]) -> list[dict]:
    """Records without their time fields: a stopped run dates a story by what it had seen so far."""
    return [{**r, "published_at": None, "published_precision": None, "published_label": None} for r in records]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_crawl_publishes_what_it_fetched_and_the_next_fetches_the_rest(
    slow_site_url, site_url, tmp_path, signum
):
    """Fault: SIGTERM/SIGINT after 6 article pages were served. Checked: the fetched part is published
    and committed, the run fails, the next run fetches only the articles not fetched and completes the feed."""
    status, log, requests = crawl_until(slow_site_url, tmp_path, 6, signum)
    assert status == 1, log[-3000:]
    assert "Closing spider (shutdown)" in log and "releasing the" in log
    assert "Run failed" in log and "the spider closed with reason 'shutdown'" in log
    fetched = article_requests(requests)
    assert 6 <= len(fetched) < len(EXPECTED_ARTICLES)
    first = published(tmp_path)
    assert sorted(url_path(r["url"]) for r in first if r["kind"] == "lead") == fetched
    assert any(r["kind"] == "brief" for r in first)
    assert set(keys(first)) <= EXPECTED_KEYS and max(keys(first).values()) == 1
    seen, journal, lock = seen_store(tmp_path)
    assert (seen, journal, lock, temp_files(tmp_path)) == (set(keys(first)), [], "", [])

    before = len(site_url.requested())
    again = crawl(site_url, tmp_path)
    assert again.returncode == 0, again.log[-3000:]
    assert article_requests(site_url.requested()[before:]) == sorted(set(EXPECTED_ARTICLES) - set(fetched))
    assert_exactly_once(tmp_path, compare=lambda got, want: differences(without_times(got), without_times(want)))


# --- The store lock.


def test_a_crawl_does_not_start_on_a_seen_store_another_live_crawl_holds(site_url, tmp_path):
    """Fault: a second crawl on the same state while the first runs. Checked: it fetches and publishes
    nothing, runs no monitors, exits 75 (EX_TEMPFAIL, as the wrapper's own lock), and its last line,
    after Scrapy's closing lines, says why; its report says so too."""
    store = tmp_path / "state" / "seen.sqlite3"
    holder = StoreLock.acquire(str(store))  # the first crawl, as far as the lock goes
    try:
        before = len(site_url.requested())
        refused = crawl(site_url, tmp_path)
        assert refused.returncode == 75
        refusal = f"not started: the seen store {store} is in use by another crawl (pid {os.getpid()}, lock {store}.lock)"
        last = refused.log.rstrip().splitlines()[-1]
        assert last.endswith(f"ERROR: Run failed: {refusal}"), last
        assert "Spider closed (seen_store_busy)" in refused.log and "Monitor " not in refused.log
        assert site_url.requested()[before:] == []
        assert published(tmp_path) == []
        [report] = (tmp_path / "feeds" / "reports").glob("*.json")
        assert json.loads(report.read_text())["failures"] == [refusal]
        assert json.loads(report.read_text())["exit_status"] == 75
    finally:
        holder.release()
    assert crawl(site_url, tmp_path).returncode == 0
    assert_exactly_once(tmp_path)
