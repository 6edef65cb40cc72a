"""The seen store on real SQLite files: schema migrations, the feed journal, the store lock.

What takes another process (a lock holder killed, a crash point read at start-up) is in
``tests/e2e/test_seen_store.py``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from wirecrawler.store.publog import PublicationLog
from wirecrawler.store.seen import (
    SCHEMA_VERSION,
    JournalEntry,
    Recovery,
    SeenStore,
    SeenStoreBusy,
    SeenStoreError,
    StoreLock,
)

LEAD = ("lead", "76cbec0cf7e62682715fbb37775e517a")
BRIEF = ("brief", "b15828a769adad44479d1a44a89e0487")

# The store as the first release wrote it (schema version 1): the seen table, nothing else.
FIRST_RELEASE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS seen ("
    " kind TEXT NOT NULL, id TEXT NOT NULL, first_seen TEXT NOT NULL,"
    " PRIMARY KEY (kind, id)) WITHOUT ROWID"
)


def first_release_store(path: Path, user_version: int = 1) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(FIRST_RELEASE_SCHEMA)
        db.execute("INSERT INTO seen VALUES (?, ?, '2026-11-24T10:00:00+00:00')", LEAD)
        db.execute(f"PRAGMA user_version={user_version}")


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture
def store(tmp_path):
    opened = SeenStore.open(f"sqlite:///{tmp_path / 'seen.sqlite3'}")
    yield opened
    opened.close()


# --- Migrations.


@pytest.mark.parametrize(
    "user_version",
    [
        1,  # the first release's store
        0,  # the same, from a first-release crawl killed between creating the table and versioning it
    ],
)
def test_a_first_release_store_is_migrated_keeping_its_ids(tmp_path, caplog, user_version):
    """Fault: a store in an older schema. Checked: migrated at open, ids kept, one log line."""
    path = tmp_path / "seen.sqlite3"
    first_release_store(path, user_version)
    with caplog.at_level(logging.INFO, logger="wirecrawler.store.seen"):
        store = SeenStore.open(f"sqlite:///{path}")
    with closing(store):
        assert store.schema_version() == SCHEMA_VERSION == 3
        assert store.contains(*LEAD) and not store.contains(*BRIEF)
        assert store.count() == 1
        assert store.journal() == []
    assert tables(path) == {"seen", "feed_journal", "feed_journal_key"}
    assert caplog.messages == [f"Seen store {path} migrated from schema version {user_version} to 3"]


def test_a_new_store_is_created_at_the_current_version(tmp_path, caplog):
    path = tmp_path / "state" / "seen.sqlite3"
    with caplog.at_level(logging.INFO, logger="wirecrawler.store.seen"):
        SeenStore.open(f"sqlite:///{path}").close()
        SeenStore.open(f"sqlite:///{path}").close()  # opening a current store again changes nothing
    assert caplog.messages == [f"Seen store {path} created (schema version 3)"]
    assert tables(path) == {"seen", "feed_journal", "feed_journal_key"}


def test_a_store_from_a_newer_release_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "seen.sqlite3"
    first_release_store(path, user_version=SCHEMA_VERSION + 1)
    before = path.read_bytes()
    with pytest.raises(SeenStoreError, match=r"schema version 4, written by a newer wirecrawler"):
        SeenStore.open(f"sqlite:///{path}")
    assert path.read_bytes() == before
    assert tables(path) == {"seen"}


def test_a_file_that_is_no_database_is_a_clear_error(tmp_path):
    path = tmp_path / "seen.sqlite3"
    path.write_text("not a database\n" * 100)
    with pytest.raises(SeenStoreError, match="cannot open the seen store"):
        SeenStore.open(f"sqlite:///{path}")


# --- The feed journal.


def journaled_feed(store: SeenStore, tmp_path: Path, name: str, keys=None) -> tuple[Path, Path]:
    """A temporary feed file for *name*, journaled as written; sealed with *keys* when given."""
    target, temp = tmp_path / name, tmp_path / f".tmp-{name}.0123abcd"
    store.journal_writing(temp, target)
    temp.write_text("{}\n")
    if keys is not None:
        store.journal_publishing(temp, keys, target)
    return target, temp


def test_a_published_feed_commits_its_journaled_ids_and_leaves_the_journal(store, tmp_path):
    target, temp = journaled_feed(store, tmp_path, "leads.jsonl", [LEAD])
    assert store.journal() == [JournalEntry(str(temp), str(target), "publishing", 1, None, None, None)]
    temp.rename(target)
    assert store.commit_published(temp) == 1
    assert store.contains(*LEAD) and store.journal() == []


def test_recovery_commits_a_feed_that_was_renamed_but_not_committed(store, tmp_path, caplog):
    """Fault: killed between the rename and the commit. Checked: the ids are committed at start."""
    target, temp = journaled_feed(store, tmp_path, "leads.jsonl", [LEAD, ("lead", "2" * 32)])
    temp.rename(target)
    with caplog.at_level(logging.WARNING, logger="wirecrawler.store.seen"):
        recovery = store.recover()
    assert (recovery.published, recovery.committed, recovery.unpublished) == (1, 2, 0)
    assert store.contains(*LEAD) and store.count() == 2 and store.journal() == []
    assert target.exists()
    assert caplog.messages == [
        f"Feed {target} was published but its crawl died before committing its ids: 2 of 2 committed now"
    ]


def test_recovery_trusts_the_journal_when_a_reader_took_the_published_file_away(store, tmp_path, caplog):
    """Fault: as above, and the published file was moved away by a reader before the next start."""
    target, temp = journaled_feed(store, tmp_path, "leads.jsonl", [LEAD])
    temp.rename(target)
    target.unlink()
    with caplog.at_level(logging.WARNING, logger="wirecrawler.store.seen"):
        assert store.recover().committed == 1
    assert store.contains(*LEAD)
    assert "(the file has since been moved away)" in caplog.text


def test_recovery_deletes_a_complete_feed_that_was_never_renamed(store, tmp_path, caplog):
    """Fault: killed after the ids were journaled, before the rename. Checked: nothing committed, temp gone."""
    target, temp = journaled_feed(store, tmp_path, "leads.jsonl", [LEAD])
    with caplog.at_level(logging.WARNING, logger="wirecrawler.store.seen"):
        recovery = store.recover()
    assert (recovery.published, recovery.unpublished, recovery.temp_files_removed) == (0, 1, 1)
    assert not temp.exists() and not target.exists()
    assert store.count() == 0 and store.journal() == []
    assert caplog.messages == [
        f"Feed {target} was never published (its crawl died before publishing it): removed {temp};"
        " its 1 records will be emitted again"
    ]


def test_recovery_deletes_a_half_written_temporary_file(store, tmp_path, caplog):
    """Fault: killed while a feed was being written. Checked: the temporary file goes, with a log line."""
    target, temp = journaled_feed(store, tmp_path, "briefs.jsonl")
    ghost = tmp_path / ".tmp-never-created.jsonl.89abcdef"  # killed between journaling and creating
    store.journal_writing(ghost, tmp_path / "never-created.jsonl")
    with caplog.at_level(logging.WARNING, logger="wirecrawler.store.seen"):
        recovery = store.recover()
    assert recovery.temp_files_removed == 1 and not temp.exists()
    assert store.count() == 0 and store.journal() == []
    assert caplog.messages == [f"Removed leftover temporary feed file {temp} (its crawl died while writing it)"]


def test_a_feed_cannot_be_sealed_unless_it_is_being_written(store, tmp_path):
    with pytest.raises(SeenStoreError, match="no file being written"):
        store.journal_publishing(tmp_path / ".tmp-unknown.jsonl.00000000", [LEAD], tmp_path / "unknown.jsonl")
    target, temp = journaled_feed(store, tmp_path, "leads.jsonl", [LEAD])
    with pytest.raises(SeenStoreError, match="no file being written"):
        store.journal_publishing(temp, [BRIEF], target)  # sealed twice
    assert store.journal()[0].pairs == 1


def test_an_abandoned_feed_loses_its_ids_before_its_file(store, tmp_path):
    """A failed store: the temporary file goes and nothing of it is committed, then or at the next start."""
    _, temp = journaled_feed(store, tmp_path, "leads.jsonl", [LEAD])
    assert store.discard_unpublished(temp) is True
    assert not temp.exists() and store.journal() == []
    assert store.recover().committed == 0 and store.count() == 0


def linked_feed(store: SeenStore, feed_dir: Path, key: tuple[str, str]) -> tuple[Path, Path]:
    """A per-kind feed of *key*'s kind, journaled and linked to its name, its temporary name left."""
    folder = feed_dir / f"{key[0]}s"
    folder.mkdir(parents=True)
    target, temp = folder / "run.jsonl", folder / ".tmp-run.jsonl.0123abcd"
    store.journal_writing(temp, target, log_dir=feed_dir, kind=key[0], run="run")
    temp.write_text(f'{{"kind": "{key[0]}", "id": "{key[1]}"}}\n')
    store.journal_publishing(temp, [key], target)
    os.link(temp, target)
    return target, temp


