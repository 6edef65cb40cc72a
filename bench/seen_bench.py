"""Benchmark 4, the seen store: 1,000,000 ids inserted in batches and looked up.

Through the store's public API only (``SeenStore.open``, ``commit``, ``contains``): inserts in
batches of 10,000 ids (one ``commit``, one transaction, per batch), lookups of every id in
random order (hits) and of as many unknown ids (misses), lookups at 10,000, 100,000 and
1,000,000 ids to show how they grow, the file size, and the SQLite settings in force. The
baseline is the same ``SELECT`` on a bare ``sqlite3`` connection to the same file: what the
store's own layer costs on top of SQLite.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import statistics
import time
from pathlib import Path

from bench.harness import save, say, spread
from wirecrawler.store.seen import SeenStore

BATCH = 10_000
CHUNK = 100_000  # lookups timed per chunk, to show the spread
GROWTH_PROBES = 20_000  # lookups at each size on the way up


def ids(start: int, count: int) -> list[tuple[str, str]]:
    """(kind, id) pairs like the crawler's: two kinds, 32 hex digits of SHA-256."""
    return [
        ("lead" if n % 2 else "brief", hashlib.sha256(f"story {n}".encode()).hexdigest()[:32])
        for n in range(start, start + count)
    ]


def lookups(contains, keys: list[tuple[str, str]]) -> tuple[float, float, int]:
    """(wall µs per lookup, CPU µs per lookup, hits) over *keys*."""
    wall, cpu = time.perf_counter(), time.process_time()
    hits = sum(1 for kind, story in keys if contains(kind, story))
    return (time.perf_counter() - wall) / len(keys) * 1e6, (time.process_time() - cpu) / len(keys) * 1e6, hits


def file_bytes(path: Path) -> dict:
    return {suffix or "db": (Path(f"{path}{suffix}").stat().st_size if Path(f"{path}{suffix}").exists() else 0)
            for suffix in ("", "-wal", "-shm")}  # fmt: skip


def sqlite_settings(path: Path) -> dict:
    """The settings in force: the file's own, and a new connection's defaults the store keeps."""
    db = sqlite3.connect(path)
    try:
        settings = {name: db.execute(f"PRAGMA {name}").fetchone()[0]
                    for name in ("journal_mode", "page_size", "page_count", "freelist_count", "cache_size", "user_version")}  # fmt: skip
    finally:
        db.close()
    settings["synchronous"] = "FULL (set by SeenStore.open)"
    settings["table"] = "seen (kind TEXT, id TEXT, first_seen TEXT, PRIMARY KEY (kind, id)) WITHOUT ROWID"
    settings["sqlite_version"] = sqlite3.sqlite_version
    return settings


def run(workdir: Path, total: int = 1_000_000) -> dict:
    path = workdir / "seen-bench.sqlite3"
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    store = SeenStore.open(f"sqlite:///{path}")
    batch_seconds, growth = [], []
    started = time.perf_counter()
    for start in range(0, total, BATCH):
        batch = ids(start, BATCH)
        began = time.perf_counter()
        added = store.commit(batch)
        batch_seconds.append(time.perf_counter() - began)
        if added != len(batch):
            raise RuntimeError(f"commit added {added} of {len(batch)} new ids")
        size = start + BATCH
        if size in (10_000, 100_000, total):
            probe = random.Random(size).sample(range(size), min(size, GROWTH_PROBES))
            wall, cpu, hits = lookups(store.contains, [ids(n, 1)[0] for n in probe])
            if hits != len(probe):
                raise RuntimeError(f"{len(probe) - hits} committed ids not found")
            growth.append({"ids": size, "lookup_us_wall": round(wall, 2), "lookup_us_cpu": round(cpu, 2)})
    insert_seconds = time.perf_counter() - started  # includes making the ids and the growth probes
    say(f"seen: {total} ids in {len(batch_seconds)} commits, {sum(batch_seconds):.1f} s in commit")

    every = ids(0, total)
    random.Random(7).shuffle(every)
    hit_wall, hit_cpu = [], []
    for first in range(0, total, CHUNK):
        wall, cpu, hits = lookups(store.contains, every[first : first + CHUNK])
        if hits != len(every[first : first + CHUNK]):
            raise RuntimeError("a committed id was not found")
        hit_wall.append(wall)
        hit_cpu.append(cpu)
    unknown = ids(total, CHUNK)
    miss_wall, miss_cpu, found = lookups(store.contains, unknown)
    if found:
        raise RuntimeError(f"{found} ids never committed were found")

    bare = sqlite3.connect(path)
    try:
        query = "SELECT 1 FROM seen WHERE kind = ? AND id = ?"
        bare_wall, bare_cpu, _ = lookups(lambda k, i: bare.execute(query, (k, i)).fetchone() is not None, every[:CHUNK])
    finally:
        bare.close()
    say(f"seen: lookup {statistics.median(hit_wall):.2f} µs per id (bare sqlite3 {bare_wall:.2f} µs)")
    store.close()

    result = {
        "ids": total,
        "insert": {
            "batch_size": BATCH,
            "commits": len(batch_seconds),
            "commit_ms_per_batch": spread([s * 1e3 for s in batch_seconds], 2, keep_values=False),
            "commit_ms_first_10_batches": spread([s * 1e3 for s in batch_seconds[:10]], 2, keep_values=False),
            "commit_ms_last_10_batches": spread([s * 1e3 for s in batch_seconds[-10:]], 2, keep_values=False),
            "ids_per_second_in_commit": round(total / sum(batch_seconds)),
            "wall_seconds_with_id_generation": round(insert_seconds, 2),
        },
        "lookup_hits_us_per_id_wall": spread(hit_wall, 2),
        "lookup_hits_us_per_id_cpu": spread(hit_cpu, 2),
        "lookup_misses_us_per_id": {"wall": round(miss_wall, 2), "cpu": round(miss_cpu, 2), "lookups": CHUNK},
        "bare_sqlite3_lookup_us_per_id": {"wall": round(bare_wall, 2), "cpu": round(bare_cpu, 2), "lookups": CHUNK},
        "store_over_bare_sqlite3": round(statistics.median(hit_wall) / bare_wall, 3),
        "lookup_growth": growth,
        "file_bytes": file_bytes(path),
        "bytes_per_id": round(path.stat().st_size / total, 1),
        "sqlite": sqlite_settings(path),
        "goal": "lookup <= 50 µs per id, batched inserts",
        "goal_met": statistics.median(hit_wall) <= 50,
    }
    save("seen", result)
    return result


if __name__ == "__main__":
    import json
    import tempfile

    with tempfile.TemporaryDirectory(prefix="wirecrawler-bench-") as tmp:
        print(json.dumps(run(Path(tmp)), indent=2, ensure_ascii=False))
