"""A run's metrics for Prometheus, in files for node_exporter's textfile collector.

Plain Python with no Scrapy import (``prometheus_client`` only). The metrics are read from the
run's report (``wirecrawler.runs.history.build_report``), so they say exactly what the report
says. ``wirecrawler.metrics.RunMetrics`` writes them once the run's outcome is known, in two
files of the textfile collector's folder:

- ``wirecrawler-<spider>-run.prom``: the run's metrics (``run_families``), replaced by every run;
- ``wirecrawler-<spider>-success.prom``: ``wirecrawler_last_success_timestamp_seconds``
  (``success_families``), written only by a run that succeeded, so a failed run cannot erase
  when the last good one was.

Every value describes the last run (a count is that run's, not a running total), so every
metric is a gauge. Every series has the label ``spider``; it is not called ``job`` because
Prometheus gives every scraped series its own ``job`` label (the scrape job's, ``node``) and
would rename ours to ``exported_job``. The start URL, one value per deployment, is a label of
``wirecrawler_run_info`` alone, so no other series changes identity when it changes. The other
labels have a fixed, small set of values: ``kind`` and ``monitor``. ``METRICS`` lists them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from wirecrawler.portal.timeline import parse_iso
from wirecrawler.runs.checks import KINDS
from wirecrawler.store.atomicfile import replace_whole

PAGE_KINDS = ("listing", "article", "malformed")
FILE_MODE = 0o644  # node_exporter runs as another user (Debian: prometheus); the metrics are no secret


@dataclass(frozen=True)
class MetricSpec:
    name: str
    labels: tuple[str, ...]  # besides "spider", which every series has
    help: str


METRICS = (
    MetricSpec("wirecrawler_run_info", ("start_url",), "The last run's job: its spider and start URL; always 1."),
    MetricSpec("wirecrawler_run_start_timestamp_seconds", (), "When the last run started, in seconds since the epoch."),
    MetricSpec("wirecrawler_run_duration_seconds", (), "How long the last run took, from its start to its verdict."),
    MetricSpec("wirecrawler_run_success", (), "1 if the last run succeeded (exit status 0), 0 if it failed."),
    MetricSpec("wirecrawler_run_exit_status", (), "The exit status of the last run: 0 succeeded, 1 failed."),
    MetricSpec("wirecrawler_run_failures", (), "How many causes the last run failed for (0 when it succeeded)."),
    MetricSpec("wirecrawler_pages", ("kind",), "Pages the last run read, by kind: listing, article, malformed."),
    MetricSpec("wirecrawler_records_parsed", ("kind",), "Records the last run parsed, new or not, by kind: lead, brief."),
    MetricSpec("wirecrawler_records_new", ("kind",), "Records the last run published as new, by kind: lead, brief."),
    MetricSpec("wirecrawler_requests_failed", (), "Requests of the last run that failed after their retries."),
    MetricSpec("wirecrawler_retries", (), "Retries the last run made."),
    MetricSpec("wirecrawler_monitor_passed", ("monitor",), "1 if the end-of-run monitor passed in the last run, 0 if it failed."),
    MetricSpec("wirecrawler_feed_files_published", (), "Feed files the last run published."),
)
LAST_SUCCESS = MetricSpec(
    "wirecrawler_last_success_timestamp_seconds", (), "When the last successful run ended, in seconds since the epoch."
)


def file_names(spider: str) -> tuple[str, str]:
    """The run's file and the last success's file in the textfile collector's folder.

    Both end in ``.prom``, which the collector reads; the temporary files they are written
    through start with a dot and end otherwise, which it skips.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", spider) or "_"
    return f"wirecrawler-{safe}-run.prom", f"wirecrawler-{safe}-success.prom"


def _timestamp(value: str) -> float:
    return parse_iso(value).timestamp()


