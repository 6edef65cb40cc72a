"""Benchmark: rendered crawls against plain ones, in pages per minute and peak memory.

usage (from the project root): .venv/bin/python -m bench.render_bench [--copies N] [--rounds N] [--out FILE]

The site is the sample site made larger: its listing pages and articles repeated *copies*
times as new stories (new URLs and headlines), one pager through all of it. Three crawls of
every page of it, alternately, *rounds* times:

- ``plain``: the plain site, rendering off (the default crawl);
- ``rendered``: the JS variant of the same site (``testsites/js.py``), ``-s WIRECRAWLER_RENDER=1``;
- ``rendered-plain``: the plain site with ``-s WIRECRAWLER_RENDER=1``: the browser's cost alone.

Each crawl is ``scrapy crawl buitenland`` as a subprocess against ``python -m wirecrawler
serve``. Pages are those the server answered (robots.txt aside); the time is Scrapy's
``elapsed_time_seconds`` (spider open to close: browser start-up included, interpreter start-up
not). CPU time is the tree's (user + system, per process as last sampled), per page: other
load on the machine disturbs it less than the time. Memory is the proportional set size (PSS:
shared pages split between the processes that share them) of the crawl's whole process tree,
read from ``/proc/*/smaps_rollup`` every ``SAMPLE_EVERY`` seconds and summed per group: the
Python crawler, Playwright's Node driver, and Chromium's processes. Alongside, the tree's peak
while the first half of the pages was served and while the second half was (last round) shows
whether memory stays flat as pages go by.

Timings on a shared machine are noisy: read the medians, and compare modes within one run.
Results go to stdout and, as JSON, to ``bench/results/render-<time>.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from testsites import js as sitegen_js
from testsites import sample as sitegen
from wirecrawler.local.demo import local_crawl_command
from wirecrawler.local.server import served

ROOT = Path(__file__).resolve().parent.parent

SAMPLE_EVERY = 0.2  # seconds; reading smaps_rollup of a dozen processes costs CPU too
CRAWL_TIMEOUT = 1800
MODES = {  # name: (site, extra crawl arguments)
    "plain": ("plain", []),
    "rendered": ("js", ["-s", "WIRECRAWLER_RENDER=1"]),
    "rendered-plain": ("plain", ["-s", "WIRECRAWLER_RENDER=1"]),
}
# The sample site's markup (testsites/sample.py) of what a copy changes.
PAGER = re.compile(r'<nav class="pager">.*?</nav>')
ARTICLE_TITLE = re.compile(r'(<h1 class="article__title">[^<]*)(</h1>)')
ROW_LINK = re.compile(r'(<a class="news-list__link" href="/nieuws/[^"]+)" title="([^"]*)"')


# --- The site --------------------------------------------------------------------------------
def listing_name(page: int) -> str:
    return "buitenland.html" if page == 1 else f"buitenland@page={page}.html"


def enlarge(site: Path, copies: int) -> None:
    """Repeat the listing pages and their articles *copies* times in *site*, as new stories.

    Copy k of a story has its own URL (``<slug>--k``) and headline (``<headline> (k)``), so
    every copy is a story of its own, as on a real section with k times more news.
    """
    pages = site / "nieuws"
    listings = sorted(pages.glob("buitenland*.html"))
    articles = [page for page in pages.glob("*.html") if page not in listings]
    per_copy = len(listings)
    for copy in range(1, copies):
        for article in articles:
            html = ARTICLE_TITLE.sub(rf"\g<1> ({copy})\g<2>", article.read_text(encoding="utf-8"), count=1)
            (pages / f"{article.stem}--{copy}.html").write_text(html, encoding="utf-8")
        for number in range(1, per_copy + 1):
            html = (pages / listing_name(number)).read_text(encoding="utf-8")
            html = ROW_LINK.sub(rf'\g<1>--{copy}" title="\g<2> ({copy})"', html)
            (pages / listing_name(copy * per_copy + number)).write_text(html, encoding="utf-8")
    total = copies * per_copy
    for number in range(1, total + 1):
        page = pages / listing_name(number)
        pager = f'<nav class="pager">{sitegen.pager_html(number, total)}</nav>'
        page.write_text(PAGER.sub(pager, page.read_text(encoding="utf-8"), count=1), encoding="utf-8")


def build_sites(workdir: Path, copies: int) -> dict[str, Path]:
    plain = workdir / "plain"
    sitegen.generate(plain, variant="base")
    enlarge(plain, copies)
    js = workdir / "js"
    shutil.copytree(plain, js)
    sitegen_js.to_js(js)
    return {"plain": plain, "js": js}


# --- Measuring one crawl -------------------------------------------------------------------
def process_tree(root: int) -> list[tuple[int, str, int]]:
    """(pid, command name, CPU clock ticks used so far) of *root* and all its descendants."""
    children, names, ticks = defaultdict(list), {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()  # from the state on: proc(5) numbering - 3
        children[int(fields[1])].append(int(entry))
        names[int(entry)] = name
        ticks[int(entry)] = int(fields[11]) + int(fields[12])  # utime + stime
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append((pid, names.get(pid, "?"), ticks.get(pid, 0)))
        stack.extend(children.get(pid, []))
    return tree


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:  # the process has just exited
        pass
    return 0


def group(name: str) -> str:
    if name.startswith(("chrom", "headless")):
        return "chromium"
    return "node" if name.startswith("node") else "python"


def pages_served(access_log: Path) -> int:
    if not access_log.exists():
        return 0
    return sum(1 for line in access_log.read_text().splitlines() if not line.endswith("/robots.txt"))


def crawl(site: Path, extra: list[str], workdir: Path) -> dict:
    """One crawl of every page of *site*, measured."""
    access_log = workdir / "access.log"
    with served(site, access_log) as base:
        command = local_crawl_command(
            base, workdir / "state", workdir / "feeds", "-a", "max_pages=100000", "-a", "max_age_hours=10000000", *extra
        )
        log_path = workdir / "crawl.log"
        with log_path.open("w") as log:
            env = {**os.environ, "HOME": str(workdir / "home")}  # Chromium's profile goes under $HOME
            process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
            peaks, samples = defaultdict(int), []
            # CPU ticks per process as last seen: Chromium's renderers are not all reaped by
            # their parents, so the tree's rusage would miss them.
            cpu_ticks = {}
            deadline = time.monotonic() + CRAWL_TIMEOUT
            while process.poll() is None:
                if time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"crawl timed out after {CRAWL_TIMEOUT} s: {log_path}")
                totals = defaultdict(int)
                for pid, name, ticks in process_tree(process.pid):
                    totals[group(name)] += pss_kib(pid)
                    cpu_ticks[pid] = ticks
                for name, kib in totals.items():
                    peaks[name] = max(peaks[name], kib)
                peaks["total"] = max(peaks["total"], sum(totals.values()))
                samples.append((pages_served(access_log), {**totals, "total": sum(totals.values())}))
                time.sleep(SAMPLE_EVERY)
    text = log_path.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"crawl exited {process.returncode}; see {log_path}:\n{text[-2000:]}")
    elapsed = float(re.search(r"'elapsed_time_seconds': ([0-9.]+)", text).group(1))
    pages = pages_served(access_log)
    return {
        "pages": pages,
        "elapsed_s": round(elapsed, 2),
        "pages_per_min": round(pages / elapsed * 60, 1),
        "cpu_ms_per_page": round(sum(cpu_ticks.values()) / os.sysconf("SC_CLK_TCK") / pages * 1000, 1),
        "peak_pss_mib": {name: round(kib / 1024, 1) for name, kib in sorted(peaks.items())},
        "peak_pss_mib_by_half": peak_pss_by_half(samples, pages),
    }


def peak_pss_by_half(samples: list[tuple[int, dict[str, int]]], pages: int) -> dict[str, list[float]]:
    """Per group, the peak PSS (MiB) while the first half of the pages was served, and the second."""
    halves = (
        [group_kib for served, group_kib in samples if served <= pages / 2],
        [group_kib for served, group_kib in samples if served > pages / 2],
    )
    return {
        name: [round(max((sample.get(name, 0) for sample in half), default=0) / 1024, 1) for half in halves]
        for name in ("total", "python", "node", "chromium")
    }


# --- The benchmark ----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=5, help="times the sample site is repeated (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="crawls per mode, alternating (default 2)")
    parser.add_argument("--out", type=Path, help="JSON results file (default bench/results/render-<time>.json)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        sites = build_sites(Path(tmp), args.copies)
        runs = defaultdict(list)
        for round_number in range(1, args.rounds + 1):
            for mode, (site, extra) in MODES.items():
                result = crawl(sites[site], extra, Path(tempfile.mkdtemp(dir=tmp)))
                runs[mode].append(result)
                print(f"round {round_number} {mode:15} {json.dumps(result)}", flush=True)
    summary = {
        mode: {
            "pages": results[0]["pages"],
            "median_pages_per_min": statistics.median(r["pages_per_min"] for r in results),
            "median_elapsed_s": statistics.median(r["elapsed_s"] for r in results),
            "median_cpu_ms_per_page": statistics.median(r["cpu_ms_per_page"] for r in results),
            "peak_pss_mib": {
                name: max(r["peak_pss_mib"].get(name, 0) for r in results)
                for name in ("total", "python", "node", "chromium")
            },
            "peak_pss_mib_by_half": results[-1]["peak_pss_mib_by_half"],
        }
        for mode, results in runs.items()
    }
    print(f"\n{'mode':15} {'pages':>5} {'elapsed s':>9} {'pages/min':>9} {'CPU ms/page':>11}", end="")
    print("  peak PSS MiB: total (python/node/chromium)")
    for mode, row in summary.items():
        peak = row["peak_pss_mib"]
        print(
            f"{mode:15} {row['pages']:5} {row['median_elapsed_s']:9.1f} {row['median_pages_per_min']:9.0f}"
            f" {row['median_cpu_ms_per_page']:11.0f}"
            f"  {peak['total']:.0f} ({peak['python']:.0f}/{peak['node']:.0f}/{peak['chromium']:.0f})"
            "; first/second half of the pages: {:.0f}/{:.0f}".format(*row["peak_pss_mib_by_half"]["total"])
        )
    out = args.out or ROOT / "bench" / "results" / f"render-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()}
    out.write_text(json.dumps({"copies": args.copies, "rounds": args.rounds, "machine": machine,
                               "summary": summary, "runs": runs}, indent=2))  # fmt: skip
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
