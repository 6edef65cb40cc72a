"""The run's metrics for Prometheus, written for node_exporter's textfile collector after every run.

``RunMetrics`` is an extension, off unless ``-s WIRECRAWLER_METRICS_DIR=FOLDER`` names the
collector's folder (node_exporter's ``--collector.textfile.directory``; Debian's
``/var/lib/prometheus/node-exporter``). Once the run's outcome is known and its report written
(``wirecrawler.runs.signals.run_decided``), it writes the metrics the report gives
(``wirecrawler.runs.metrics``: names, types, labels, files). It writes before the run's last
log line. A failure to write them is a WARNING and does not fail the run: the run's outcome
and report stand, and a metrics file that goes stale is what the example alert rules
(``deploy/wirecrawler.rules.yml``) catch.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.exceptions import NotConfigured

from wirecrawler.config import project_root
from wirecrawler.runs.checks import RunFigures
from wirecrawler.runs.history import build_report
from wirecrawler.runs.metrics import write_run_metrics
from wirecrawler.runs.run import run_of
from wirecrawler.runs.signals import run_decided
from wirecrawler.settingvalues import SettingsReader, read_strictly

logger = logging.getLogger(__name__)

SETTING = "WIRECRAWLER_METRICS_DIR"


@dataclass(frozen=True)
class MetricsConfig:
    # node_exporter's textfile collector folder; None: no metrics. Relative: to the project root.
    metrics_dir: Path | None = None

    @classmethod
    def from_settings(cls, settings) -> MetricsConfig:
        """From Scrapy settings: ``WIRECRAWLER_METRICS_DIR``, a folder; unset or empty is off.

        Raises ``SettingError`` for a value it cannot use."""
        return read_strictly(settings, cls.read)

    @classmethod
    def read(cls, reader: SettingsReader) -> MetricsConfig:
        """As ``from_settings``; a bad value is recorded in *reader* and its default used.

        The folder is not checked here: it is node_exporter's, and a run that cannot write
        to it still runs (``RunMetrics`` warns)."""
        raw = reader.text(SETTING, None)
        if raw is None or not raw.strip():
            return cls()
        path = Path(raw)
        return cls(metrics_dir=path if path.is_absolute() else project_root() / path)


def report_of(verdict, crawler) -> dict[str, Any]:
    """The run's report: as written, or, when it could not be written or read back, built again
    from what the verdict decided."""
    if verdict.report_path is not None:
        try:
            return json.loads(Path(verdict.report_path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    run = run_of(crawler.spider)
    stats = crawler.stats
    return build_report(
        job=run.job,
        run_start=run.started,
        run_end=datetime.now(UTC),
        finish_reason=stats.get_value("finish_reason"),
        figures=RunFigures.from_stats(stats.get_stats()),
        feeds=verdict.feeds,
        checks=verdict.checks,
        failures=verdict.failures_found,
        exit_status=verdict.exit_status,
    )


class RunMetrics:
    """Writes the run's metrics files when the run is decided; a failure is one WARNING."""

    def __init__(self, crawler, config: MetricsConfig):
        self.crawler = crawler
        self.folder = config.metrics_dir
        crawler.signals.connect(self.run_decided, signal=run_decided)

    @classmethod
    def from_crawler(cls, crawler):
        config = MetricsConfig.from_settings(crawler.settings)
        if config.metrics_dir is None:
            raise NotConfigured  # no message: off is the default, not worth a line
        return cls(crawler, config)

    def run_decided(self, verdict) -> None:
        if run_of(self.crawler.spider) is None:
            return  # not one of this project's runs: RunVerdict made no report either
        try:
            if not self.folder.is_dir():
                raise FileNotFoundError(f"no such folder (it is node_exporter's, and is not created here): {self.folder}")
            written = write_run_metrics(self.folder, report_of(verdict, self.crawler))
        except Exception as exc:  # a bug included: the metrics never fail the run, nor print a traceback
            logger.warning(
                "Run metrics could not be written to %s (the run's outcome is not affected): %s: %s",
                self.folder,
                type(exc).__name__,
                exc,
            )
            return
        logger.info("Run metrics written: %s", ", ".join(str(path) for path in written))
