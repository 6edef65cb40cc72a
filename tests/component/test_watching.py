"""The run's metrics (``wirecrawler.metrics.RunMetrics``) and the status page
(``wirecrawler.statuspage.StatusPage``) as Scrapy builds them, driven by the run's verdict
(``RunVerdict``) as a crawl's end drives it: spider closed, engine stopped, ``run_decided``.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from scrapy.utils.project import get_project_settings

from tests.runstats import healthy_stats
from wirecrawler.config import project_root
from wirecrawler.metrics import MetricsConfig, RunMetrics
from wirecrawler.runs import statuspage as pure_statuspage
from wirecrawler.runs.metrics import file_names
from wirecrawler.runs.verdict import RunVerdict
from wirecrawler.statuspage import StatusPage

START_URL = "http://127.0.0.1:8080/nieuws/buitenland"
RUN_FILE, SUCCESS_FILE = file_names("buitenland")


def with_watching(**settings) -> dict:
    """The project's extensions with the metrics and the status page, as settings.py is to list them."""
    extensions = {
        **get_project_settings().getdict("EXTENSIONS"),
        "wirecrawler.metrics.RunMetrics": 120,
        "wirecrawler.statuspage.StatusPage": 130,
    }
    return {"EXTENSIONS": extensions, "WIRECRAWLER_SEEN_STORE_ENABLED": False, **settings}


@pytest.fixture
def metrics_dir(tmp_path) -> Path:
    folder = tmp_path / "textfile"
    folder.mkdir()
    return folder


def run_to_its_end(make_crawler, stats: dict, before=None, **settings):
    """A crawler's run from spider closed to its verdict, with *stats* as the crawl left them;
    *before* is called once the crawler is built (and its set-up checked)."""
    crawler = make_crawler(spider_args={"start_url": START_URL}, **with_watching(**settings))
    if before is not None:
        before()
    crawler.stats.set_stats(stats)
    verdict = crawler.get_extension(RunVerdict)
    verdict.engine_started()
    verdict.spider_closed(spider=crawler.spider, reason="finished")
    verdict.engine_stopped()  # decides: the report, run_decided, the last line
    return crawler, verdict


def messages(caplog, since: int = 0) -> list[tuple[str, int, str]]:
    return [(r.name, r.levelno, r.getMessage()) for r in caplog.records[since:]]


def test_metrics_are_off_unless_a_folder_is_set_and_the_page_is_on_by_default(make_crawler):
    crawler = make_crawler(**with_watching())
    assert MetricsConfig.from_settings(crawler.settings).metrics_dir is MetricsConfig.metrics_dir is None
    assert crawler.get_extension(RunMetrics) is None
    assert crawler.get_extension(StatusPage) is not None


def test_the_page_can_be_turned_off_and_a_bad_value_is_refused(make_crawler):
    assert make_crawler(**with_watching(WIRECRAWLER_STATUS_PAGE="0")).get_extension(StatusPage) is None
    with pytest.raises(ValueError, match="WIRECRAWLER_STATUS_PAGE=sometimes: the status page is switched with 1"):
        make_crawler(**with_watching(WIRECRAWLER_STATUS_PAGE="sometimes"))


def test_a_relative_metrics_folder_is_relative_to_the_project_root(make_crawler, monkeypatch):
    monkeypatch.chdir(project_root() / "tests")
    crawler = make_crawler(**with_watching(WIRECRAWLER_METRICS_DIR="var/textfile"))
    assert MetricsConfig.from_settings(crawler.settings).metrics_dir == project_root() / "var" / "textfile"


