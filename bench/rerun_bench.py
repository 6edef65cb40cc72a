"""Benchmark 3, the no-change rerun: a scheduled run that finds nothing new, against a bare crawl.

A first ``buitenland`` crawl with the default limits (10 listing pages, 48 hours) fills the
seen store. Then, alternately and several rounds at each store size, a rerun with the same
store (it reads the 10 listing pages, fetches no article and publishes nothing) and the bare
spider fetching one listing page (``bench/barespider.py -a max_pages=1 -a articles=no``): the
least a Scrapy crawl costs, process start-up included. Wall times, their ratio, and how the
rerun grows as the store is topped up with other ids to 10,000, 100,000 and 1,000,000.
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

from bench import bigsite
from bench.crawl_bench import bare_command, full_command
from bench.fastserver import FastSiteServer
from bench.harness import measure, save, say, spread
from bench.seen_bench import BATCH, ids
from wirecrawler.store.seen import SeenStore

STORE_SIZES = (10_000, 100_000, 1_000_000)
DEFAULT_LIMITS_PAGES = 10  # the spider's default max_pages: what a scheduled rerun reads


def feed_files(state: Path) -> set[Path]:
    return set((state / "feeds").rglob("*.jsonl"))


def top_up(store_path: Path, size: int) -> int:
    """Commit filler ids (never on the site) until the store holds *size* ids; returns the count."""
    store = SeenStore.open(f"sqlite:///{store_path}")
    try:
        have = store.count()
        for start in range(have, size, BATCH):
            store.commit(ids(start, min(BATCH, size - start)))
        return store.count()
    finally:
        store.close()


def run(workdir: Path, rounds: int = 3) -> dict:
    site = workdir / "site"
    if not (site / "truth.json").exists():
        bigsite.generate(site, 210)
    state = workdir / "rerun-state"
    shutil.rmtree(state, ignore_errors=True)
    store_path = state / "state" / "seen.sqlite3"
    sizes = []
    with (server := FastSiteServer(site)) as url:
        first = measure(full_command(url, state)).check()
        seeded = top_up(store_path, 0)  # adds nothing: the ids the first crawl published
        say(f"rerun: first crawl fetched {server.pages_served} pages and published {seeded} ids")
        for size in (seeded, *STORE_SIZES):
            held = top_up(store_path, size)
            bare_walls, rerun_walls, rerun_elapsed = [], [], []
            for number in range(rounds):
                for which in ("bare", "rerun") if number % 2 == 0 else ("rerun", "bare"):
                    before_pages, before_files = server.pages_served, feed_files(state)
                    if which == "bare":
                        done = measure(bare_command(url, "-a", "max_pages=1", "-a", "articles=no")).check()
                        bare_walls.append(done.wall_seconds)
                        continue
                    done = measure(full_command(url, state)).check()
                    pages, new_files = server.pages_served - before_pages, feed_files(state) - before_files
                    if pages != DEFAULT_LIMITS_PAGES or new_files:
                        raise RuntimeError(f"the rerun fetched {pages} pages and published {sorted(new_files)}")
                    rerun_walls.append(done.wall_seconds)
                    rerun_elapsed.append(done.stat("elapsed_time_seconds"))
            ratio = statistics.median(rerun_walls) / statistics.median(bare_walls)
            sizes.append({
                "store_ids": held,
                "store_mb": round(store_path.stat().st_size / 2**20, 1),
                "bare_one_page_wall_seconds": spread(bare_walls),
                "rerun_wall_seconds": spread(rerun_walls),
                "rerun_spider_elapsed_seconds": spread(rerun_elapsed),
                "ratio": round(ratio, 3),
                "round_ratios": [round(r / b, 3) for r, b in zip(rerun_walls, bare_walls)],
            })  # fmt: skip
            say(f"rerun: store of {held} ids: rerun {statistics.median(rerun_walls):.2f} s, "
                f"bare one-page crawl {statistics.median(bare_walls):.2f} s, ratio {ratio:.2f}")

    result = {
        "first_crawl": {"wall_seconds": round(first.wall_seconds, 2), "published_ids": seeded},
        "rerun_pages": DEFAULT_LIMITS_PAGES,
        "sizes": sizes,
        "goal": "rerun wall time <= 2x a bare one-page crawl",
        "goal_met": all(s["ratio"] <= 2 for s in sizes),
    }
    save("rerun", result)
    return result


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="wirecrawler-bench-") as tmp:
        print(json.dumps(run(Path(tmp)), indent=2))
