"""``python -m wirecrawler feeds``: a feed directory read through its publication log, as a subprocess.

On a feed directory written here with ``PublicationLog``, and on the feeds of real crawls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy.utils.project import get_project_settings

from tests.crawling import ROOT, crawl
from wirecrawler.store import publog
from wirecrawler.store.publog import LOG_NAME, PublicationLog

NOW = datetime.now(UTC)


def feeds(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the package from anywhere, as from the project root
    command = [sys.executable, "-m", "wirecrawler", "feeds", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


def publish(feed_dir: Path, kind: str, days_ago: float, headlines: list[str], monkeypatch) -> publog.Entry:
    at = NOW - timedelta(days=days_ago)
    stamp = at.strftime("%Y-%m-%dT%H-%M-%SZ")
    file = feed_dir / f"{kind}s" / f"{stamp}.jsonl"
    file.parent.mkdir(parents=True, exist_ok=True)
    records = [{"id": f"{i:032x}", "kind": kind, "headline": headline} for i, headline in enumerate(headlines)]
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    monkeypatch.setattr(publog, "_now", lambda: at.replace(microsecond=0).isoformat().replace("+00:00", "Z"))
    return PublicationLog(feed_dir).append_published(file, kind=kind, records=len(lines), run=stamp)


@pytest.fixture
def feed_dir(tmp_path, monkeypatch) -> Path:
    """Three files: a brief file 10 days old, a lead file 9 days old, a lead file of today."""
    feed_dir = tmp_path / "feeds"
    publish(feed_dir, "brief", 10, ["Oud bericht", "Nog een oud bericht"], monkeypatch)
    publish(feed_dir, "lead", 9, ["Oude lead"], monkeypatch)
    publish(feed_dir, "lead", 0, ["Verse lead — één", "Tweede verse lead"], monkeypatch)
    return feed_dir


def headlines(stdout: str) -> list[str]:
    return [json.loads(line)["headline"] for line in stdout.splitlines()]


def test_list_shows_one_line_per_entry(feed_dir):
    done = feeds("--feed-dir", str(feed_dir), "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[:3] == ["1", "published", PublicationLog(feed_dir).entries()[0].path]
    assert "2 records" in lines[0] and "brief" in lines[0]


def test_read_gives_the_records_after_the_cursor_and_the_new_cursor(feed_dir):
    done = feeds("--feed-dir", str(feed_dir), "read", "--after", "0")
    assert done.returncode == 0, done.stderr
    assert headlines(done.stdout) == [
        "Oud bericht", "Nog een oud bericht", "Oude lead", "Verse lead — één", "Tweede verse lead",
    ]  # fmt: skip
    assert done.stderr == "cursor: 3\n"
    done = feeds("--feed-dir", str(feed_dir), "read", "--after", "2")
    assert headlines(done.stdout) == ["Verse lead — één", "Tweede verse lead"]
    assert (done.stderr, done.returncode) == ("cursor: 3\n", 0)
    done = feeds("--feed-dir", str(feed_dir), "read", "--after", "3")
    assert (done.stdout, done.stderr, done.returncode) == ("", "cursor: 3\n", 0)


def test_verify_then_prune_then_a_reader_behind_is_told_what_it_lost(feed_dir):
    done = feeds("--feed-dir", str(feed_dir), "verify")
    assert (done.returncode, done.stdout) == (0, "OK: 3 files\n")

    done = feeds("--feed-dir", str(feed_dir), "prune", "--keep-days", "7")
    assert done.returncode == 0, done.stderr
    assert [line.split()[1] for line in done.stdout.splitlines()] == [
        e.path + ":" for e in PublicationLog(feed_dir).entries()[:2]
    ]
    again = feeds("--feed-dir", str(feed_dir), "prune", "--keep-days", "7")
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")

    assert feeds("--feed-dir", str(feed_dir), "verify").stdout == "OK: 1 files\n"
    done = feeds("--feed-dir", str(feed_dir), "read", "--after", "0")
    assert done.returncode == 1
    assert headlines(done.stdout) == ["Verse lead — één", "Tweede verse lead"]
    problems = done.stderr.splitlines()
    assert problems[-1] == "cursor: 5"
    assert [p.split()[2:4] for p in problems[:-1]] == [["seq", "1"], ["seq", "2"]]
    assert all("pruned (seq" in p and "lost to this reader" in p for p in problems[:-1])
    assert "pruned (seq 4)" in feeds("--feed-dir", str(feed_dir), "list").stdout.splitlines()[0]


def test_verify_fails_on_a_changed_file(feed_dir):
    entry = PublicationLog(feed_dir).entries()[1]
    path = feed_dir / entry.path
    path.write_text(path.read_text(encoding="utf-8").replace("Oude", "Nieuwe"), encoding="utf-8")
    done = feeds("--feed-dir", str(feed_dir), "verify")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith(f"seq 2 {entry.path}: size ")
    assert "FAILED: 2 problems in 3 files" in done.stderr


def test_without_a_log_each_action_says_so(tmp_path):
    empty = tmp_path / "feeds"
    message = f"feeds: no publication log at {empty / LOG_NAME}: nothing was published there yet"
    expected = {("list",): 0, ("read", "--after", "0"): 0, ("read", "--after", "4"): 1, ("verify",): 1}
    expected[("prune", "--keep-days", "1")] = 0
    for action, status in expected.items():
        done = feeds("--feed-dir", str(empty), *action)
        assert (done.returncode, done.stdout, done.stderr.splitlines()[0]) == (status, "", message), action
    assert feeds("--feed-dir", str(empty), "read").stderr.splitlines()[1] == "cursor: 0"
    assert not empty.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("prune", "--keep-days", "0"), ("prune", "--keep-days", "-3"), ("prune", "--keep-days", "nan"), ("prune",),
        ("read", "--after", "-1"), ("read", "--after", "x"), (),
    ],  # fmt: skip
)
def test_usage_errors_exit_2(feed_dir, args):
    done = feeds("--feed-dir", str(feed_dir), *args)
    assert done.returncode == 2 and "usage:" in done.stderr
    assert len(PublicationLog(feed_dir).entries()) == 3


def test_a_shared_feed_place_needs_a_postgresql_store_and_a_local_one_none(feed_dir):
    """Usage errors, found before any server is asked: no store URL is ever shown, it may hold a password."""
    shared = "feeds: s3://wire/feeds is a shared feed place, whose publication log is in a PostgreSQL store: "
    done = feeds("--feed-dir", "s3://wire/feeds", "list")  # the project's store: SQLite, the default
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(shared) and "(the setting WIRECRAWLER_SEEN_STORE is a sqlite:// URL)" in done.stderr
    done = feeds("--feed-dir", "s3://wire/feeds", "--store", "mysql://wire:secret@db/wire", "verify")
    assert (done.returncode, done.stderr.startswith(shared)) == (2, True)
    assert "(--store is a mysql:// URL)" in done.stderr and "secret" not in done.stderr
    done = feeds("--feed-dir", str(feed_dir), "--store", "postgresql://wire:secret@db/wire", "list")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"feeds: --store is for a shared feed place (s3://bucket/prefix), whose log is in that store: "
        f"the log of {feed_dir} is {feed_dir / LOG_NAME}\n"
    )


def test_the_default_feed_directory_is_the_projects_feeds_found_from_below(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "deep" / "below").mkdir(parents=True)
    (project / "scrapy.cfg").write_text("[settings]\ndefault = wirecrawler.settings\n")
    publish(project / "feeds", "lead", 0, ["Een lead"], monkeypatch)
    done = feeds("read", cwd=project / "deep" / "below")
    assert (done.returncode, headlines(done.stdout), done.stderr) == (0, ["Een lead"], "cursor: 1\n")


# --- On the feeds of real crawls.


def test_a_crawls_feeds_verify_and_read_back_as_published(site_url, tmp_path):
    first = crawl(site_url, tmp_path)
    assert first.returncode == 0, first.log[-3000:]
    assert (first.feed_dir / LOG_NAME).exists(), "the crawl keeps no publication log"
    done = feeds("--feed-dir", str(first.feed_dir), "verify")
    assert (done.returncode, done.stdout) == (0, "OK: 2 files\n")
    done = feeds("--feed-dir", str(first.feed_dir), "read")
    assert done.returncode == 0 and done.stderr == "cursor: 2\n"
    read = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(read, key=json.dumps) == sorted(first.records(), key=json.dumps)
    assert {r["kind"] for r in read} == {"lead", "brief"}


def test_retention_at_the_end_of_a_run_prunes_through_the_log(site_url, tmp_path):
    first = crawl(site_url, tmp_path)
    assert first.returncode == 0, first.log[-3000:]
    # FeedRetention as settings.py is to list it, and a retention so short that every file is old.
    extensions = {**get_project_settings().getdict("EXTENSIONS"), "wirecrawler.retention.FeedRetention": 120}
    second = crawl(
        site_url, tmp_path, "-s", f"EXTENSIONS={json.dumps(extensions)}", "-s", "WIRECRAWLER_FEED_RETENTION_DAYS=1e-9"
    )
    assert second.returncode == 0, second.log[-3000:]
    assert second.files == {"lead": [], "brief": []}  # nothing new: the first run's files are the only ones
    assert "Feed retention: 2 files older than 1e-09 days pruned from" in second.log
    assert [path.exists() for paths in first.files.values() for path in paths] == [False, False]
    assert feeds("--feed-dir", str(first.feed_dir), "verify").stdout == "OK: 0 files\n"
    behind = feeds("--feed-dir", str(first.feed_dir), "read", "--after", "0")
    assert behind.returncode == 1 and behind.stdout == ""
    assert behind.stderr.count("lost to this reader") == 2 and behind.stderr.endswith("cursor: 4\n")
    assert len(list((first.feed_dir / "reports").glob("*.json"))) == 2  # the log names no report: none pruned