def test_a_decided_run_writes_its_metrics_and_page_before_its_last_line(make_crawler, metrics_dir, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    crawler, verdict = run_to_its_end(make_crawler, healthy_stats(), WIRECRAWLER_METRICS_DIR=str(metrics_dir))
    assert verdict.exit_status == 0
    assert sorted(p.name for p in metrics_dir.iterdir()) == [RUN_FILE, SUCCESS_FILE]
    assert 'wirecrawler_run_success{spider="buitenland"} 1.0' in (metrics_dir / RUN_FILE).read_text()
    page = tmp_path / "feeds" / "reports" / "index.html"
    assert f'data-run-start="{crawler.spider.run.started:%Y-%m-%dT%H:%M:%SZ}"' in page.read_text()
    lines = [(name, message) for name, _, message in messages(caplog) if name.startswith("wirecrawler")]
    assert lines[-3:] == [
        ("wirecrawler.metrics", f"Run metrics written: {metrics_dir / RUN_FILE}, {metrics_dir / SUCCESS_FILE}"),
        ("wirecrawler.statuspage", f"Status page {page} written (runs shown: 1)"),
        ("wirecrawler.runs.verdict", "Run succeeded"),
    ]


def test_a_failed_run_replaces_the_run_file_and_keeps_the_last_success(make_crawler, metrics_dir):
    run_to_its_end(make_crawler, healthy_stats(), WIRECRAWLER_METRICS_DIR=str(metrics_dir))
    success = (metrics_dir / SUCCESS_FILE).read_text()
    _, verdict = run_to_its_end(
        make_crawler, healthy_stats(wirecrawler__requests_failed=2), WIRECRAWLER_METRICS_DIR=str(metrics_dir)
    )
    assert verdict.exit_status == 1
    run = (metrics_dir / RUN_FILE).read_text()
    assert 'wirecrawler_run_success{spider="buitenland"} 0.0' in run
    assert 'wirecrawler_requests_failed{spider="buitenland"} 2.0' in run
    assert 'wirecrawler_monitor_passed{monitor="requests",spider="buitenland"} 0.0' in run
    assert (metrics_dir / SUCCESS_FILE).read_text() == success


class Since:
    """Where the log stood when the crawler was built: the log of the run's end comes after."""

    def __init__(self, caplog, then=None):
        self.caplog, self.then, self.index = caplog, then, 0

    def __call__(self):
        if self.then is not None:
            self.then()
        self.index = len(self.caplog.records)


def assert_one_warning_and_the_run_stands(caplog, since, logger_name, start, verdict, exit_status=0):
    """One WARNING from *logger_name* starting with *start*, no traceback anywhere, and the
    run's outcome and last line as without the failure."""
    logged = messages(caplog, since)
    warnings = [(name, message) for name, level, message in logged if level >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0][0] == logger_name and warnings[0][1].startswith(start), warnings
    assert "the run's outcome is not affected" in warnings[0][1]
    assert not [r for r in caplog.records[since:] if r.exc_info or r.exc_text]
    assert verdict.exit_status == exit_status and verdict.failures_found == []
    assert logged[-1][2] == "Run succeeded"


def test_metrics_that_cannot_be_written_are_one_warning_and_do_not_fail_the_run(make_crawler, metrics_dir, caplog):
    (metrics_dir / RUN_FILE).mkdir()  # a directory where the file goes: the rename fails
    caplog.set_level(logging.INFO)
    since = Since(caplog)
    _, verdict = run_to_its_end(make_crawler, healthy_stats(), since, WIRECRAWLER_METRICS_DIR=str(metrics_dir))
    assert_one_warning_and_the_run_stands(caplog, since.index, "wirecrawler.metrics", f"Run metrics could not be written to {metrics_dir}", verdict)
    assert sorted(p.name for p in metrics_dir.iterdir()) == [RUN_FILE]  # no temporary file left


def test_a_missing_metrics_folder_is_named_in_the_warning_and_not_created(make_crawler, tmp_path, caplog):
    absent = tmp_path / "not-there"
    caplog.set_level(logging.INFO)
    since = Since(caplog)
    _, verdict = run_to_its_end(make_crawler, healthy_stats(), since, WIRECRAWLER_METRICS_DIR=str(absent))
    assert_one_warning_and_the_run_stands(caplog, since.index, "wirecrawler.metrics", "Run metrics could not be written", verdict)
    assert f"FileNotFoundError: no such folder (it is node_exporter's, and is not created here): {absent}" in caplog.text
    assert not absent.exists()


def test_a_page_that_cannot_be_written_is_one_warning_and_does_not_fail_the_run(make_crawler, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    since = Since(caplog, lambda: (tmp_path / "feeds" / "reports" / "index.html").mkdir(parents=True))
    _, verdict = run_to_its_end(make_crawler, healthy_stats(), since)
    assert_one_warning_and_the_run_stands(caplog, since.index, "wirecrawler.statuspage", "Status page could not be written in", verdict)


def test_a_bug_in_the_page_is_a_warning_too_never_a_traceback(make_crawler, metrics_dir, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise KeyError("run_start")

    monkeypatch.setattr(pure_statuspage, "render_page", broken)
    caplog.set_level(logging.INFO)
    since = Since(caplog)
    _, verdict = run_to_its_end(make_crawler, healthy_stats(), since, WIRECRAWLER_METRICS_DIR=str(metrics_dir))
    assert_one_warning_and_the_run_stands(caplog, since.index, "wirecrawler.statuspage", "Status page could not be written", verdict)
    assert "KeyError: 'run_start'" in caplog.text
    assert (metrics_dir / RUN_FILE).exists()  # the metrics do not depend on the page


def test_a_run_whose_report_could_not_be_written_still_has_its_metrics(make_crawler, metrics_dir, tmp_path, caplog):
    reports = tmp_path / "feeds" / "reports"

    def break_the_reports_folder():  # after the set-up was checked: a disk that fails mid-run
        shutil.rmtree(reports, ignore_errors=True)
        reports.parent.mkdir(exist_ok=True)
        reports.write_text("not a folder")

    caplog.set_level(logging.INFO)
    _, verdict = run_to_its_end(
        make_crawler, healthy_stats(), break_the_reports_folder, WIRECRAWLER_METRICS_DIR=str(metrics_dir)
    )
    assert verdict.report_path is None and verdict.exit_status == 1
    run = (metrics_dir / RUN_FILE).read_text()
    assert 'wirecrawler_run_success{spider="buitenland"} 0.0' in run
    assert 'wirecrawler_run_failures{spider="buitenland"} 1.0' in run  # "the run report could not be written"
    assert not (metrics_dir / SUCCESS_FILE).exists()
