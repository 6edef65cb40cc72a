"""The seen store: which (kind, id) pairs already reached a published feed, in SQLite.

Plain Python with no Scrapy import. Besides the seen pairs, the store keeps a journal of the
feed files a crawl is writing, so that a crawl killed at any point leaves nothing that the next
start cannot settle:

- ``writing``: a temporary feed file (``.tmp-<name>.<random>`` beside its target) may exist.
  Recorded before the file is created.
- ``publishing``: the temporary file is complete and fsynced, and the (kind, id) pairs it holds
  are recorded with it. Recorded before the rename that publishes it.

Once the feed is published, its pairs move to ``seen`` and its journal entry goes, in one
transaction. At the next start, an entry still in the journal means its crawl died; the
temporary file tells what happened, because only the publishing rename makes it disappear:
a ``publishing`` entry whose temporary file is gone was published, so its pairs are committed
then; any other entry was not, so its temporary file is deleted and its records come again.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

SCHEME = "sqlite:///"
MEMORY = ":memory:"

# Schema version N is reached by MIGRATIONS[N], applied in order from the store's
# ``PRAGMA user_version`` (0 for a new file). Never edit a shipped step: add the next one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # The first release. IF NOT EXISTS: it created this table and set user_version in two
    # autocommit statements, so a crash in between left the table at version 0.
    1: (
        "CREATE TABLE IF NOT EXISTS seen ("
        " kind TEXT NOT NULL, id TEXT NOT NULL, first_seen TEXT NOT NULL,"
        " PRIMARY KEY (kind, id)) WITHOUT ROWID",
    ),
    # The feed journal (module docstring).
    2: (
        "CREATE TABLE feed_journal ("
        " temp_path TEXT PRIMARY KEY, target_path TEXT NOT NULL,"
        " state TEXT NOT NULL CHECK (state IN ('writing', 'publishing')), recorded_at TEXT NOT NULL"
        ") WITHOUT ROWID",
        "CREATE TABLE feed_journal_key ("
        " temp_path TEXT NOT NULL REFERENCES feed_journal (temp_path), kind TEXT NOT NULL, id TEXT NOT NULL,"
        " PRIMARY KEY (temp_path, kind, id)) WITHOUT ROWID",
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)


class SeenStoreError(ValueError):
    """A seen store that cannot be used: a bad location, an unreadable file, a newer schema."""


class SeenStoreBusy(SeenStoreError):
    """Another live crawl holds the store's lock."""


def sqlite_path(url: str) -> str:
    """``sqlite:///relative/path``, ``sqlite:////absolute/path`` or ``sqlite:///:memory:``."""
    if not url.startswith(SCHEME) or len(url) == len(SCHEME):
        raise SeenStoreError(f"SEEN_STORE must look like sqlite:///path/to/seen.sqlite3, not {url!r}")
    return url[len(SCHEME) :]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StoreLock:
    """One crawl at a time per seen store: ``flock`` on ``<store>.lock``.

    The kernel releases the lock when its holder dies, however it dies, so a lock file left by
    a killed crawl never blocks the next one. The holder writes its pid into the file and
    empties it when it exits cleanly, so a pid found there names a crawl that was killed.
    (The deploy wrapper's own ``run.lock`` is a different file: this lock also guards crawls
    started by hand, and two flocks on one file would make the wrapped crawl lock itself out.)
    The lock is a bare descriptor, not a file object: held for the life of the process, it is
    no resource to warn about if the process ends without releasing it.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, store_path: str) -> StoreLock:
        path = Path(f"{store_path}.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise SeenStoreBusy(
                f"the seen store {store_path} is in use by another crawl (pid {holder}, lock {path})"
            ) from None
        left_by = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        if left_by:
            logger.warning("Stale lock %s left by pid %s, which died holding it: taken over", path, left_by)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Empty the file (a clean exit), then let go of the lock."""
        os.ftruncate(self._fd, 0)
        os.close(self._fd)


@dataclass
class Recovery:
    """What the start of a crawl settled in the journal left by crawls that died."""

    published: int = 0  # feeds renamed into place whose ids were not committed: committed now
    committed: int = 0  # ids committed for them
    unpublished: int = 0  # feeds that never got renamed into place: their temporary files deleted
    temp_files_removed: int = 0  # temporary files deleted, of unpublished and of half-written feeds


