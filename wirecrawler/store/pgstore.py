"""The shared store: the seen set, the publication log and the crawl lease in PostgreSQL.

Plain Python with no Scrapy import (psycopg 3). It is the SQLite store's contract
(``wirecrawler.store.seen``) for several hosts on one schedule, whose feed files go to object
storage (``wirecrawler.store.objects``):

- **The lease.** One crawl at a time: the row ``lease`` names its holder, an ``epoch`` (the
  fencing token: one more at each takeover) and an expiry judged by the database's clock, never
  a host's. A crawl takes the lease only when it has expired, renews it while it runs, and ends
  it when it stops. A holder that dies (a power cut, ``kill -9``, a lost network) keeps nothing
  past the expiry. Every write below is *fenced*: it checks, in its own transaction, that the
  writer's epoch still holds an unexpired lease, and fails with ``LeaseLost`` if not. A crawl
  that paused past its expiry (a stopped VM, a long GC) therefore cannot publish over the crawl
  that took over.
- **Publication is a commit.** A feed file is recorded as a pending upload (its name and the
  (kind, id) pairs it holds), uploaded under that name with "if none match", then published by
  one transaction that appends its publication log entry, marks its pairs seen and drops the
  pending upload. Whether a file is published is that entry, never the presence of a file on
  some host's disk: after a crash anywhere, a pending upload was not published, so the next
  holder deletes its object and its records come again; an object that no entry and no pending
  upload names is garbage from a holder that was fenced off, and is collected too.
- **The log.** ``publications`` holds the entries of ``wirecrawler.store.publog`` (same fields,
  same meaning): ``seq`` is assigned inside the publishing transaction under a table lock, so it
  counts from 1 without gaps in commit order.

Every statement that changes the store runs in a transaction; PostgreSQL is durable by default
(``fsync`` and ``synchronous_commit`` on): a commit that returned survives a power cut.
A connection lost mid-run (a restarted server) is opened again for the next operation.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict

from wirecrawler.portal.timeline import utc_iso
from wirecrawler.store.publog import PRUNED, PUBLISHED, Entry
from wirecrawler.store.seen import SeenStoreBusy, SeenStoreError, SeenStoreUnavailable

logger = logging.getLogger(__name__)

SCHEMES = ("postgresql://", "postgres://")
LEASE = "crawl"  # one lease a store: one crawl at a time, as the SQLite store's lock
CONNECT_TIMEOUT_SECONDS = 5
# How long an operation keeps trying to reach a server that went away (a restart takes a
# few seconds) before it fails: well inside the default lease, so a restart costs no lease.
RECONNECT_SECONDS = 20.0
# The longest a transaction may stay idle, or a statement run, before the server ends it: at most
# a third of the lease (``SharedStore._session_options``), and never more than this.
SESSION_LIMIT_SECONDS = 10.0

# Version N is reached by MIGRATIONS[N], applied in order. Never edit a shipped step: add one.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE seen (kind text NOT NULL, id text NOT NULL,"
        " first_seen timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (kind, id))",
        "CREATE TABLE lease (name text PRIMARY KEY, holder text NOT NULL, epoch bigint NOT NULL,"
        " acquired_at timestamptz NOT NULL, expires_at timestamptz NOT NULL)",
        "CREATE TABLE publications (seq bigint PRIMARY KEY,"
        " event text NOT NULL CHECK (event IN ('published', 'pruned')), path text NOT NULL,"
        " at timestamptz NOT NULL, kind text, records integer, bytes bigint, sha256 text, run text, of_seq bigint)",
        "CREATE UNIQUE INDEX publications_published_path ON publications (path) WHERE event = 'published'",
        "CREATE TABLE pending_upload (path text PRIMARY KEY, epoch bigint NOT NULL, kind text NOT NULL,"
        " run text, recorded_at timestamptz NOT NULL DEFAULT now())",
        "CREATE TABLE pending_upload_key (path text NOT NULL REFERENCES pending_upload (path) ON DELETE CASCADE,"
        " kind text NOT NULL, id text NOT NULL, PRIMARY KEY (path, kind, id))",
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)
# Serialises migrations of one database across hosts (pg_advisory_xact_lock's key).
MIGRATION_LOCK_KEY = 0x77697265  # "wire"


class LeaseLost(SeenStoreError):
    """This crawl's lease expired or was taken over: it may not write to the store any more."""


