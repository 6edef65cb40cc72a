"""The seen store: which (kind, id) pairs already reached a published feed, in SQLite.

Plain Python with no Scrapy import. Besides the seen pairs, the store keeps a journal of the
feed files a crawl is writing, so that a crawl killed at any point leaves nothing that the next
start cannot settle:

- ``writing``: a temporary feed file (``.tmp-<name>.<random>`` beside its target) may exist.
  Recorded before the file is created.
- ``publishing``: the temporary file is complete and fsynced, the (kind, id) pairs of the valid
  records it holds are recorded with it, and so is the name it is about to be published under.
  Recorded before the link that publishes it.

A feed is published by a hard link from its temporary file to its name, which fails rather than
replace a file already there (``wirecrawler.feeds``), and then the temporary name is removed.
Once the feed is published, a feed of the project's own (one with a publication log,
``wirecrawler.store.publog``) gets its log entry; then its pairs move to ``seen`` and its journal
entry goes, in one transaction. At the next start, an entry still in the journal means its crawl
died; the temporary file tells what happened, because only publishing links it to its name or
makes it disappear: a ``publishing`` entry whose temporary file is gone, or is its published
file, was published, so its log entry is made if missing and its pairs are committed then; any
other entry was not, so its temporary file is deleted and its records come again.
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

from wirecrawler.store.publog import PublicationLog

logger = logging.getLogger(__name__)

SCHEME = "sqlite:///"
MEMORY = ":memory:"
# How long a write waits for another process holding the store's write lock (a backup, a
# sqlite3 shell) before it fails: longer than such holds last, shorter than a run may take.
BUSY_TIMEOUT_SECONDS = 60.0

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
    # Feeds with a publication log: where the log is, and what its entry says besides the file.
    3: (
        "ALTER TABLE feed_journal ADD COLUMN log_dir TEXT",
        "ALTER TABLE feed_journal ADD COLUMN kind TEXT",
        "ALTER TABLE feed_journal ADD COLUMN run TEXT",
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)


class SeenStoreError(ValueError):
    """A seen store that cannot be used: a bad location, an unreadable file, a newer schema."""


class SeenStoreBusy(SeenStoreError):
    """Another live crawl holds the store's lock."""


class SeenStoreUnavailable(SeenStoreError):
    """A store on a server (the shared store, object storage) cannot be reached now: try later."""


def sqlite_path(url: str) -> str:
    """``sqlite:///relative/path``, ``sqlite:////absolute/path`` or ``sqlite:///:memory:``."""
    if not url.startswith(SCHEME) or len(url) == len(SCHEME):
        raise SeenStoreError(f"WIRECRAWLER_SEEN_STORE must look like sqlite:///path/to/seen.sqlite3, not {url!r}")
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
        # Keyed by the store's real path: a store reached through a symbolic link is the same store.
        path = Path(f"{os.path.realpath(store_path)}.lock")
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


@dataclass(frozen=True)
class JournalEntry:
    temp_path: str
    target_path: str  # the name it is published under (the last one chosen, once publishing)
    state: str  # "writing" or "publishing"
    pairs: int
    log_dir: str | None  # the feed directory whose publication log enters it; None for other feeds
    kind: str | None
    run: str | None



def was_published(temp: Path, target: Path) -> bool:
    """Whether a ``publishing`` feed made it to its name: its temporary file is gone (only
    publishing removes it then), or is the published file itself (linked, not yet removed)."""
    if not temp.exists():
        return True
    try:
        return target.exists() and os.path.samefile(temp, target)
    except OSError:
        return False


def enter_in_log(log_dir: Path, target: Path, *, kind: str, records: int, run: str) -> bool:
    """Enter a published feed file in its publication log, unless it is there already; whether it was entered."""
    log = PublicationLog(log_dir)
    if log.published(log.relative(target)) is not None:
        return False
    log.append_published(target, kind=kind, records=records, run=run)
    return True


