"""The backfill of a deep archive: run time, rate, and memory, which must stay flat however deep.

usage: python -m bench.backfill_bench [--listing-pages 2000] [--windows 20,100] [--polite-pages 40] [--no-baseline]

The archive (``testsites.archive``) has 2,000 listing pages of ten stories and the 20,000 articles
they link to, four and a half years of news two hours apart, in the sample site's markup; each
page is built when asked by an asyncio server in this process (``bench.fastserver``'s, answering
from the archive instead of prebuilt responses), so the archive costs no disk.

Measured, for each window size: ``python -m wirecrawler backfill`` over the whole archive with the
benchmarks' fast settings (no delay, no AutoThrottle, 16 requests at once: the machinery, not
the politeness), its run time and pages per second, and the resident memory of the backfill
process and of every window process it starts, sampled every 0.2 s with the pages served so
far: each process's peak (VmHWM), and the least-squares slope of the window processes' peaks
over the pages served before them (flat: about 0). Every record must be published exactly once.

Baseline: the deep crawl the issue started from, one ``scrapy crawl`` of all 2,000 listing pages
(``-a max_pages=2000``), with its peak RSS and RSS slope while fetching.

Polite: the backfill with the project's own politeness settings (DOWNLOAD_DELAY 0.25 s,
AutoThrottle) over the first ``--polite-pages`` listing pages, for the rate a backfill of the
live site can have; the whole archive's time at that rate is extrapolated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from bench.fastserver import FastSiteServer, _response
from bench.harness import FAST_CRAWL, ROOT, _memory_mb, measure, memory_profile, save, say, scrapy, slope, spread
from testsites.archive import Archive

SPACING = timedelta(hours=2)
SAMPLE_EVERY = 0.2


class ArchiveServer(FastSiteServer):
    """``FastSiteServer``'s asyncio server, each response built from the archive when asked."""

    def __init__(self, archive: Archive):  # noqa: super().__init__ would read a site directory
        self.archive = archive
        self.pages_served = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="archive-server", daemon=True)

    def answer(self, target: bytes) -> bytes:
        status, body, content_type = self.archive.respond(target.decode("utf-8", "replace"))
        if status == 200 and target != b"/robots.txt":
            self.pages_served += 1
        return _response("200 OK" if status == 200 else "404 Not Found", body, self.archive.date_header, content_type)


