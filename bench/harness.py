"""What every benchmark shares: crawl subprocesses with memory sampling, statistics, results.

A crawl runs as ``python -m scrapy ...`` in the project root, as a user would run it. While it
runs, its resident memory (``VmRSS`` in ``/proc/<pid>/status``) is sampled together with a
progress count the caller supplies (pages the benchmark server has served), so memory can be
set against work done rather than against time.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# The settings every benchmark crawl shares (the project's defaults are polite, not fast).
FAST_CRAWL = [
    "-s", "DOWNLOAD_DELAY=0",
    "-s", "AUTOTHROTTLE_ENABLED=False",
    "-s", "CONCURRENT_REQUESTS=16",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s", "LOG_LEVEL=INFO",
]  # fmt: skip
SAMPLE_EVERY = 0.05  # seconds between memory samples


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the start
    progress: int  # the caller's count of work done (pages served)
    rss_mb: float
    peak_rss_mb: float  # VmHWM: the high-water mark of RSS since the process's exec
    cpu_seconds: float  # user + system time so far


@dataclass
class Run:
    """One crawl subprocess, measured."""

    command: list[str]
    returncode: int
    wall_seconds: float
    cpu_seconds: float  # user + system time of the process: less disturbed by other load than wall time
    log: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def peak_rss_mb(self) -> float:
        """The highest VmHWM sampled (sampling misses at most the last interval before exit)."""
        return max((s.peak_rss_mb for s in self.samples), default=0.0)

    def stat(self, name: str) -> float | None:
        """A value from the stats Scrapy dumps at the end of the log, e.g. ``elapsed_time_seconds``."""
        match = re.search(rf"'{re.escape(name)}': ([0-9.]+)", self.log)
        return float(match.group(1)) if match else None

    def check(self) -> Run:
        if self.returncode != 0:
            raise RuntimeError(f"{' '.join(self.command[:6])} ... exited {self.returncode}:\n{self.log[-3000:]}")
        return self


def _memory_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of *pid* in MB: resident memory now, and its peak since the program started."""
    found = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    found[line[:5]] = int(line.split()[1]) / 1024
    except OSError:
        return None
    return (found["VmRSS"], found["VmHWM"]) if len(found) == 2 else None


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    """User + system time of *pid* so far, from /proc/<pid>/stat (fields 14 and 15)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def scrapy(*args: str) -> list[str]:
    """A ``scrapy`` command line with this interpreter."""
    return [sys.executable, "-m", "scrapy", *args]


def measure(command: list[str], progress: Callable[[], int] = lambda: 0, timeout: float = 600) -> Run:
    """Run *command* in the project root, sampling its memory and *progress* until it exits."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True)
        samples = []
        while True:
            # wait4, not Popen.wait: it also returns the child's resource usage (its CPU time).
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.perf_counter() - started
            if elapsed > timeout:
                process.kill()
                raise TimeoutError(f"{command} ran over {timeout} s")
            memory, cpu = _memory_mb(process.pid), _cpu_seconds(process.pid)
            if memory is not None and cpu is not None:
                samples.append(Sample(elapsed, progress(), memory[0], memory[1], cpu))
            time.sleep(SAMPLE_EVERY)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        # Not usage.ru_maxrss: it counts the parent's memory the child had between fork and exec.
        cpu = usage.ru_utime + usage.ru_stime
        return Run(command, process.returncode, wall, cpu, log.read(), samples)


def spread(values: list[float], digits: int = 3, keep_values: bool = True) -> dict:
    """Median, min and max of repeated measurements, with the values themselves unless told not."""
    summary = {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }
    return {**summary, "values": [round(v, digits) for v in values]} if keep_values else summary


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of *ys* over *xs*."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    variance = sum((x - mean_x) ** 2 for x in xs)
    return covariance / variance if variance else 0.0


def crawl_cpu_seconds(run: Run) -> float:
    """CPU time from the first page served to the end: the crawl without the process's start-up."""
    before_first_page = [s.cpu_seconds for s in run.samples if s.progress == 0]
    return run.cpu_seconds - (before_first_page[-1] if before_first_page else 0.0)


def cpu_after_last_page(run: Run, total_pages: int) -> float:
    """CPU time after the last page was served: releasing items, storing feeds, shutting down."""
    fetching = [s.cpu_seconds for s in run.samples if s.progress < total_pages]
    return run.cpu_seconds - (fetching[-1] if fetching else 0.0)


def memory_profile(run: Run, total_pages: int) -> dict:
    """Peak RSS, and RSS growth per 1,000 pages while pages were being fetched."""
    fetching = [(s.progress, s.rss_mb) for s in run.samples if 0 < s.progress < total_pages]
    profile = {"peak_rss_mb": round(run.peak_rss_mb, 1), "samples_while_fetching": len(fetching)}
    if len(fetching) >= 3:
        pages, rss = zip(*fetching)
        profile.update(
            rss_first_page_mb=round(rss[0], 1),
            rss_last_page_mb=round(rss[-1], 1),
            slope_mb_per_1000_pages=round(1000 * slope(list(pages), list(rss)), 2),
        )
    return profile


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
    }


def save(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    result = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), **result}
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def say(message: str) -> None:
    print(message, flush=True)