@dataclass
class Recovery:
    """What the start of a crawl settled in the journal left by crawls that died."""

    published: int = 0  # feeds published whose ids were not committed: committed now
    logged: int = 0  # of those, feeds whose publication log entry was made now
    committed: int = 0  # ids committed for them
    unpublished: int = 0  # feeds that never got published: their temporary files deleted
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
            if os.path.exists(path) and os.path.getsize(path) == 0:
                # SQLite would take it for a new store, and publish every record again.
                raise SeenStoreError(
                    f"the seen store {path} is an empty file (0 bytes), not a store: it lost its content."
                    " Restore it from a backup, or delete it to start a new store that publishes everything again"
                )
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
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

    def journal_writing(
        self, temp: Path, target: Path, *, log_dir: Path | None = None, kind: str | None = None, run: str | None = None
    ) -> None:
        """Record a temporary feed file about to be created for *target*; with *log_dir*, the feed
        is entered in that directory's publication log as *kind*, of *run*, once published."""
        with self._db:
            self._db.execute(
                "INSERT INTO feed_journal (temp_path, target_path, state, recorded_at, log_dir, kind, run)"
                " VALUES (?, ?, 'writing', ?, ?, ?, ?)",
                (os.path.abspath(temp), os.path.abspath(target), _now(),
                 os.path.abspath(log_dir) if log_dir is not None else None, kind, run),
            )  # fmt: skip

    def journal_publishing(self, temp: Path, keys: Iterable[tuple[str, str]], target: Path) -> None:
        """Record the (kind, id) pairs of a complete, fsynced temporary file about to be published
        as *target*."""
        name = os.path.abspath(temp)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            updated = self._db.execute(
                "UPDATE feed_journal SET state = 'publishing', recorded_at = ?, target_path = ?"
                " WHERE temp_path = ? AND state = 'writing'",
                (_now(), os.path.abspath(target), name),
            ).rowcount
            if updated != 1:
                raise SeenStoreError(f"the feed journal has no file being written at {name}")
            self._db.executemany(
                "INSERT OR IGNORE INTO feed_journal_key (temp_path, kind, id) VALUES (?, ?, ?)",
                [(name, kind, story_id) for kind, story_id in keys],
            )

    def journal_retarget(self, temp: Path, target: Path) -> None:
        """A ``publishing`` feed gets another name: the one it had was taken meanwhile."""
        with self._db:
            self._db.execute(
                "UPDATE feed_journal SET target_path = ? WHERE temp_path = ? AND state = 'publishing'",
                (os.path.abspath(target), os.path.abspath(temp)),
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

    def journal(self) -> list[JournalEntry]:
        """Every entry, oldest first."""
        rows = self._db.execute(
            "SELECT j.temp_path, j.target_path, j.state, COUNT(k.id), j.log_dir, j.kind, j.run FROM feed_journal j"
            " LEFT JOIN feed_journal_key k ON k.temp_path = j.temp_path"
            " GROUP BY j.temp_path ORDER BY j.recorded_at, j.temp_path"
        ).fetchall()
        return [JournalEntry(*row) for row in rows]

    def recover(self) -> Recovery:
        """Settle the entries of crawls that died (module docstring). Call it at start, holding the lock."""
        done = Recovery()
        for entry in self.journal():
            temp, target = Path(entry.temp_path), Path(entry.target_path)
            if entry.state == "publishing" and was_published(temp, target):
                gone = not target.exists()
                if entry.log_dir is not None and not gone:
                    if enter_in_log(Path(entry.log_dir), target, kind=entry.kind, records=entry.pairs, run=entry.run):
                        done.logged += 1
                temp.unlink(missing_ok=True)
                added = self.commit_published(temp)
                done.published += 1
                done.committed += added
                logger.warning(
                    "Feed %s was published but its crawl died before committing its ids%s: %d of %d committed now",
                    target,
                    " (the file has since been moved away)" if gone else "",
                    added,
                    entry.pairs,
                )
                continue
            removed = self.discard_unpublished(temp)
            done.temp_files_removed += removed
            if entry.state == "publishing":
                done.unpublished += 1
                logger.warning(
                    "Feed %s was never published (its crawl died before publishing it): removed %s;"
                    " its %d records will be emitted again",
                    target,
                    temp,
                    entry.pairs,
                )
            elif removed:
                logger.warning("Removed leftover temporary feed file %s (its crawl died while writing it)", temp)
        return done

    def close(self) -> None:
        self._db.close()
