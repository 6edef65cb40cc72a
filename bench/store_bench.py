"""Benchmark 6, the shared store beside SQLite: lookups at 1,000,000 ids, commit latency, the lease.

usage: python -m bench.store_bench [WORKDIR] [--rounds N] [--lookups N] [--commits N]

SQLite is the seen store as a crawl opens it (``SeenStore.open``: WAL, ``synchronous=FULL``) on
a file in the work folder. PostgreSQL is the shared store (``SharedStore.open``) on a server of
the benchmark's own (``wirecrawler.local.backends.PostgresServer``: ``fsync`` and
``synchronous_commit`` on, as any default server), reached over TCP on 127.0.0.1: the same
machine and disk, no network between them, so the difference is the store and its protocol.

- **Fill**: 1,000,000 ids of the crawler's shape (``seen_bench.ids``), each store the fastest
  honest way: SQLite through ``SeenStore.commit`` in batches of 100,000 (one transaction and
  one ``executemany`` each); PostgreSQL by ``COPY`` into the store's own ``seen`` table (schema
  made by ``SharedStore.open``) in one transaction, then ``VACUUM ANALYZE``, which autovacuum
  would run on its own after such an insert: the store does not offer a bulk load, and a move
  from SQLite to it would load it this way. Ids in hash order, as they arrive.
- **Lookups**: ``contains`` of random ids, hits (sampled from the 1,000,000) and misses (never
  stored), the two stores alternating, ``--rounds`` rounds of ``--lookups`` each; lookups per
  second, median (min–max) of the rounds.
- **Commits**: one feed's ids through each store's own publish path, the store's part only (no
  feed file, no upload): SQLite ``journal_writing`` + ``journal_publishing`` +
  ``commit_published``; PostgreSQL ``claim_upload`` + ``publish_upload`` with the lease held.
  Feeds of 30 and 300 new ids, ``--commits`` of each, the stores alternating; p50 and p95.
- **Lease renewal**: ``SharedStore.renew_lease``, ``--commits`` times; p50 and p95.

Results: ``bench/results/store.json`` and a table; bench/README.md, "Shared store", reads them.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench.harness import save, say, spread
from bench.seen_bench import file_bytes, ids
from wirecrawler.local.backends import PostgresServer
from wirecrawler.store.pgstore import SharedStore
from wirecrawler.store.seen import SeenStore

FILL_BATCH = 100_000  # ids made at a time, and committed at a time into SQLite
FEED_SIZES = (30, 300)  # ids in one feed: a rerun's few new stories, and a first run's
LEASE_SECONDS = 120.0  # the crawl's default (WireConfig.lease_seconds)
RUN_STAMP = "2026-11-30T00-00-00Z"  # the run a commit is entered under: any stamp will do
LOOKUP = "SELECT 1 FROM seen WHERE kind = %s AND id = %s"  # SharedStore.contains's statement
TABLE_HEADER = (  # run_all's summary table
    "| benchmark | measure | project | baseline | ratio, median (min–max) | goal | met |",
    "|---|---|---|---|---|---|---|",
)


def lookup_rate(contains: Callable[[str, str], bool], keys: list[tuple[str, str]], expect_hits: bool) -> float:
    """Lookups per second of *contains* over *keys*, checking that each is found (or not)."""
    started = time.perf_counter()
    found = sum(1 for kind, story_id in keys if contains(kind, story_id))
    seconds = time.perf_counter() - started
    if found != (len(keys) if expect_hits else 0):
        raise RuntimeError(f"{found} of {len(keys)} lookups found, expected {'all' if expect_hits else 'none'}")
    return len(keys) / seconds


def percentiles(seconds: list[float]) -> dict:
    """p50 and p95 in milliseconds, with the extremes."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {
        "p50_ms": round(statistics.median(seconds) * 1e3, 3),
        "p95_ms": round(cuts[94] * 1e3, 3),
        "min_ms": round(min(seconds) * 1e3, 3),
        "max_ms": round(max(seconds) * 1e3, 3),
        "count": len(seconds),
    }


def timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def filesystem_of(path: Path) -> str:
    """The type of the file system *path* is on (the longest mount point above it)."""
    real = os.path.realpath(path)
    best, fstype = "", "unknown"
    with open("/proc/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            _, mount_point, kind, *_ = line.split()
            inside = real == mount_point or real.startswith(mount_point.rstrip("/") + "/")
            if inside and len(mount_point) >= len(best):
                best, fstype = mount_point, kind
    return fstype


# --- Filling the stores ------------------------------------------------------------------------


def fill_sqlite(store: SeenStore, total: int) -> float:
    started = time.perf_counter()
    for start in range(0, total, FILL_BATCH):
        batch = ids(start, min(FILL_BATCH, total - start))
        if store.commit(batch) != len(batch):
            raise RuntimeError("the SQLite fill found ids already there")
    return time.perf_counter() - started


def fill_postgres(url: str, total: int) -> tuple[float, float]:
    """(seconds of the COPY, seconds of the VACUUM ANALYZE after it)."""
    with psycopg.connect(url) as connection:
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy("COPY seen (kind, id) FROM STDIN") as copy:
            for start in range(0, total, FILL_BATCH):
                for row in ids(start, min(FILL_BATCH, total - start)):
                    copy.write_row(row)
        connection.commit()
        copied = time.perf_counter() - started
        connection.autocommit = True  # VACUUM runs outside a transaction
        started = time.perf_counter()
        connection.execute("VACUUM ANALYZE seen")
        return copied, time.perf_counter() - started


def postgres_facts(url: str, round_trips: int = 2_000) -> dict:
    """The server's settings, the store's size, and the time of one bare round trip (``SELECT 1``
    outside a transaction): the floor under every call of the store."""
    with psycopg.connect(url, autocommit=True) as connection:
        started = time.perf_counter()
        for _ in range(round_trips):
            connection.execute("SELECT 1").fetchone()
        round_trip = (time.perf_counter() - started) / round_trips
        facts = {name: connection.execute(f"SHOW {name}").fetchone()[0]
                 for name in ("server_version", "fsync", "synchronous_commit", "wal_sync_method", "shared_buffers")}  # fmt: skip
        facts["seen_table_and_index_bytes"] = connection.execute("SELECT pg_total_relation_size('seen')").fetchone()[0]
        facts["round_trip_us"] = round(round_trip * 1e6, 1)
    return facts


# --- One feed's commit through each store's publish path ---------------------------------------


class SqliteFeeds:
    """The SQLite store's part of publishing one feed file (``wirecrawler.feeds``), files left out."""

    def __init__(self, store: SeenStore, folder: Path):
        self.store, self.folder, self.made = store, folder, 0

    def commit(self, keys: list[tuple[str, str]]) -> int:
        self.made += 1
        temp = self.folder / f"leads/.tmp-{self.made}.jsonl"
        target = self.folder / f"leads/{self.made}.jsonl"
        self.store.journal_writing(temp, target, log_dir=self.folder, kind="lead", run=RUN_STAMP)
        self.store.journal_publishing(temp, keys, target)
        return self.store.commit_published(temp)


class PostgresFeeds:
    """The shared store's part of publishing one feed object (``wirecrawler.objectfeeds``), the upload left out."""

    def __init__(self, store: SharedStore):
        self.store, self.made = store, 0

    def commit(self, keys: list[tuple[str, str]]) -> int:
        self.made += 1
        path = f"leads/{self.made}.jsonl"
        if not self.store.claim_upload(path, keys, kind="lead", run=RUN_STAMP):
            raise RuntimeError(f"the name {path} was taken")
        # The object's size and digest as the entry records them; no object is uploaded here.
        _, added = self.store.publish_upload(path, size=len(keys) * 700, sha256=hashlib.sha256(path.encode()).hexdigest())
        return added


# --- The run -----------------------------------------------------------------------------------


def run(workdir: Path, total: int = 1_000_000, rounds: int = 3, lookups: int = 20_000, commits: int = 50) -> dict:
    folder = workdir / "store-bench"
    folder.mkdir(parents=True, exist_ok=True)
    sqlite_file = folder / "seen.sqlite3"
    for leftover in (sqlite_file, Path(f"{sqlite_file}-wal"), Path(f"{sqlite_file}-shm")):
        leftover.unlink(missing_ok=True)
    # A kept work folder would otherwise keep every earlier run's database (150 MB each).
    shutil.rmtree(folder / "postgresql", ignore_errors=True)
    with PostgresServer(folder / "postgresql", fsync=True) as server:
        url = server.new_database(f"bench_{os.getpid()}")
        sqlite = SeenStore.open(f"sqlite:///{sqlite_file}")
        shared = SharedStore.open(url)
        try:
            result = _measure(sqlite, shared, url, folder, total, rounds, lookups, commits)
        finally:
            shared.close()
            sqlite.close()
        result["postgresql"] = {**postgres_facts(url), "filesystem": filesystem_of(server.data)}
    result["sqlite"] = {
        "version": sqlite3.sqlite_version,
        "settings": "WAL, synchronous=FULL (SeenStore.open)",
        "file_bytes": file_bytes(sqlite_file),
        "filesystem": filesystem_of(sqlite_file),
    }
    save("store", result)
    return result


def _measure(sqlite: SeenStore, shared: SharedStore, url: str, folder: Path, total: int, rounds: int,
             lookups: int, commits: int) -> dict:  # fmt: skip
    sqlite_fill = fill_sqlite(sqlite, total)
    say(f"store: SQLite filled with {total:,} ids in {sqlite_fill:.1f} s")
    copy_seconds, vacuum_seconds = fill_postgres(url, total)
    say(f"store: PostgreSQL filled in {copy_seconds:.1f} s (COPY) + {vacuum_seconds:.1f} s (VACUUM ANALYZE)")

    rates: dict[str, list[float]] = {f"{store}_{kind}": [] for store in ("sqlite", "postgresql") for kind in ("hits", "misses")}
    rates["postgresql_bare_select_hits"] = []
    unknown_from = total  # ids never stored: each round's misses, then each commit's new ids
    # The baseline of SharedStore.contains: its statement alone on an autocommit connection,
    # one round trip, where the store wraps it in a transaction (BEGIN and COMMIT: two more).
    with psycopg.connect(url, autocommit=True) as bare:
        for round_number in range(rounds):
            hits = [ids(n, 1)[0] for n in random.Random(round_number).sample(range(total), lookups)]
            misses = ids(unknown_from, lookups)
            unknown_from += lookups
            for name, store in (("sqlite", sqlite), ("postgresql", shared)):
                rates[f"{name}_hits"].append(lookup_rate(store.contains, hits, expect_hits=True))
                rates[f"{name}_misses"].append(lookup_rate(store.contains, misses, expect_hits=False))
            rates["postgresql_bare_select_hits"].append(
                lookup_rate(lambda kind, story_id: bare.execute(LOOKUP, (kind, story_id)).fetchone() is not None, hits, True)
            )
    say("store: lookups/s, median: " + ", ".join(f"{name} {statistics.median(r):,.0f}" for name, r in rates.items()))

    shared.acquire_lease(LEASE_SECONDS, holder="store-bench")
    publishers = {"sqlite": SqliteFeeds(sqlite, folder / "feeds"), "postgresql": PostgresFeeds(shared)}
    commit_seconds: dict[str, list[float]] = {f"{name}_{size}": [] for size in FEED_SIZES for name in publishers}
    for size in FEED_SIZES:
        for _ in range(commits):
            for name, publisher in publishers.items():
                keys = ids(unknown_from, size)
                unknown_from += size
                seconds, added = timed(lambda publisher=publisher, keys=keys: publisher.commit(keys))
                if added != size:
                    raise RuntimeError(f"{name}: a commit of {size} new ids added {added}")
                commit_seconds[f"{name}_{size}"].append(seconds)
    renewals = [timed(shared.renew_lease)[0] for _ in range(commits)]
    shared.release_lease()
    say("store: commit p50 ms: " + ", ".join(f"{n} {statistics.median(s) * 1e3:.2f}" for n, s in commit_seconds.items()))

    lookups_per_second = {name: spread(values, 0) for name, values in rates.items()}
    commit_latency = {name: percentiles(values) for name, values in commit_seconds.items()}
    return {
        "ids": total,
        "fill_seconds": {
            "sqlite_commit_batches_of_100000": round(sqlite_fill, 2),
            "postgresql_copy": round(copy_seconds, 2),
            "postgresql_vacuum_analyze": round(vacuum_seconds, 2),
        },
        "lookups": {"rounds": rounds, "per_round": lookups},
        "lookups_per_second": lookups_per_second,
        # Each ratio is PostgreSQL's figure over SQLite's: of lookups per second (below 1: fewer)
        # and of commit milliseconds (above 1: slower).
        "lookup_ratio_postgresql_over_sqlite": {
            kind: round(lookups_per_second[f"postgresql_{kind}"]["median"] / lookups_per_second[f"sqlite_{kind}"]["median"], 4)
            for kind in ("hits", "misses")
        },
        "contains_over_bare_select": round(
            lookups_per_second["postgresql_hits"]["median"] / lookups_per_second["postgresql_bare_select_hits"]["median"], 3
        ),
        "commits": {"per_size": commits, "feed_sizes": list(FEED_SIZES)},
        "commit_latency": commit_latency,
        "commit_ratio_postgresql_over_sqlite": {
            str(size): {
                cut: round(commit_latency[f"postgresql_{size}"][cut] / commit_latency[f"sqlite_{size}"][cut], 2)
                for cut in ("p50_ms", "p95_ms")
            }
            for size in FEED_SIZES
        },
        "lease_renewal": percentiles(renewals),
    }


def table_rows(result: dict) -> list[str]:
    """Rows of ``run_all``'s summary table: the shared store as the project, SQLite as the baseline."""
    speed, latency = result["lookups_per_second"], result["commit_latency"]

    def rate(name: str) -> str:
        s = speed[name]
        return f"{s['median']:,.0f} ({s['min']:,.0f}–{s['max']:,.0f})"

    fill = result["fill_seconds"]
    rows = [
        f"| store | fill {result['ids']:,} ids, s | PostgreSQL COPY {fill['postgresql_copy']} + VACUUM ANALYZE "
        f"{fill['postgresql_vacuum_analyze']} | SQLite commit in batches of 100,000: "
        f"{fill['sqlite_commit_batches_of_100000']} | | | |"
    ]
    for kind in ("hits", "misses"):
        rows.append(
            f"| store | contains, {kind}, lookups/s at {result['ids']:,} ids | PostgreSQL {rate(f'postgresql_{kind}')} "
            f"| SQLite {rate(f'sqlite_{kind}')} | {result['lookup_ratio_postgresql_over_sqlite'][kind]} | | |"
        )
    rows.append(
        f"| store | lookups/s, hits: the store's statement alone, autocommit | PostgreSQL bare "
        f"{rate('postgresql_bare_select_hits')} | PostgreSQL SharedStore.contains {rate('postgresql_hits')} "
        f"| contains/bare {result['contains_over_bare_select']} | | |"
    )
    for size in result["commits"]["feed_sizes"]:
        pg, lite = latency[f"postgresql_{size}"], latency[f"sqlite_{size}"]
        ratio = result["commit_ratio_postgresql_over_sqlite"][str(size)]
        rows.append(
            f"| store | commit of one feed of {size} ids, ms p50 / p95 | PostgreSQL {pg['p50_ms']} / {pg['p95_ms']} "
            f"| SQLite {lite['p50_ms']} / {lite['p95_ms']} | {ratio['p50_ms']} / {ratio['p95_ms']} | | |"
        )
    lease = result["lease_renewal"]
    rows.append(f"| store | lease renewal, ms p50 / p95 | PostgreSQL {lease['p50_ms']} / {lease['p95_ms']} | | | | |")
    rows.append(f"| store | one round trip (SELECT 1), µs | PostgreSQL {result['postgresql']['round_trip_us']} | | | | |")
    return rows


if __name__ == "__main__":
    import argparse
    import json
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", nargs="?", type=Path, help="keep the SQLite file here (default: temporary)")
    parser.add_argument("--rounds", type=int, default=3, help="lookup rounds (default 3)")
    parser.add_argument("--lookups", type=int, default=20_000, help="lookups of each kind a round (default 20,000)")
    parser.add_argument("--commits", type=int, default=50, help="commits of each feed size (default 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wirecrawler-bench-") as temporary:
        measured = run(args.workdir or Path(temporary), rounds=args.rounds, lookups=args.lookups, commits=args.commits)
    print(json.dumps(measured, indent=2, ensure_ascii=False))
    print("\n".join([*TABLE_HEADER, *table_rows(measured)]))