class StoreUnavailable(SeenStoreUnavailable):
    """The shared store's server cannot be reached."""


def is_postgresql_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(SCHEMES)


def redacted(url: str) -> str:
    """*url* without its password, for messages and logs."""
    try:
        parts = conninfo_to_dict(url)
    except Exception:  # a malformed URL: say nothing of it but its scheme
        return url.split("://", 1)[0] + "://…"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"



@dataclass(frozen=True)
class Pending:
    path: str
    epoch: int
    kind: str
    run: str | None
    pairs: int


@dataclass
class SharedRecovery:
    """What taking the lease settled of the crawls before (counted under ``wirecrawler/recovered/``)."""

    unpublished: int = 0  # pending uploads of crawls that died or were fenced off: their objects deleted
    garbage_removed: int = 0  # objects no entry and no pending upload names, from fenced-off crawls


class SharedStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.location = redacted(url)
        self.epoch: int | None = None  # the lease's epoch while this store holds it
        self.lease_seconds: float | None = None
        self._db = None

    # --- Connection.

    @classmethod
    def open(cls, url: str) -> SharedStore:
        """Connects, creating or migrating the schema to ``SCHEMA_VERSION``."""
        if not is_postgresql_url(url):
            raise SeenStoreError(f"a shared store URL looks like postgresql://user@host:port/database, not {url!r}")
        try:
            conninfo_to_dict(url)
        except Exception as exc:  # psycopg.ProgrammingError: the URL itself, which no retry mends
            raise SeenStoreError(f"cannot use the shared store URL {redacted(url)}: {_first_line(exc)}") from exc
        store = cls(url)
        store._connect(patient=False)
        try:
            store._migrate()
        except BaseException:
            store.close()
            raise
        return store

    def _connect(self, *, patient: bool) -> None:
        deadline = time.monotonic() + (RECONNECT_SECONDS if patient else 0)
        while True:
            try:
                self._db = psycopg.connect(
                    self.url,
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    autocommit=True,
                    options=self._session_options(),
                )
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(f"cannot reach the shared store {self.location}: {_first_line(exc)}") from exc
                time.sleep(0.5)


    def _session_options(self) -> str:
        """Every transaction of this crawl holds the lease row locked from its fence to its commit.
        A crawl stopped in between (a paused VM, a cut network) would hold it, and block every
        takeover, until its TCP connection timed out (hours): the server ends such a session
        after a third of the lease instead, and so any statement that runs longer."""
        limit_ms = int(min(SESSION_LIMIT_SECONDS, (self.lease_seconds or SESSION_LIMIT_SECONDS * 3) / 3) * 1000)
        return f"-c idle_in_transaction_session_timeout={limit_ms} -c statement_timeout={limit_ms}"

    def _transaction(self, work, *, retry: bool = True, atomic: bool = True):
        """Runs ``work(cursor)`` in one transaction (not *atomic*: a single statement, on its own)
        and returns its result. If the connection was lost, connects again and, when *retry*
        (the work can safely run twice), runs it again."""
        if self._db is None or self._db.closed:
            self._connect(patient=True)
        try:
            return self._run(work, atomic)
        except psycopg.OperationalError as exc:
            if not self._db.broken and not self._db.closed:
                raise
            logger.warning("Lost the connection to the shared store %s (%s): connecting again", self.location, _first_line(exc))
            self._db.close()
            self._connect(patient=True)
            if not retry:
                raise StoreUnavailable(f"lost the connection to the shared store {self.location} mid-commit") from exc
            return self._run(work, atomic)

    def _run(self, work, atomic: bool):
        if not atomic:  # one statement in autocommit: one round trip, where BEGIN and COMMIT add two
            with self._db.cursor() as cursor:
                return work(cursor)
        with self._db.transaction(), self._db.cursor() as cursor:
            return work(cursor)

    def _migrate(self) -> None:
        def migrate(cursor) -> tuple[int, int]:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            cursor.execute("CREATE TABLE IF NOT EXISTS wirecrawler_schema (version integer NOT NULL)")
            cursor.execute("SELECT version FROM wirecrawler_schema")
            row = cursor.fetchone()
            found = row[0] if row else 0
            if found > SCHEMA_VERSION:
                raise SeenStoreError(
                    f"the shared store {self.location} has schema version {found}, written by a newer"
                    f" wirecrawler; this one knows versions up to {SCHEMA_VERSION}"
                )
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    cursor.execute(statement)
            if row is None:
                cursor.execute("INSERT INTO wirecrawler_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
            else:
                cursor.execute("UPDATE wirecrawler_schema SET version = %s", (SCHEMA_VERSION,))
            return found, SCHEMA_VERSION

        found, now = self._transaction(migrate)
        if found != now:
            logger.info("Shared store %s at schema version %d (was %d)", self.location, now, found)

    def schema_version(self) -> int:
        return self._transaction(lambda c: c.execute("SELECT version FROM wirecrawler_schema").fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    # --- The lease.

    def acquire_lease(self, lease_seconds: float, holder: str | None = None) -> int:
        """Takes the lease if it is free or expired; its epoch. ``SeenStoreBusy`` when a live holder has it."""
        holder = holder or default_holder()

        def take(cursor) -> int | None:
            cursor.execute(
                "INSERT INTO lease AS l (name, holder, epoch, acquired_at, expires_at)"
                " VALUES (%(name)s, %(holder)s, 1, clock_timestamp(), clock_timestamp() + make_interval(secs => %(secs)s))"
                " ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, epoch = l.epoch + 1,"
                " acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at"
                " WHERE l.expires_at <= clock_timestamp()"
                " RETURNING epoch",
                {"name": LEASE, "holder": holder, "secs": lease_seconds},
            )
            row = cursor.fetchone()
            return row[0] if row else None

        self.lease_seconds = lease_seconds
        if self._db is not None and not self._db.closed:  # the limits follow the lease from now on
            self._db.close()
        self._connect(patient=False)
        try:
            epoch = self._transaction(take)
        except psycopg.errors.QueryCanceled:  # a holder's transaction kept the row past the limit
            epoch = None
        if epoch is None:
            holder_now, epoch_now, left = self._transaction(
                lambda c: c.execute(
                    "SELECT holder, epoch, extract(epoch FROM expires_at - clock_timestamp()) FROM lease WHERE name = %s",
                    (LEASE,),
                ).fetchone()
            )
            raise SeenStoreBusy(
                f"the shared store {self.location} is in use by another crawl ({holder_now}, lease epoch"
                f" {epoch_now}, {max(float(left), 0):.0f} s left unless it renews)"
            )
        self.epoch = epoch
        return epoch

    def renew_lease(self) -> None:
        """Pushes the expiry one lease length on; ``LeaseLost`` if it expired or was taken over."""
        self._transaction(self._fence)

    def _fence(self, cursor) -> None:
        """In a transaction: the lease still ours, and renewed. Every write runs it first, so a
        takeover (an update of the same row) waits for the write's commit and then finds the
        lease unexpired; a holder whose lease expired writes nothing."""
        if self.epoch is None:
            raise LeaseLost("this crawl holds no lease on the shared store")
        cursor.execute(
            "UPDATE lease SET expires_at = clock_timestamp() + make_interval(secs => %s)"
            " WHERE name = %s AND epoch = %s AND expires_at > clock_timestamp() RETURNING epoch",
            (self.lease_seconds, LEASE, self.epoch),
        )
        if cursor.fetchone() is None:
            raise LeaseLost(
                f"this crawl's lease on the shared store {self.location} (epoch {self.epoch}) expired or was"
                " taken over by another crawl: it may write nothing more"
            )

    def release_lease(self) -> None:
        """Ends the lease now, so that the next crawl need not wait for it to expire."""
        if self.epoch is None:
            return
        epoch, self.epoch = self.epoch, None
        self._transaction(
            lambda c: c.execute(
                "UPDATE lease SET expires_at = clock_timestamp() WHERE name = %s AND epoch = %s", (LEASE, epoch)
            )
        )

    # --- The seen set.

    def contains(self, kind: str, story_id: str) -> bool:
        return self._transaction(
            lambda c: c.execute("SELECT 1 FROM seen WHERE kind = %s AND id = %s", (kind, story_id)).fetchone() is not None,
            atomic=False,
        )

    def count(self) -> int:
        return self._transaction(lambda c: c.execute("SELECT count(*) FROM seen").fetchone()[0])

    def commit(self, keys: Iterable[tuple[str, str]]) -> int:
        """Records *keys* as published, fenced, in one transaction; how many were new."""
        pairs = list(keys)

        def insert(cursor) -> int:
            self._fence(cursor)
            added = 0
            for kind, story_id in pairs:
                cursor.execute(
                    "INSERT INTO seen (kind, id) VALUES (%s, %s) ON CONFLICT DO NOTHING", (kind, story_id)
                )
                added += cursor.rowcount
            return added

        return self._transaction(insert)

    # --- Publication (module docstring).

    def claim_upload(self, path: str, keys: Iterable[tuple[str, str]], *, kind: str, run: str | None) -> bool:
        """Records a pending upload of *path* holding *keys*; False when the name is taken (by a
        published entry or another pending upload), so the caller tries the next name."""
        pairs = list(keys)

        def claim(cursor) -> bool:
            self._fence(cursor)
            cursor.execute(
                "SELECT 1 FROM publications WHERE path = %s AND event = 'published'"
                " UNION ALL SELECT 1 FROM pending_upload WHERE path = %s",
                (path, path),
            )
            if cursor.fetchone() is not None:
                return False
            cursor.execute(
                "INSERT INTO pending_upload (path, epoch, kind, run) VALUES (%s, %s, %s, %s)",
                (path, self.epoch, kind, run),
            )
            with cursor.copy("COPY pending_upload_key (path, kind, id) FROM STDIN") as copy:
                for pair_kind, story_id in pairs:
                    copy.write_row((path, pair_kind, story_id))
            return True

        return self._transaction(claim)

    def publish_upload(self, path: str, *, size: int, sha256: str) -> tuple[Entry, int]:
        """The object *path* is uploaded and complete: append its log entry, mark its pairs seen
        and drop the pending upload, fenced, in one transaction. Its entry and how many pairs were new.

        If the connection drops during the commit, whether it happened is read back: the entry
        is there (and the pending upload gone) or the commit did not happen and ``StoreUnavailable``
        is raised.
        """

        def publish(cursor) -> tuple[Entry, int]:
            self._fence(cursor)
            cursor.execute("SELECT kind, run FROM pending_upload WHERE path = %s AND epoch = %s", (path, self.epoch))
            row = cursor.fetchone()
            if row is None:
                raise SeenStoreError(f"the shared store has no pending upload of {path} by this crawl")
            kind, run = row
            cursor.execute(
                "INSERT INTO seen (kind, id) SELECT kind, id FROM pending_upload_key WHERE path = %s"
                " ON CONFLICT DO NOTHING",
                (path,),
            )
            added = cursor.rowcount
            records = cursor.execute("SELECT count(*) FROM pending_upload_key WHERE path = %s", (path,)).fetchone()[0]
            cursor.execute("DELETE FROM pending_upload WHERE path = %s", (path,))
            entry = self._append(
                cursor, event=PUBLISHED, path=path, kind=kind, records=records, bytes=size, sha256=sha256, run=run
            )
            return entry, added

        try:
            return self._transaction(publish, retry=False)
        except StoreUnavailable:
            entry = self._published_entry(path)
            if entry is not None:
                logger.warning("The commit of %s went through before the connection dropped", path)
                return entry, 0
        # Connected again, and the commit did not happen: once more. A commit that did happen
        # after all took the pending upload with it, so this one refuses rather than repeat it.
        logger.warning("Publishing %s again: the connection dropped before its commit", path)
        try:
            return self._transaction(publish, retry=False)
        except SeenStoreError:
            entry = self._published_entry(path)
            if entry is None:
                raise
            return entry, 0

    def _published_entry(self, path: str) -> Entry | None:
        return next((e for e in self._transaction(self._entries_where(path)) if e.event == PUBLISHED), None)

    def drop_upload(self, path: str) -> bool:
        """Drops this crawl's pending upload of *path* (not published): whether there was one,
        in which case its object, if uploaded, is no one's and may be deleted."""

        def drop(cursor) -> bool:
            self._fence(cursor)
            cursor.execute("DELETE FROM pending_upload WHERE path = %s AND epoch = %s", (path, self.epoch))
            return cursor.rowcount == 1

        return self._transaction(drop)

    def pending(self) -> list[Pending]:
        return [
            Pending(*row)
            for row in self._transaction(
                lambda c: c.execute(
                    "SELECT p.path, p.epoch, p.kind, p.run, count(k.id) FROM pending_upload p"
                    " LEFT JOIN pending_upload_key k ON k.path = p.path GROUP BY p.path ORDER BY p.recorded_at, p.path"
                ).fetchall()
            )
        ]

    def recover(self, objects, folders: Iterable[str]) -> SharedRecovery:
        """Holding the lease: delete what crawls before left unpublished (module docstring).

        *objects* is the feed storage (``ObjectFeeds``). Every pending upload is of a crawl that
        no longer holds the lease: its object, if it was uploaded, is deleted, then the pending
        upload. Then every feed object in *folders* (the per-kind folders) that no entry names
        is deleted: uploads of crawls fenced off before they could record them.
        """
        done = SharedRecovery()
        for pending in self.pending():
            objects.delete(pending.path)

            def forget(cursor, path=pending.path) -> None:
                self._fence(cursor)
                cursor.execute("DELETE FROM pending_upload WHERE path = %s", (path,))

            self._transaction(forget)
            done.unpublished += 1
            logger.warning(
                "Feed %s/%s was never published (its crawl, lease epoch %d, stopped before committing it):"
                " deleted; its %d records will be emitted again",
                objects.url, pending.path, pending.epoch, pending.pairs,
            )  # fmt: skip
        named = {
            path
            for (path,) in self._transaction(
                lambda c: c.execute("SELECT path FROM publications WHERE event = 'published'").fetchall(), atomic=False
            )
        }
        for folder in sorted(set(folders)):
            for path, _ in objects.listed(folder):
                if path not in named and path.endswith(".jsonl"):
                    objects.delete(path)
                    done.garbage_removed += 1
                    logger.warning(
                        "Deleted %s/%s: an upload no crawl committed (its crawl lost its lease, or could"
                        " not reach the storage to delete it), never published",
                        objects.url, path,
                    )  # fmt: skip
        return done

    # --- The publication log.

    def _append(self, cursor, **fields) -> Entry:
        # The table lock makes seq one more than the last committed entry's, in commit order:
        # without gaps, since a transaction that rolls back takes its seq with it.
        cursor.execute("LOCK TABLE publications IN EXCLUSIVE MODE")
        seq = cursor.execute("SELECT coalesce(max(seq), 0) + 1 FROM publications").fetchone()[0]
        at = cursor.execute("SELECT clock_timestamp()").fetchone()[0]
        entry = Entry(seq=seq, at=utc_iso(at), **fields)
        cursor.execute(
            "INSERT INTO publications (seq, event, path, at, kind, records, bytes, sha256, run, of_seq)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (entry.seq, entry.event, entry.path, at, entry.kind, entry.records, entry.bytes, entry.sha256,
             entry.run, entry.of_seq),
        )  # fmt: skip
        return entry

    def append_pruned(self, published: Entry) -> Entry:
        """Enters the deletion of *published*'s file (retention), once: a second prune that
        deleted it at the same time gets the entry the first appended. Not fenced, as a local
        prune takes no crawl lock; the table lock keeps seq unique."""

        def append(cursor) -> Entry:
            cursor.execute("LOCK TABLE publications IN EXCLUSIVE MODE")
            done = cursor.execute(
                "SELECT seq FROM publications WHERE event = 'pruned' AND of_seq = %s", (published.seq,)
            ).fetchone()
            if done is not None:
                return next(e for e in self._entries_where(published.path)(cursor) if e.seq == done[0])
            return self._append(cursor, event=PRUNED, path=published.path, of_seq=published.seq)

        return self._transaction(append, retry=False)

    @staticmethod
    def _entries_where(path: str | None = None):
        def select(cursor) -> list[Entry]:
            query = "SELECT seq, event, path, at, kind, records, bytes, sha256, run, of_seq FROM publications"
            rows = cursor.execute(query + (" WHERE path = %s" if path else "") + " ORDER BY seq", (path,) if path else ()).fetchall()
            return [
                Entry(seq=seq, event=event, path=p, at=utc_iso(at), kind=kind, records=records, bytes=size,
                      sha256=sha256, run=run, of_seq=of_seq)
                for seq, event, p, at, kind, records, size, sha256, run, of_seq in rows
            ]  # fmt: skip

        return select

    def entries(self) -> list[Entry]:
        """Every entry of the log, in seq order."""
        return self._transaction(self._entries_where())

    def last_seq(self) -> int:
        return self._transaction(lambda c: c.execute("SELECT coalesce(max(seq), 0) FROM publications").fetchone()[0])


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