def process_tree(pid: int) -> list[int]:
    """*pid* and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            tree.append(child)
            todo.append(child)
    return tree


def backfill_command(url: str, state: Path, window: int, *settings: str) -> list[str]:
    return [
        sys.executable, "-m", "wirecrawler", "backfill", "--start-url", f"{url}/nieuws/buitenland",
        "--window", str(window), "--yield-every", "0", "--progress", "lines",
        "-s", f"WIRECRAWLER_STATE_DIR={state / 'state'}", "-s", f"WIRECRAWLER_FEED_DIR={state / 'feeds'}",
        *[part for setting in settings for part in ("-s", setting)],
    ]  # fmt: skip


def fast_settings() -> list[str]:
    return [FAST_CRAWL[i + 1] for i in range(0, len(FAST_CRAWL), 2)]


def run_backfill(server: ArchiveServer, url: str, state: Path, window: int, settings: list[str], timeout: float) -> dict:
    """One backfill to its end, its processes' memory sampled against the pages served."""
    shutil.rmtree(state, ignore_errors=True)
    before = server.pages_served
    started = time.perf_counter()
    with (state.parent / f"{state.name}.out").open("w") as out:
        process = subprocess_popen(backfill_command(url, state, window, *settings), out)
    driver: list[tuple[int, float]] = []  # (pages served, RSS MB)
    windows: dict[int, dict] = {}  # pid -> first pages served, last peak MB, last RSS
    while process.poll() is None:
        if time.perf_counter() - started > timeout:
            process.kill()
            raise TimeoutError(f"the backfill ran over {timeout} s")
        served = server.pages_served - before
        tree = process_tree(process.pid)
        if (memory := _memory_mb(process.pid)) is not None:
            driver.append((served, memory[0]))
        for pid in tree[1:]:
            if (memory := _memory_mb(pid)) is None:
                continue
            seen = windows.setdefault(pid, {"from_pages": served, "peak_mb": 0.0, "samples": []})
            seen["peak_mb"] = max(seen["peak_mb"], memory[1])
            seen["samples"].append((served, memory[0]))
        time.sleep(SAMPLE_EVERY)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"the backfill exited {process.returncode}: see {state.parent / (state.name + '.out')}")
    pages = server.pages_served - before
    # The window processes (python -m scrapy crawl ...), in order; a sample may have caught a
    # process between fork and exec, still the driver's copy: those have too few samples to count.
    crawls = [w for w in windows.values() if len(w["samples"]) >= 3]
    # The driver's memory once the walk is under way: its start-up (importing Scrapy's settings) is no growth.
    walking = [(served, rss) for served, rss in driver if served > 0]
    peaks = [w["peak_mb"] for w in crawls]
    state_file = json.loads((state / "state" / "backfill.json").read_text(encoding="utf-8"))
    return {
        "window": window,
        "wall_seconds": round(wall, 1),
        "pages": pages,
        "pages_per_second": round(pages / wall, 1),
        "windows": state_file["windows_done"],
        "window_processes_sampled": len(crawls),
        "records": state_file["records"],
        "finished": state_file["finished"],
        "window_peak_rss_mb": spread(peaks, 1, keep_values=False) if peaks else None,
        "window_peak_rss_slope_mb_per_1000_pages": round(
            1000 * slope([w["from_pages"] for w in crawls], peaks), 3
        ) if len(crawls) >= 3 else None,
        "window_peak_rss_first_last_mb": [round(peaks[0], 1), round(peaks[-1], 1)] if peaks else None,
        "driver_peak_rss_mb": round(max(rss for _, rss in driver), 1),
        "driver_rss_slope_mb_per_1000_pages": round(1000 * slope(*map(list, zip(*walking))), 3) if len(walking) >= 3 else None,
        "driver_rss_first_last_mb": [round(walking[0][1], 1), round(walking[-1][1], 1)] if walking else None,
    }  # fmt: skip


def subprocess_popen(command: list[str], out) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


def check_feeds(state: Path, archive: Archive) -> dict:
    """Every record of the archive, each exactly once, through the publication log."""
    feeds = state / "feeds"
    keys = []
    for line in (feeds / "publications.log").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["event"] == "published":
            with (feeds / entry["path"]).open(encoding="utf-8") as file:
                keys += [(record["kind"], record["id"]) for record in map(json.loads, file)]
    expected = archive.expected_keys()
    result = {"records": len(keys), "distinct": len(set(keys)), "expected": len(expected), "all_once": len(keys) == len(set(keys)) and set(keys) == expected}
    if not result["all_once"]:
        raise RuntimeError(f"the backfill did not publish every record once: {result}")
    return result


