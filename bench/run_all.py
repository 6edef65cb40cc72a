"""Every benchmark in one run, each against its baseline in the same run: ``make bench``.

usage: python -m bench.run_all [--only seen,parse,crawl,rerun,engine,store] [--rounds N] [--workdir DIR]

Run from the project root with the benchmark environment (``bench/.venv``, which ``make bench``
builds from bench/requirements.txt). The large site is generated once into the work directory
(a temporary one unless given) and shared by the benchmarks that need it. Each benchmark
writes ``bench/results/<name>.json``; the summary table is printed at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS = ("seen", "parse", "crawl", "rerun", "engine", "store")


def summary(results: dict[str, dict]) -> str:
    """A Markdown table of every goal, with the median and the spread of each ratio."""

    def span(s: dict) -> str:
        return f"{s['median']} ({s['min']}–{s['max']})"

    lines = ["| benchmark | measure | project | baseline | ratio, median (min–max) | goal | met |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    if crawl := results.get("crawl"):
        lines.append(
            f"| crawl | pages/s, {crawl['site']['pages']} pages | {span(crawl['full_pages_per_second'])} "
            f"| bare spider {span(crawl['bare_pages_per_second'])} | {span(crawl['ratio'])} | ≥ 0.8 | {crawl['goal_met']} |"
        )
        lines.append(
            f"| crawl | pages per CPU s | {span(crawl['full_pages_per_cpu_second'])} "
            f"| bare spider {span(crawl['bare_pages_per_cpu_second'])} | {span(crawl['cpu_ratio'])} | (≥ 0.8) | |"
        )
        lines.append(
            f"| crawl | pages/s | {span(crawl['full_pages_per_second'])} "
            f"| bare spider with the project's collector threshold {span(crawl['bare_with_collector_pages_per_second'])} "
            f"| {span(crawl['ratio_to_bare_with_collector'])} | | |"
        )
        lines.append(
            f"| crawl | pages/s | floor spider (parse, 2 items a page) {span(crawl['floor_pages_per_second'])}; "
            f"with the collector threshold {span(crawl['floor_with_collector_pages_per_second'])} "
            f"| bare spider {span(crawl['bare_pages_per_second'])} "
            f"| {span(crawl['floor_ratio'])}; {span(crawl['floor_with_collector_ratio'])} | | |"
        )
        lines.append(
            f"| crawl | pages/s | {span(crawl['full_pages_per_second'])} "
            f"| floor spider with the collector threshold {span(crawl['floor_with_collector_pages_per_second'])} "
            f"| {span(crawl['ratio_to_floor'])} | | |"
        )
        lines.append(
            f"| crawl | peak RSS MB; slope MB/1,000 pages | {span(crawl['full_peak_rss_mb'])}; "
            f"{span(crawl['full_slope_mb_per_1000_pages'])} | {span(crawl['bare_peak_rss_mb'])}; "
            f"{span(crawl['bare_slope_mb_per_1000_pages'])} | | flat | |"
        )
    if parse := results.get("parse"):
        for kind in ("listing", "article"):
            c = parse[f"{kind}_vs_lxml"]
            lines.append(
                f"| parse | µs CPU per {kind} page | {c['project_us_per_page']['median']} "
                f"| raw lxml {c['lxml_us_per_page']['median']} | {span(c['ratio'])} | ≤ 1.5 | {c['ratio']['median'] <= 1.5} |"
            )
        t = parse["article_trafilatura_vs_project"]
        lines.append(
            f"| parse | µs CPU per article page | {t['project_us_per_page']['median']} "
            f"| trafilatura {t['trafilatura_us_per_page']['median']} | trafilatura/project {span(t['ratio'])} | | |"
        )
        a = parse["accuracy"]
        lines.append(
            f"| parse | exact article text ({a['project']['articles']}) | {a['project']['exact_share']} "
            f"(similarity {a['project']['similarity_mean']}) | trafilatura {a['trafilatura']['exact_share']} "
            f"(similarity {a['trafilatura']['similarity_mean']}) | | | |"
        )
    if engine := results.get("engine"):
        for kind in ("listing", "article"):
            c = engine[f"{kind}_lexbor_vs_lxml"]
            lines.append(
                f"| engine | µs CPU per {kind} page | lexbor {c['lexbor_us_per_page']['median']} "
                f"| lxml (parse_page) {c['lxml_us_per_page']['median']} | lxml/lexbor {span(c['ratio'])} | ≥ 2 | {c['ratio']['median'] >= 2} |"
            )
        d = engine["differences"]
        lines.append(
            f"| engine | pages read differently, of {d['pages']:,} | {d['pages_differing']} | | | 0 | {d['pages_differing'] == 0} |"
        )
    if rerun := results.get("rerun"):
        for size in rerun["sizes"]:
            lines.append(
                f"| rerun | wall s, store of {size['store_ids']:,} ids | {span(size['rerun_wall_seconds'])} "
                f"| bare one-page crawl {span(size['bare_one_page_wall_seconds'])} | {size['ratio']} | ≤ 2 | {size['ratio'] <= 2} |"
            )
    if store := results.get("store"):
        from bench import store_bench

        lines.extend(store_bench.table_rows(store))
    if seen := results.get("seen"):
        lines.append(
            f"| seen | µs per lookup, {seen['ids']:,} ids | {span(seen['lookup_hits_us_per_id_wall'])} "
            f"| bare sqlite3 {seen['bare_sqlite3_lookup_us_per_id']['wall']} | {seen['store_over_bare_sqlite3']} "
            f"| ≤ 50 µs | {seen['goal_met']} |"
        )
        lines.append(
            f"| seen | inserts (batches of {seen['insert']['batch_size']:,}); file | "
            f"{seen['insert']['ids_per_second_in_commit']:,} ids/s; {seen['bytes_per_id']} bytes/id | | | batched | True |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated, of: " + ", ".join(BENCHMARKS))
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of crawl and rerun (default 3)")
    parser.add_argument("--workdir", type=Path, help="keep the generated site and state here (default: temporary)")
    args = parser.parse_args(argv)
    chosen = [name for name in args.only.split(",") if name]
    if unknown := set(chosen) - set(BENCHMARKS):
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    if "engine" in chosen and importlib.util.find_spec("selectolax") is None:
        print("bench: selectolax is missing; run `make bench` (it builds bench/.venv)", file=sys.stderr)
        return 2
    if "parse" in chosen and importlib.util.find_spec("trafilatura") is None:
        print("bench: trafilatura is missing; run `make bench` (it builds bench/.venv)", file=sys.stderr)
        return 2

    from bench import crawl_bench, parse_bench, rerun_bench, seen_bench

    def engine(work: Path) -> dict:
        from bench import engine_bench  # needs selectolax

        return engine_bench.run(work)

    def store(work: Path) -> dict:
        from bench import store_bench  # needs psycopg and PostgreSQL's server programs

        return store_bench.run(work)

    runners = {
        "seen": lambda work: seen_bench.run(work),
        "parse": lambda work: parse_bench.run(work),
        "crawl": lambda work: crawl_bench.run(work, rounds=args.rounds),
        "rerun": lambda work: rerun_bench.run(work, rounds=args.rounds),
        "engine": engine,
        "store": store,
    }
    results = {}
    with tempfile.TemporaryDirectory(prefix="wirecrawler-bench-") as temporary:
        work = args.workdir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        for name in chosen:
            started = time.perf_counter()
            results[name] = runners[name](work)
            print(f"bench: {name} done in {time.perf_counter() - started:.0f} s", flush=True)
    print()
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
