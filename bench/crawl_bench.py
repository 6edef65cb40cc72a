"""Benchmark 1, crawl throughput: ``buitenland`` against a bare spider on a large local site.

Both spiders fetch the same pages (every listing page and every article it links to) from the
same in-memory server with the same settings, alternately, several rounds; the result is each
one's pages per second (pages over Scrapy's ``elapsed_time_seconds``), the ratio per round and
its median, and the crawler's memory: peak RSS and the RSS slope per 1,000 pages fetched.

The bare spider runs without the project's components, as the goal defines it. One of them,
``wirecrawler.extensions.CollectorThreshold``, speeds up Scrapy's own work as much as the
project's, so each round also runs the bare spider with it (``bare+collector``). And each
round runs the bare spider's ``floor`` mode, without and with that threshold: every article
page parsed into a document and two items for it through Scrapy's item path into a feed, the
least a spider must do that publishes the contract's records from these pages. Its ratio to the
bare spider bounds what such a spider can reach; the full spider's ratio to it (both with the
threshold) is the cost of the project's own work.

Before the rounds, the bare spider is run once against ``wirecrawler.local.server`` too, to show
whether that server would cap the measurement (it is why the rounds use ``fastserver``).
"""

from __future__ import annotations

import json
import shutil
import statistics
import threading
from contextlib import contextmanager
from pathlib import Path

from bench import bigsite
from bench.fastserver import FastSiteServer
from bench.harness import FAST_CRAWL, cpu_after_last_page, crawl_cpu_seconds, measure, memory_profile, save, say, scrapy, spread

from wirecrawler.local.server import make_server

NO_LIMITS = ["-a", "max_pages=100000", "-a", "max_age_hours=10000000"]
# The bare spider's custom settings turn every extension off; the command line outranks them.
WITH_COLLECTOR = ["-s", 'EXTENSIONS={"wirecrawler.extensions.CollectorThreshold": 0}']
MODES = ("bare", "bare+collector", "floor", "floor+collector", "full")
# Name -> (mode, baseline): pages per second of the one over the other's. "ratio" is the goal's.
RATIOS = {
    "ratio": ("full", "bare"),
    "ratio_to_bare_with_collector": ("full", "bare+collector"),
    "floor_ratio": ("floor", "bare"),
    "floor_with_collector_ratio": ("floor+collector", "bare"),
    # The full spider and the floor with the same process settings: the cost of the project's own work.
    "ratio_to_floor": ("full", "floor+collector"),
}


@contextmanager
def localsite(site: Path):
    """The project's own test server, in a thread of this process like the fast one."""
    server = make_server(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def bare_command(base_url: str, *args: str) -> list[str]:
    return scrapy("runspider", "bench/barespider.py", "-a", f"start_url={base_url}/nieuws/buitenland", *FAST_CRAWL, *args)


def floor_command(base_url: str, feed: Path, *args: str) -> list[str]:
    """The bare spider's floor mode, its items into one JSON lines feed (a plain path: no run parameters)."""
    feeds = json.dumps({str(feed): {"format": "jsonlines"}})
    return bare_command(
        base_url, *NO_LIMITS, "-a", "floor=yes", "-s", f"FEEDS={feeds}", "-s", "FEED_URI_PARAMS=", *args
    )


def full_command(base_url: str, state: Path, *args: str) -> list[str]:
    return scrapy(
        "crawl", "buitenland", "-a", f"start_url={base_url}/nieuws/buitenland", *FAST_CRAWL,
        "-s", f"WIRECRAWLER_STATE_DIR={state / 'state'}", "-s", f"WIRECRAWLER_FEED_DIR={state / 'feeds'}", *args,
    )  # fmt: skip


def feed_lines(state: Path) -> dict[str, int]:
    counts = {}
    for kind in ("leads", "briefs"):
        files = list((state / "feeds" / kind).glob("*.jsonl"))
        counts[kind] = sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files)
    return counts


def throughput(run, pages: int) -> dict:
    """Pages per second of the spider's run (Scrapy's elapsed time: spider open to close)."""
    elapsed = run.stat("elapsed_time_seconds")
    return {
        "pages": pages,
        "elapsed_seconds": elapsed,
        "wall_seconds": round(run.wall_seconds, 3),
        "pages_per_second": round(pages / elapsed, 1),
    }


def cpu_throughput(run, pages: int) -> dict:
    """Pages per CPU second from the first page on: steadier than wall time on a shared machine."""
    return {"crawl_cpu_seconds": round(crawl_cpu_seconds(run), 3),
            "cpu_seconds_after_last_page": round(cpu_after_last_page(run, pages), 3),
            "pages_per_cpu_second": round(pages / crawl_cpu_seconds(run), 1)}  # fmt: skip