def run_families(report: dict[str, Any]) -> list[Metric]:
    """The metrics of the run *report* describes (a report as ``build_report`` makes it)."""
    job = report["job"]
    spider = job["spider"]
    start, end = _timestamp(report["run_start"]), _timestamp(report["run_end"])
    pages, records, requests = report.get("pages", {}), report.get("records", {}), report.get("requests", {})
    exit_status = int(report["exit_status"])
    values: dict[str, list[tuple[tuple[str, ...], float]]] = {
        "wirecrawler_run_info": [((job.get("start_url", ""),), 1)],
        "wirecrawler_run_start_timestamp_seconds": [((), start)],
        "wirecrawler_run_duration_seconds": [((), max(0.0, end - start))],
        "wirecrawler_run_success": [((), 1 if exit_status == 0 else 0)],
        "wirecrawler_run_exit_status": [((), exit_status)],
        "wirecrawler_run_failures": [((), len(report.get("failures", [])))],
        "wirecrawler_pages": [((kind,), pages.get(kind, 0)) for kind in PAGE_KINDS],
        "wirecrawler_records_parsed": [((kind,), records.get(kind, {}).get("parsed", 0)) for kind in KINDS],
        "wirecrawler_records_new": [((kind,), records.get(kind, {}).get("new", 0)) for kind in KINDS],
        "wirecrawler_requests_failed": [((), requests.get("failed", 0))],
        "wirecrawler_retries": [((), requests.get("retries", 0))],
        # One series per monitor that ran (none when the monitors could not run: the run failed).
        "wirecrawler_monitor_passed": [((m["name"],), 1 if m["passed"] else 0) for m in report.get("monitors", [])],
        "wirecrawler_feed_files_published": [((), sum(1 for feed in report.get("feeds", []) if feed.get("published")))],
    }
    return [_family(spec, spider, values[spec.name]) for spec in METRICS]


def success_families(report: dict[str, Any]) -> list[Metric]:
    """``wirecrawler_last_success_timestamp_seconds`` for a run that succeeded; none for one that failed."""
    if int(report["exit_status"]) != 0:
        return []
    return [_family(LAST_SUCCESS, report["job"]["spider"], [((), _timestamp(report["run_end"]))])]


def _family(spec: MetricSpec, spider: str, samples: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
    family = GaugeMetricFamily(spec.name, spec.help, labels=("spider", *spec.labels))
    for labels, value in samples:
        family.add_metric((spider, *labels), float(value))
    return family


class _Families:
    """A collector that yields fixed families, for ``generate_latest``."""

    def __init__(self, families: list[Metric]):
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)


def exposition(families: list[Metric]) -> bytes:
    """*families* in Prometheus's text format (version 0.0.4), as node_exporter reads it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry)


def write_textfile(path: Path, families: list[Metric]) -> Path:
    """Replaces *path* with *families*, whole: node_exporter reads the old file or the new one.

    As ``prometheus_client.write_to_textfile`` does, the file is written under another name in
    the same folder and renamed over *path* (``rename(2)`` is atomic). Unlike it, the file is
    made readable by all (``FILE_MODE``) whatever the umask (the service's ``UMask=0027``
    would hide it from node_exporter's user), fsynced before the rename (so a power cut
    cannot leave an empty file under the name), and the temporary name starts with a dot and
    does not end in ``.prom``, so the collector never reads it. On an error nothing is left
    but the previous file, and the error is raised.
    """
    return replace_whole(path, exposition(families), mode=FILE_MODE)


def write_run_metrics(folder: Path, report: dict[str, Any]) -> list[Path]:
    """Writes the run's file, and the last success's when the run succeeded, in *folder*
    (which must exist: it is node_exporter's). Returns the files written; raises OSError."""
    run_name, success_name = file_names(report["job"]["spider"])
    written = [write_textfile(folder / run_name, run_families(report))]
    if success := success_families(report):
        written.append(write_textfile(folder / success_name, success))
    return written