class SeenStore:
    def __init__(self, connection: sqlite3.Connection, location: str) -> None:
        self._db = connection
        self.location = location

    @classmethod
    def open(cls, url: str) -> SeenStore:
        """Opens the store, creating it or migrating it to ``SCHEMA_VERSION``.

        Take the store's ``StoreLock`` first: the migration and the journal must not be
        touched by two crawls at once.
        """
        path = sqlite_path(url)
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise SeenStoreError(f"cannot open the seen store {path!r}: {exc}") from exc
        store = cls(db, path)
        try:
            # FULL: a commit that returned survives a power cut, not only a crash of this process.
            db.execute("PRAGMA synchronous=FULL")
            store._migrate()
            # After the migration: a store from a newer release is refused before anything in
            # the file changes, WAL mode included.
            db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            db.close()
            raise SeenStoreError(f"cannot open the seen store {path!r}: {exc}") from exc
        except SeenStoreError:
            db.close()
            raise
        return store

    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            found = self.schema_version()
            if found > SCHEMA_VERSION:
                raise SeenStoreError(
                    f"the seen store {self.location} has schema version {found}, written by a newer"
                    f" wirecrawler; this one knows versions up to {SCHEMA_VERSION}"
                )
            if found == SCHEMA_VERSION:
                return
            had_tables = self._db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    self._db.execute(statement)
            # PRAGMA user_version is written inside the transaction: all steps or none.
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        if had_tables:
            logger.info("Seen store %s migrated from schema version %d to %d", self.location, found, SCHEMA_VERSION)
        else:
            logger.info("Seen store %s created (schema version %d)", self.location, SCHEMA_VERSION)

    def contains(self, kind: str, story_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM seen WHERE kind = ? AND id = ?", (kind, story_id)).fetchone()
        return row is not None

    def commit(self, keys: Iterable[tuple[str, str]]) -> int:
        """Record *keys* as published, in one transaction; returns how many were new."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO seen (kind, id, first_seen) VALUES (?, ?, ?)",
                [(kind, story_id, _now()) for kind, story_id in keys],
            )
            return self._db.total_changes - before

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    # --- The feed journal (module docstring). Paths are stored absolute.

    def journal_writing(self, temp: Path, target: Path) -> None:
        """Record a temporary feed file about to be created for *target*."""
        with self._db:
            self._db.execute(
                "INSERT INTO feed_journal (temp_path, target_path, state, recorded_at) VALUES (?, ?, 'writing', ?)",
                (os.path.abspath(temp), os.path.abspath(target), _now()),
            )

    def journal_publishing(self, temp: Path, keys: Iterable[tuple[str, str]]) -> None:
        """Record the (kind, id) pairs of a complete, fsynced temporary file about to be renamed."""
        name = os.path.abspath(temp)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            updated = self._db.execute(
                "UPDATE feed_journal SET state = 'publishing', recorded_at = ?"
                " WHERE temp_path = ? AND state = 'writing'",
                (_now(), name),
            ).rowcount
            if updated != 1:
                raise SeenStoreError(f"the feed journal has no file being written at {name}")
            self._db.executemany(
                "INSERT OR IGNORE INTO feed_journal_key (temp_path, kind, id) VALUES (?, ?, ?)",
                [(name, kind, story_id) for kind, story_id in keys],
            )

    def commit_published(self, temp: Path) -> int:
        """The feed written at *temp* is published: its pairs become seen, its entry goes.

        One transaction; returns how many pairs were new.
        """
        name = os.path.abspath(temp)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            before = self._db.total_changes
            self._db.execute(
                "INSERT OR IGNORE INTO seen (kind, id, first_seen)"
                " SELECT kind, id, ? FROM feed_journal_key WHERE temp_path = ?",
                (_now(), name),
            )
            added = self._db.total_changes - before
            self._forget(name)
        return added

    def discard_unpublished(self, temp: Path) -> bool:
        """Delete the temporary file of a feed that was not published, and its entry.

        The entry loses its pairs first: a ``publishing`` entry whose temporary file is gone
        reads as published, so it must never be seen without its file, whenever this stops.
        Returns whether a file was deleted.
        """
        name = os.path.abspath(temp)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM feed_journal_key WHERE temp_path = ?", (name,))
            self._db.execute("UPDATE feed_journal SET state = 'writing' WHERE temp_path = ?", (name,))
        try:
            Path(name).unlink()
            removed = True
        except FileNotFoundError:
            removed = False
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._forget(name)
        return removed

    def _forget(self, name: str) -> None:
        self._db.execute("DELETE FROM feed_journal_key WHERE temp_path = ?", (name,))
        self._db.execute("DELETE FROM feed_journal WHERE temp_path = ?", (name,))

    def journal(self) -> list[tuple[str, str, str, int]]:
        """Every entry: (temporary path, target path, state, number of pairs)."""
        return self._db.execute(
            "SELECT j.temp_path, j.target_path, j.state, COUNT(k.id) FROM feed_journal j"
            " LEFT JOIN feed_journal_key k ON k.temp_path = j.temp_path"
            " GROUP BY j.temp_path ORDER BY j.recorded_at, j.temp_path"
        ).fetchall()

    def recover(self) -> Recovery:
        """Settle the entries of crawls that died (module docstring). Call it at start, holding the lock."""
        done = Recovery()
        for temp, target, state, pairs in self.journal():
            if state == "publishing" and not os.path.exists(temp):
                added = self.commit_published(Path(temp))
                done.published += 1
                done.committed += added
                where = "" if os.path.exists(target) else " (the file has since been moved away)"
                logger.warning(
                    "Feed %s was published but its crawl died before committing its ids%s: %d of %d committed now",
                    target,
                    where,
                    added,
                    pairs,
                )
                continue
            removed = self.discard_unpublished(Path(temp))
            done.temp_files_removed += removed
            if state == "publishing":
                done.unpublished += 1
                logger.warning(
                    "Feed %s was never published (its crawl died before the rename): removed %s;"
                    " its %d records will be emitted again",
                    target,
                    temp,
                    pairs,
                )
            elif removed:
                logger.warning("Removed leftover temporary feed file %s (its crawl died while writing it)", temp)
        return done

    def close(self) -> None:
        self._db.close()
