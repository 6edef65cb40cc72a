"""``python -m wirecrawler backfill`` end to end, against a generated archive served locally.

The backfill is killed at random moments, several times, and resumed each time: every record of
the archive must come out exactly once, every file whole; then a scheduled crawl publishes only
what is newer. And the backfill shares the seen store with the scheduled crawl: the one that
holds it runs, the other waits (the backfill) or is refused with exit 75 (the scheduled run).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dateutil.relativedelta import relativedelta

from tests.crawling import ROOT, crawl, read_jsonl
from testsites.archive import AMS, Archive, serve
from wirecrawler.store.seen import StoreLock

SPACING = timedelta(hours=6)
PAGES = 24  # 240 stories; windows of 4 listing pages: 8 windows
KILLS = 5


def backfill_command(url: str, state: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "wirecrawler", "backfill", "--start-url", f"{url}/nieuws/buitenland",
        "--window", "4", "--yield-every", "0", "--progress", "lines",
        "-s", f"WIRECRAWLER_STATE_DIR={state / 'state'}", "-s", f"WIRECRAWLER_FEED_DIR={state / 'feeds'}",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", *extra,
    ]  # fmt: skip


def start(command: list[str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)


def descendants(pid: int) -> list[int]:
    """Every live process below *pid*."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_everything(process: subprocess.Popen) -> None:
    """A power cut: the backfill and its window's crawl, SIGKILL, at once."""
    for pid in [process.pid, *descendants(process.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)


def published(feed_dir: Path) -> list[dict]:
    """Every record of every file the publication log names, in order."""
    records = []
    for line in (feed_dir / "publications.log").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["event"] == "published":
            records += read_jsonl(feed_dir / entry["path"])
    return records


def expected_labels(archive: Archive) -> dict[str, tuple[str, str]]:
    return {archive.story(number).id: archive.expected_label(number) for number in archive.numbers()}


def test_a_backfill_killed_at_random_moments_resumes_and_publishes_every_record_once(tmp_path):
    seed = int(os.environ.get("BACKFILL_TEST_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    archive = Archive(PAGES, spacing=SPACING)
    feed_dir, state_file, log = tmp_path / "feeds", tmp_path / "state" / "backfill.json", tmp_path / "backfill.out"
    with serve(archive) as server:
        command = backfill_command(server.url, tmp_path)
        interrupted = []
        for _ in range(KILLS):
            process = start(command, log)
            moment = rng.uniform(0.5, 6.0)
            try:
                process.wait(timeout=moment)
                break  # done before this kill
            except subprocess.TimeoutExpired:
                pass
            if rng.random() < 0.7:
                kill_everything(process)
                interrupted.append(f"SIGKILL at {moment:.1f} s")
            else:
                process.send_signal(signal.SIGTERM)  # as an operator's kill or systemctl stop
                # 1: stopped; -15: stopped before it set up its handlers; 0: done just before the signal
                assert process.wait(timeout=60) in (1, -15, 0), log.read_text()[-3000:]
                interrupted.append(f"SIGTERM at {moment:.1f} s")
            if state_file.exists():
                json.loads(state_file.read_text(encoding="utf-8"))  # whole, whatever the moment
        process = start(command, log)
        assert process.wait(timeout=120) == 0, log.read_text()[-3000:]
        said = f"seed {seed}, {interrupted}"

        records = published(feed_dir)
        keys = [(record["kind"], record["id"]) for record in records]
        assert len(keys) == len(set(keys)), f"published more than once ({said})"
        assert set(keys) == archive.expected_keys(), said
        labels = expected_labels(archive)
        wrong = [r for r in records if (r["published_label"], r["published_precision"]) != labels[r["id"]]]
        assert wrong == [], said
        verify = subprocess.run(
            [sys.executable, "-m", "wirecrawler", "feeds", "--feed-dir", str(feed_dir), "verify"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert [p for p in feed_dir.rglob("*") if p.name.startswith(".tmp-")] == []
        state = json.loads(state_file.read_text(encoding="utf-8"))
        assert state["finished"] == f"listing page {PAGES} is the archive's last"
        assert state["records"] == {"brief": PAGES * 10, "lead": PAGES * 10}

        # Done is done: the same command again fetches nothing and publishes nothing.
        asked = sum(server.requests.values())
        again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and "done already" in again.stderr
        assert sum(server.requests.values()) == asked
        # Walked anew, it reads the listing but fetches no article whose lead was published.
        articles = server.article_requests()
        anew = subprocess.run([*command, "--restart"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert anew.returncode == 0, anew.stderr[-3000:]
        assert server.article_requests() == articles
        assert len(published(feed_dir)) == len(records)

        # The scheduled crawl, once news arrived, publishes only the news.
        server.archive = Archive(PAGES, spacing=SPACING, new=3)
        scheduled = crawl(server.url, tmp_path)
        assert scheduled.returncode == 0, scheduled.log[-3000:]
        news = scheduled.records()
        assert {(r["kind"], r["id"]) for r in news} == server.archive.expected_keys([-3, -2, -1])
        assert len(news) == 6
        new_labels = expected_labels(server.archive)
        assert all((r["published_label"], r["published_precision"]) == new_labels[r["id"]] for r in news)


def test_the_backfill_and_the_scheduled_crawl_share_the_seen_store_one_at_a_time(tmp_path):
    """The backfill waits while a crawl holds the store; a scheduled crawl during a window is
    refused with 75. And --until ends the walk at the stories of that day."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    archive = Archive(12, spacing=SPACING, first_ref=now)  # 120 stories over 30 days, up to now
    until = (now - timedelta(days=10)).date()
    store = tmp_path / "state" / "seen.sqlite3"
    log = tmp_path / "backfill.out"
    with serve(archive) as server:
        holder = StoreLock.acquire(str(store))  # a scheduled crawl is running
        try:
            process = start(backfill_command(server.url, tmp_path, "--until", until.isoformat()), log)
            deadline = time.monotonic() + 60
            while "another crawl holds the seen store" not in log.read_text():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)
        finally:
            holder.release()
        server.delay = 0.5  # windows that last a few seconds
        lock = Path(f"{store}.lock")
        deadline = time.monotonic() + 60
        while not lock.read_text().strip():  # the backfill's window took the store
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        refused = crawl(server.url, tmp_path)
        assert refused.returncode == 75, refused.log[-2000:]
        assert "in use by another crawl" in refused.log
        assert process.wait(timeout=120) == 0, log.read_text()[-3000:]

    keys = {(r["kind"], r["id"]) for r in published(tmp_path / "feeds")}
    until_start = datetime(until.year, until.month, until.day, tzinfo=AMS).astimezone(UTC)
    young = [n for n in archive.numbers() if archive.story(n).published >= until_start]
    assert archive.expected_keys(young) <= keys  # every story back to that day
    # ... and the listing up to the first page whose labels all say older than that day: a label
    # rounds the age down ("1 week geleden" is 7 to 13 days), so the walk goes past the day.
    last_read = next(
        page for page in range(1, archive.last_page + 1)
        if all(label_instant(archive, n) < until_start for n in archive.on_page(page))
    )  # fmt: skip
    assert keys == archive.expected_keys([n for n in archive.numbers() if archive.page_of(n) <= last_read])
    assert f"listing page {last_read} shows only stories older than --until" in log.read_text()


def label_instant(archive: Archive, number: int) -> datetime:
    """The latest instant a story's listing label allows (docs/CONTRACT.md), against the site's clock."""
    count, unit = archive.label(archive.story(number)).split()[:2]
    units = {"minuut": "minutes", "minuten": "minutes", "uur": "hours", "dag": "days", "dagen": "days",
             "week": "weeks", "weken": "weeks", "maand": "months", "maanden": "months", "jaar": "years"}  # fmt: skip
    return archive.ref - relativedelta(**{units[unit]: int(count)})
