"""Where a crawl's CPU goes: py-spy samples of whole crawl processes, sorted into categories.

usage: python -m bench.profile_crawl [--workdir DIR] [--runs 3] [--rate 400] [--modes full,bare,floor+collector]
                                     [--after-last-page] [--summarise]

Runs the crawl benchmark's spiders (``bench/crawl_bench.py``: same site, server, settings and
commands) one after the other, each taking each place in the order, ``--runs`` times, and
samples each process with py-spy (``py-spy record --pid --nonblocking``, attached when the
server has served the crawl's first page, so the samples cover what the benchmark's "pages per
CPU second" covers: the crawl from its first page to the process's exit, without start-up).
Each sample's stack is put in one category (``categorise``: the innermost frame that a rule of
``FILE_RULES`` names decides, page reading split by ``_page_part``; a stack with no such frame
is Scrapy's, Twisted's or asyncio's machinery), and a
category's CPU per page is its share of the samples times the process's own CPU time from the
first page (``/proc/<pid>/stat`` when py-spy attached, ``wait4`` at exit), over the pages.
``--after-last-page`` attaches when the server has served the last page instead: what the
full spider does then (the release of its sightings through the pipelines into the feeds,
their publication, the run's reports) and the process's exit, still per page of the crawl.

The garbage collector works inside whatever allocated, so its time is in the samples of every
category; it is measured on its own with ``gc.callbacks`` (each crawl runs under this module's
``--gc-clock`` wrapper, which adds nothing else) and reported beside the table, not in it.

Results go to ``bench/results/profile.json`` (``profile-after-last-page.json``), the raw samples
(collapsed stacks) to ``WORKDIR/profile-<mode>-<run>.txt``; the tables are printed as Markdown,
with the full spider's CPU ratio to the bare and the floor spider as measured and with each
category costing nothing (``headroom``). py-spy is pinned in
``bench/requirements.txt``, so ``make bench`` installs it into ``bench/.venv``; attaching to a
process needs ptrace rights over it (root, or ``kernel.yama.ptrace_scope`` 0).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

GC_CLOCK = "--gc-clock"


def gc_clock(out: str, argv: list[str]) -> None:
    """Run ``python -m <module> ...`` (``argv``: ``-m module args...``) timing every collection."""
    import atexit
    import gc
    import runpy

    state = {"started": 0.0, "seconds": 0.0, "collections": [0, 0, 0]}

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            state["started"] = time.thread_time()
        else:
            state["seconds"] += time.thread_time() - state["started"]
            state["collections"][info["generation"]] += 1

    def write() -> None:
        Path(out).write_text(json.dumps(state), encoding="utf-8")

    gc.callbacks.append(callback)
    atexit.register(write)
    if argv[:1] != ["-m"] or len(argv) < 2:
        raise SystemExit(f"{GC_CLOCK} OUT -m MODULE ARGS...")
    sys.argv = [argv[1], *argv[2:]]
    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)


# --- Categories. A frame is "function (path:line)" as py-spy writes it; the innermost frame of
# a stack that matches a rule decides its category (imports and page reading: see below).
IMPORTS = "imports during the crawl"
SHUTDOWN = "no Python frame (interpreter exit: the last collection, freeing)"
MACHINERY = "Scrapy/Twisted/asyncio machinery (requests, responses, downloads)"
ITEM_PATH = "Scrapy's item path (scraper, pipeline manager, item signals)"
PAGE_DECODE = "page reading: decoding the bytes"
PAGE_TREE = "page reading: HTML tree building and freeing (libxml2)"
PAGE_FIELDS = "page reading: selectors and field reading (lxml XPath, text)"
PAGE_POST = "page reading: post-tree steps (clean_text, links resolved and checked, datelines)"
STORY_BOOK = "story book (add, spill, release)"
RECORDS = "record building (build_record, dateline, time)"
PIPELINES = "pipelines' own code (RecordPipeline, DedupePipeline)"
EXPORT = "feed export and JSON (exporters, feed slots, storage)"
SEEN = "seen store (lookups, journal, commit)"
STATS = "stats (Scrapy's StatsCollector calls)"
LOGGING = "logging (records, formatting, log formatter)"
EXTENSIONS = "project extensions (seen-store extension, verdict, reports)"
MIDDLEWARES = "project middlewares (safety, retry pacing)"
SPIDER = "spider callbacks' own code"
BARE_SPIDER = "bench spider's own code (bare/floor: links, floor parse)"

PAGE_ROOTS = {("read_page", "wirecrawler/portal/pages.py"), ("parse_page", "wirecrawler/portal/pages.py")}
POST_TREE_FUNCTIONS = {"_rows", "_clock_rows", "_undecodable"}
POST_TREE_FILES = ("wirecrawler/portal/text.py", "wirecrawler/portal/urls.py", "wirecrawler/portal/wire.py")

# (path prefix, category), tried in order on each frame; the first prefix that matches names it.
FILE_RULES = [
    ("wirecrawler/news/stories.py", STORY_BOOK),
    ("wirecrawler/news/records.py", RECORDS),
    ("wirecrawler/pipelines.py", PIPELINES),
    ("wirecrawler/exporters.py", EXPORT),
    ("wirecrawler/feeds.py", EXPORT),
    ("wirecrawler/objectfeeds.py", EXPORT),
    ("wirecrawler/store/atomicfile.py", EXPORT),
    ("wirecrawler/store/publog.py", EXPORT),
    ("wirecrawler/store/feedfile.py", EXPORT),
    ("scrapy/extensions/feedexport.py", EXPORT),
    ("scrapy/exporters.py", EXPORT),
    ("wirecrawler/store/seen.py", SEEN),
    ("scrapy/statscollectors.py", STATS),
    ("logging/", LOGGING),
    ("wirecrawler/logformatter.py", LOGGING),
    ("scrapy/logformatter.py", LOGGING),
    ("scrapy/utils/log.py", LOGGING),
    ("wirecrawler/extensions.py", EXTENSIONS),
    ("wirecrawler/runs/", EXTENSIONS),
    ("wirecrawler/metrics.py", EXTENSIONS),
    ("wirecrawler/statuspage.py", EXTENSIONS),
    ("wirecrawler/retention.py", EXTENSIONS),
    ("wirecrawler/preflight.py", EXTENSIONS),
    ("wirecrawler/store/", EXTENSIONS),
    ("wirecrawler/middlewares.py", MIDDLEWARES),
    ("wirecrawler/portal/boundary.py", MIDDLEWARES),
    ("wirecrawler/spiders/", SPIDER),
    ("bench/barespider.py", BARE_SPIDER),
    ("scrapy/pipelines/", ITEM_PATH),
]
ITEM_PATH_FUNCTIONS = ("itemproc", "_itemproc_finished")

ORDER = [
    PAGE_DECODE, PAGE_TREE, PAGE_FIELDS, PAGE_POST, STORY_BOOK, RECORDS, PIPELINES, EXPORT, SEEN,
    STATS, LOGGING, EXTENSIONS, MIDDLEWARES, SPIDER, BARE_SPIDER, ITEM_PATH, MACHINERY, IMPORTS, SHUTDOWN,
]  # fmt: skip
PAGE_READING = (PAGE_DECODE, PAGE_TREE, PAGE_FIELDS, PAGE_POST)


def _parts(frame: str) -> tuple[str, str]:
    """("function", "path") of a py-spy frame "function (path:line)"."""
    function, _, rest = frame.partition(" (")
    return function, rest.rpartition(":")[0]


def _page_part(frames: list[tuple[str, str]]) -> str:
    """The part of page reading the innermost frame below ``read_page`` is in."""
    for function, path in reversed(frames):
        if path == "wirecrawler/portal/decoding.py":
            return PAGE_DECODE
        # read_page's own time is nearly all the document freed as _parse returns (libxml2).
        if path == "wirecrawler/portal/pages.py" and function in ("_document", "_stripped_utf8", "read_page"):
            return PAGE_TREE
        if path.startswith(POST_TREE_FILES) or (
            path == "wirecrawler/portal/pages.py" and function in POST_TREE_FUNCTIONS
        ):
            return PAGE_POST
        if path == "wirecrawler/portal/pages.py":
            return PAGE_FIELDS
    return PAGE_FIELDS


def categorise(stack: str) -> str:
    if not stack.strip():
        return SHUTDOWN
    frames = [_parts(frame) for frame in stack.split(";")]
    if any(path.startswith("<frozen importlib") for _, path in frames):
        return IMPORTS
    for index in range(len(frames) - 1, -1, -1):
        function, path = frames[index]
        if (function, path) in PAGE_ROOTS or path == "wirecrawler/portal/decoding.py":
            return _page_part(frames[index:])
        for prefix, category in FILE_RULES:
            if path.startswith(prefix):
                return category
        if path.startswith("scrapy/") and any(name in function for name in ITEM_PATH_FUNCTIONS):
            return ITEM_PATH
    return MACHINERY


def read_samples(path: Path) -> Counter:
    """Samples per category in one py-spy raw file (collapsed stacks: "frame;frame;... count")."""
    counts: Counter = Counter()
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            stack, _, number = line.rstrip("\n").rpartition(" ")
            if number.isdigit():
                counts[categorise(stack)] += int(number)
    return counts


# --- Running.


def _cpu_seconds(pid: int) -> float | None:
    from bench.harness import _cpu_seconds as cpu

    return cpu(pid)


def profile_one(command: list[str], out: Path, gc_out: Path, rate: int, progress, attach_at: int = 1) -> dict:
    """Run *command* (``python -m ...``), attach py-spy once *attach_at* pages were served (1:
    the first page; all of them: what follows the last page); CPU, samples, GC."""
    import subprocess

    from bench.harness import ROOT

    python, rest = command[0], command[1:]
    wrapped = [python, "-m", "bench.profile_crawl", GC_CLOCK, str(gc_out), *rest]
    started = time.perf_counter()
    log = open(out.with_suffix(".log"), "w", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(wrapped, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    spy, cpu_at_attach = None, None
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if spy is None and progress() >= attach_at:
            cpu_at_attach = _cpu_seconds(process.pid)
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(process.pid), "--nonblocking",
                 "--rate", str(rate), "--format", "raw", "--output", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        time.sleep(0.002 if spy is None else 0.05)
    log.close()
    if spy is not None:
        spy.wait(timeout=60)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(wrapped[:8])} ... exited {status}; see {out.with_suffix('.log')}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "wall_seconds": round(time.perf_counter() - started, 3),
        "cpu_seconds": round(cpu, 3),
        "cpu_from_first_page": round(cpu - (cpu_at_attach or 0.0), 3),  # from the page attached at
        "gc": json.loads(gc_out.read_text(encoding="utf-8")),
        "samples": dict(read_samples(out)),
    }


def run(
    workdir: Path,
    runs: int = 3,
    rate: int = 400,
    modes: tuple[str, ...] = ("full", "bare", "floor+collector"),
    after_last_page: bool = False,
) -> dict:
    import shutil

    from bench import bigsite
    from bench.crawl_bench import NO_LIMITS, WITH_COLLECTOR, bare_command, floor_command, full_command
    from bench.fastserver import FastSiteServer
    from bench.harness import say

    site = workdir / "site"
    if not (site / "truth.json").exists():
        bigsite.generate(site, 210)
    truth = json.loads((site / "truth.json").read_text(encoding="utf-8"))
    pages = truth["listing_pages"] + len(truth["articles"])
    results: dict[str, list[dict]] = defaultdict(list)
    load = [os.getloadavg()]
    with (fast := FastSiteServer(site)) as url:
        for number in range(runs):
            order = modes[number % len(modes) :] + modes[: number % len(modes)]
            for mode in order:
                collector = WITH_COLLECTOR if mode.endswith("+collector") else []
                if mode == "full":
                    state = workdir / "profile-state"
                    shutil.rmtree(state, ignore_errors=True)
                    command = full_command(url, state, *NO_LIMITS)
                elif mode.startswith("floor"):
                    feed = workdir / "profile-floor.jsonl"
                    feed.unlink(missing_ok=True)
                    command = floor_command(url, feed, *collector)
                else:
                    command = bare_command(url, *NO_LIMITS, *collector)
                before = fast.pages_served
                name = mode.replace("+", "_with_")
                stem = workdir / f"profile-{name}-{number + 1}"
                one = profile_one(
                    command, stem.with_suffix(".txt"), stem.with_suffix(".gc.json"), rate,
                    lambda: fast.pages_served - before, pages if after_last_page else 1,
                )  # fmt: skip
                served = fast.pages_served - before
                if served != pages:
                    raise RuntimeError(f"the {mode} spider fetched {served} pages, expected {pages}")
                results[mode].append(one)
                say(f"profile: {mode} run {number + 1}: {one['cpu_from_first_page']} s CPU from the first page, "
                    f"{sum(one['samples'].values())} samples, GC {one['gc']['seconds']:.3f} s")  # fmt: skip
    load.append(os.getloadavg())
    summary = summarise(results, pages)
    summary["load_average"] = {"start": [round(x, 2) for x in load[0]], "end": [round(x, 2) for x in load[1]]}
    summary["runs"] = {mode: rows for mode, rows in results.items()}
    summary["rate"] = rate
    summary["phase"] = "after the last page" if after_last_page else "from the first page"
    from bench.harness import save

    save("profile-after-last-page" if after_last_page else "profile", summary)
    return summary


def summarise(results: dict[str, list[dict]], pages: int) -> dict:
    """Per mode: pooled samples per category, share, µs CPU per page; GC; the headroom."""
    modes = {}
    for mode, rows in results.items():
        samples: Counter = Counter()
        for row in rows:
            samples.update(row["samples"])
        total = sum(samples.values())
        cpu = sum(row["cpu_from_first_page"] for row in rows)
        us_per_page = 1e6 * cpu / (pages * len(rows))
        modes[mode] = {
            "runs": len(rows),
            "samples": total,
            "cpu_us_per_page": round(us_per_page, 1),
            "cpu_us_per_page_each_run": [round(1e6 * row["cpu_from_first_page"] / pages, 1) for row in rows],
            "gc_us_per_page": round(1e6 * sum(row["gc"]["seconds"] for row in rows) / (pages * len(rows)), 1),
            "gc_collections_per_run": [row["gc"]["collections"] for row in rows],
            "categories": {
                category: {
                    "samples": samples[category],
                    "share": round(samples[category] / total, 4) if total else 0.0,
                    "us_per_page": round(us_per_page * samples[category] / total, 1) if total else 0.0,
                }
                for category in ORDER
                if samples[category]
            },
        }
    summary = {"pages": pages, "modes": modes}
    if "full" in modes and "bare" in modes:
        full, bare = modes["full"], modes["bare"]
        summary["headroom"] = headroom(full, bare["cpu_us_per_page"])
        if "floor+collector" in modes:
            summary["headroom_to_floor"] = headroom(full, modes["floor+collector"]["cpu_us_per_page"])
    return summary


def headroom(full: dict, baseline_us: float) -> dict:
    """The full spider's CPU ratio (baseline µs per page over its own) as it is, and with each
    category, and all page reading, costing nothing."""
    us = full["cpu_us_per_page"]
    cost = {category: value["us_per_page"] for category, value in full["categories"].items()}
    cost["all page reading"] = sum(cost.get(category, 0.0) for category in PAGE_READING)
    engine = "page reading with the tree and selectors free (any engine's best case)"
    cost[engine] = cost.get(PAGE_TREE, 0.0) + cost.get(PAGE_FIELDS, 0.0)
    return {
        "as_is": round(baseline_us / us, 3),
        "without": {category: round(baseline_us / (us - c), 3) for category, c in cost.items() if us > c},
    }


def markdown(summary: dict) -> str:
    modes = summary["modes"]
    names = [m for m in ("full", "floor+collector", "floor", "bare+collector", "bare") if m in modes]
    lines = ["| category | " + " | ".join(f"{m}: µs/page (share)" for m in names) + " |"]
    lines.append("|---|" + "---|" * len(names))
    for category in ORDER:
        cells = []
        for mode in names:
            value = modes[mode]["categories"].get(category)
            cells.append(f"{value['us_per_page']:,.0f} ({100 * value['share']:.1f} %)" if value else "")
        if any(cells):
            lines.append(f"| {category} | " + " | ".join(cells) + " |")
    totals = " | ".join(f"**{modes[m]['cpu_us_per_page']:,.0f}**" for m in names)
    lines.append(f"| **total CPU {summary.get('phase', 'from the first page')}** | {totals} |")
    lines.append(
        "| the garbage collector, whole process (gc.callbacks; inside the rows above) | "
        + " | ".join(f"{modes[m]['gc_us_per_page']:,.0f}" for m in names) + " |"
    )
    for key, label in (("headroom", "bare"), ("headroom_to_floor", "floor+collector")):
        if key in summary:
            room = summary[key]
            lines += ["", f"| the full spider's CPU ratio to {label} | ratio |", "|---|---|"]
            lines.append(f"| as measured | {room['as_is']} |")
            lines += [f"| if {category} cost nothing | {ratio} |" for category, ratio in room["without"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [GC_CLOCK]:
        gc_clock(argv[1], argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/wirecrawler-profile"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=400, help="samples per second (py-spy --rate)")
    parser.add_argument("--modes", default="full,bare,floor+collector")
    parser.add_argument(
        "--after-last-page", action="store_true",
        help="attach when the last page was served: the release, the feeds' publication, the reports, the exit",
    )  # fmt: skip
    parser.add_argument("--summarise", action="store_true", help="only print the tables of bench/results/profile.json")
    args = parser.parse_args(argv)
    if args.summarise:
        from bench.harness import RESULTS

        print(markdown(json.loads((RESULTS / "profile.json").read_text(encoding="utf-8"))))
        return 0
    args.workdir.mkdir(parents=True, exist_ok=True)
    summary = run(args.workdir, args.runs, args.rate, tuple(args.modes.split(",")), args.after_last_page)
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