def test_recovery_takes_a_feed_linked_to_its_name_as_published_and_enters_it_in_its_log(store, tmp_path):
    """Fault: killed after the link that published the feed, before its temporary name went and
    before its log entry. Checked: committed, temporary name gone, one log entry."""
    feed_dir = tmp_path / "feeds"
    target, temp = linked_feed(store, feed_dir, LEAD)
    recovery = store.recover()
    assert (recovery.published, recovery.logged, recovery.committed) == (1, 1, 1)
    assert not temp.exists() and target.exists() and store.contains(*LEAD)
    [entry] = PublicationLog(feed_dir).entries()
    assert (entry.seq, entry.path, entry.kind, entry.records, entry.run) == (1, "leads/run.jsonl", "lead", 1, "run")
    assert store.recover() == Recovery()  # settled: a second start finds nothing
    assert len(PublicationLog(feed_dir).entries()) == 1


def test_recovery_does_not_enter_a_feed_twice_in_its_log(store, tmp_path):
    """Fault: killed after the log entry, before the commit. Checked: committed, still one entry."""
    feed_dir = tmp_path / "feeds"
    target, temp = linked_feed(store, feed_dir, BRIEF)
    temp.unlink()
    PublicationLog(feed_dir).append_published(target, kind="brief", records=1, run="run")
    assert store.recover().logged == 0
    assert store.contains(*BRIEF) and len(PublicationLog(feed_dir).entries()) == 1


