"""The seen store: which (kind, id) pairs already reached a published feed, in SQLite.

Plain Python with no Scrapy import. The store is written only after a feed file is published,
so a run that dies before publishing leaves it as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

SCHEMA_VERSION = 1
SCHEME = "sqlite:///"


class SeenStoreError(ValueError):
    """A seen-store location that cannot be used."""


def sqlite_path(url: str) -> str:
    """``sqlite:///relative/path``, ``sqlite:////absolute/path`` or ``sqlite:///:memory:``."""
    if not url.startswith(SCHEME) or len(url) == len(SCHEME):
        raise SeenStoreError(f"SEEN_STORE must look like sqlite:///path/to/seen.sqlite3, not {url!r}")
    return url[len(SCHEME) :]


class SeenStore:
    def __init__(self, connection: sqlite3.Connection, location: str) -> None:
        self._db = connection
        self.location = location

    @classmethod
    def open(cls, url: str) -> SeenStore:
        path = sqlite_path(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit that returned survives a power cut, not only a crash of this process.
            db.execute("PRAGMA synchronous=FULL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS seen ("
                " kind TEXT NOT NULL, id TEXT NOT NULL, first_seen TEXT NOT NULL,"
                " PRIMARY KEY (kind, id)) WITHOUT ROWID"
            )
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise SeenStoreError(f"cannot open the seen store {path!r}: {exc}") from exc
        return cls(db, path)

    def contains(self, kind: str, story_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM seen WHERE kind = ? AND id = ?", (kind, story_id)).fetchone()
        return row is not None

    def commit(self, keys: Iterable[tuple[str, str]], first_seen: datetime | None = None) -> int:
        """Record *keys* as published, in one transaction; returns how many were new."""
        stamp = (first_seen or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
        rows = [(kind, story_id, stamp) for kind, story_id in keys]
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            before = self._db.total_changes
            self._db.executemany("INSERT OR IGNORE INTO seen (kind, id, first_seen) VALUES (?, ?, ?)", rows)
            return self._db.total_changes - before

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def close(self) -> None:
        self._db.close()