def run(workdir: Path, listing_pages: int = 2000, windows: tuple[int, ...] = (20, 100), polite_pages: int = 40, baseline: bool = True) -> dict:
    archive = Archive(listing_pages, spacing=SPACING)
    total = listing_pages + archive.count
    say(f"backfill: archive of {listing_pages} listing pages and {archive.count} articles ({total} pages), "
        f"back to {(archive.newest - (archive.count - 1) * SPACING).date()}")  # fmt: skip
    result: dict = {"archive": {"listing_pages": listing_pages, "articles": archive.count, "pages": total}, "settings": fast_settings()}
    server = ArchiveServer(archive)
    with server as url:
        server.archive.article_html(archive.story(0).slug)  # the slug index, built before the clock runs
        runs = []
        for window in windows:
            state = workdir / f"backfill-{window}"
            done = run_backfill(server, url, state, window, fast_settings(), timeout=3600)
            done["feeds"] = check_feeds(state, archive)
            runs.append(done)
            say(f"backfill: window {window}: {done['wall_seconds']} s, {done['pages_per_second']} pages/s, {done['windows']} windows; "
                f"window peak RSS {done['window_peak_rss_mb']} MB, slope {done['window_peak_rss_slope_mb_per_1000_pages']} MB/1,000 pages; "
                f"driver peak {done['driver_peak_rss_mb']} MB, slope {done['driver_rss_slope_mb_per_1000_pages']}")  # fmt: skip
            shutil.rmtree(state, ignore_errors=True)
        result["backfill"] = runs
        if baseline:
            state = workdir / "deep-crawl"
            shutil.rmtree(state, ignore_errors=True)
            before = server.pages_served
            command = scrapy(
                "crawl", "buitenland", "-a", f"start_url={url}/nieuws/buitenland", "-a", f"max_pages={listing_pages}",
                "-a", "max_age_hours=10000000", *FAST_CRAWL,
                "-s", f"WIRECRAWLER_STATE_DIR={state / 'state'}", "-s", f"WIRECRAWLER_FEED_DIR={state / 'feeds'}",
            )  # fmt: skip
            done = measure(command, lambda: server.pages_served - before, timeout=3600).check()
            pages = server.pages_served - before
            result["deep_crawl"] = {
                "wall_seconds": round(done.wall_seconds, 1),
                "pages": pages,
                "pages_per_second": round(pages / done.wall_seconds, 1),
                **memory_profile(done, pages),
                "feeds": check_feeds(state, archive),
            }
            say(f"backfill: one deep crawl: {result['deep_crawl']['wall_seconds']} s, peak RSS {result['deep_crawl']['peak_rss_mb']} MB, "
                f"slope {result['deep_crawl'].get('slope_mb_per_1000_pages')} MB/1,000 pages")  # fmt: skip
            shutil.rmtree(state, ignore_errors=True)
        if polite_pages:
            state = workdir / "polite"
            command_pages = ["--pages", str(polite_pages)]
            shutil.rmtree(state, ignore_errors=True)
            before = server.pages_served
            started = time.perf_counter()
            with (workdir / "polite.out").open("w") as out:
                process = subprocess_popen([*backfill_command(url, state, 20), *command_pages], out)
                process.wait(timeout=3600)
            wall = time.perf_counter() - started
            if process.returncode != 0:
                raise RuntimeError(f"the polite backfill exited {process.returncode}: see {workdir / 'polite.out'}")
            pages = server.pages_served - before
            rate = pages / wall
            result["polite"] = {
                "listing_pages": polite_pages,
                "pages": pages,
                "wall_seconds": round(wall, 1),
                "pages_per_minute": round(60 * rate, 1),
                "whole_archive_hours_at_that_rate": round(total / rate / 3600, 2),
            }
            say(f"backfill: polite, {polite_pages} listing pages: {pages} pages in {wall:.0f} s, {60 * rate:.0f} pages/min; "
                f"the whole archive would take {total / rate / 3600:.1f} h")  # fmt: skip
            shutil.rmtree(state, ignore_errors=True)
    save("backfill", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listing-pages", type=int, default=2000)
    parser.add_argument("--windows", default="20,100", help="window sizes to run, comma-separated (default 20,100)")
    parser.add_argument("--polite-pages", type=int, default=40, help="listing pages of the polite run (0: none)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the one deep crawl")
    parser.add_argument("--workdir", type=Path, help="state and feeds here (default: temporary)")
    args = parser.parse_args(argv)
    windows = tuple(int(size) for size in args.windows.split(",") if size)
    with tempfile.TemporaryDirectory(prefix="wirecrawler-backfill-bench-") as temporary:
        work = args.workdir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        result = run(work, args.listing_pages, windows, args.polite_pages, not args.no_baseline)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