def test_a_feed_whose_name_was_taken_is_journaled_under_its_new_name(store, tmp_path):
    target, temp = journaled_feed(store, tmp_path, "leads.jsonl", [LEAD])
    store.journal_retarget(temp, tmp_path / "leads-2.jsonl")
    assert store.journal()[0].target_path == str(tmp_path / "leads-2.jsonl")


def test_an_empty_store_file_is_refused_not_taken_for_a_new_store(tmp_path):
    path = tmp_path / "seen.sqlite3"
    path.touch()
    with pytest.raises(SeenStoreError, match=r"is an empty file \(0 bytes\), not a store"):
        SeenStore.open(f"sqlite:///{path}")
    assert path.stat().st_size == 0


def test_the_lock_is_keyed_by_the_stores_real_path(tmp_path):
    store_path = tmp_path / "seen.sqlite3"
    link = tmp_path / "elsewhere.sqlite3"
    link.symlink_to(store_path)
    lock = StoreLock.acquire(str(store_path))
    try:
        with pytest.raises(SeenStoreBusy):
            StoreLock.acquire(str(link))
    finally:
        lock.release()


# --- The store lock.


def test_the_lock_refuses_a_second_holder_and_names_the_first(tmp_path):
    store_path = str(tmp_path / "seen.sqlite3")
    first = StoreLock.acquire(store_path)
    with pytest.raises(SeenStoreBusy, match=rf"in use by another crawl \(pid {os.getpid()}, lock {store_path}.lock\)"):
        StoreLock.acquire(store_path)  # another open file description, as another process has
    first.release()
    assert Path(f"{store_path}.lock").read_text() == ""  # a clean release leaves no pid behind
    StoreLock.acquire(store_path).release()