def run(workdir: Path, rounds: int = 3, listing_pages: int = 210) -> dict:
    site = workdir / "site"
    if not (site / "truth.json").exists():
        bigsite.generate(site, listing_pages)
    truth = json.loads((site / "truth.json").read_text(encoding="utf-8"))
    articles = len(truth["articles"])
    total_pages = truth["listing_pages"] + articles
    say(f"crawl: site of {truth['listing_pages']} listing pages and {articles} articles ({total_pages} pages)")

    server_check = {}
    with localsite(site) as url:
        done = measure(bare_command(url, *NO_LIMITS)).check()
        server_check["localsite"] = throughput(done, int(done.stat("downloader/response_count")) - 1)
    rows = []
    with (fast := FastSiteServer(site)) as url:
        done = measure(bare_command(url, *NO_LIMITS)).check()
        server_check["fastserver"] = throughput(done, fast.pages_served)
        say(f"crawl: bare spider, localsite {server_check['localsite']['pages_per_second']} pages/s, "
            f"fastserver {server_check['fastserver']['pages_per_second']} pages/s")
        for number in range(1, rounds + 1):
            shift = (number - 1) % len(MODES)  # each mode takes each place in turn
            order = MODES[shift:] + MODES[:shift]
            row = {"round": number, "order": list(order)}
            for which in order:
                before = fast.pages_served
                progress = lambda: fast.pages_served - before  # noqa: E731
                if which == "bare":
                    done = measure(bare_command(url, *NO_LIMITS), progress).check()
                elif which == "bare+collector":
                    done = measure(bare_command(url, *NO_LIMITS, *WITH_COLLECTOR), progress).check()
                elif which.startswith("floor"):
                    feed = workdir / "floor.jsonl"
                    feed.unlink(missing_ok=True)
                    collector = WITH_COLLECTOR if which == "floor+collector" else []
                    done = measure(floor_command(url, feed, *collector), progress).check()
                    lines = len(feed.read_text(encoding="utf-8").splitlines())
                    if lines != 2 * articles:
                        raise RuntimeError(f"the floor spider published {lines} items, expected {2 * articles}")
                else:
                    state = workdir / f"state-{number}"
                    shutil.rmtree(state, ignore_errors=True)
                    done = measure(full_command(url, state, *NO_LIMITS), progress).check()
                    emitted = feed_lines(state)
                    if emitted != {"leads": articles, "briefs": articles}:
                        raise RuntimeError(f"the full spider published {emitted}, expected {articles} of each")
                    row["full_records"] = emitted
                pages = fast.pages_served - before
                if pages != total_pages:
                    raise RuntimeError(f"the {which} spider fetched {pages} pages, expected {total_pages}")
                row[which] = {**throughput(done, pages), **cpu_throughput(done, pages), **memory_profile(done, total_pages)}
            for name, (mode, baseline) in RATIOS.items():
                row[name] = round(row[mode]["pages_per_second"] / row[baseline]["pages_per_second"], 3)
                row[f"cpu_{name}"] = round(row[mode]["pages_per_cpu_second"] / row[baseline]["pages_per_cpu_second"], 3)
            rows.append(row)
            say(f"crawl: round {number}: " + ", ".join(f"{m} {row[m]['pages_per_second']} pages/s" for m in MODES)
                + "; " + ", ".join(f"{name} {row[name]}" for name in RATIOS))  # fmt: skip

    def summary(which: str, key: str) -> dict:
        return spread([r[which][key] for r in rows if key in r[which]])

    result = {
        "site": {"listing_pages": truth["listing_pages"], "articles": articles, "pages": total_pages},
        "settings": FAST_CRAWL + NO_LIMITS,
        "server_check": server_check,
        "rounds": rows,
        **{name: spread([r[name] for r in rows]) for name in RATIOS},
        **{f"cpu_{name}": spread([r[f"cpu_{name}"] for r in rows]) for name in RATIOS},
        **{
            f"{mode.replace('+', '_with_')}_{key}": summary(mode, key)
            for mode in MODES
            for key in ("pages_per_second", "pages_per_cpu_second", "peak_rss_mb", "slope_mb_per_1000_pages")
        },
        "goal": "ratio >= 0.8",
        "goal_met": statistics.median(r["ratio"] for r in rows) >= 0.8,
    }
    save("crawl", result)
    return result


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="wirecrawler-bench-") as tmp:
        print(json.dumps(run(Path(tmp)), indent=2))
