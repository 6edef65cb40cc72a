"""Every way of starting the crawl ends the same: the run's report and its verdict.

``scrapy crawl`` (the project's command), ``scrapy runspider`` and a script with Scrapy's
``CrawlerProcess`` each crawl the sample site into a fresh state; their run reports must agree
on everything but the times and the feed files' names.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wirecrawler.local.demo import local_crawl_command
from wirecrawler.local.server import PROJECT_ROOT, served

SAMPLE_SITE = PROJECT_ROOT / "sample_site"
TIMEOUT = 120

CRAWLER_PROCESS_SCRIPT = """
import sys
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

start_url, state_dir, feed_dir = sys.argv[1:]
settings = get_project_settings()
settings.setdict(
    {"WIRECRAWLER_STATE_DIR": state_dir, "WIRECRAWLER_FEED_DIR": feed_dir,
     "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False},
    priority="cmdline",
)
process = CrawlerProcess(settings)
process.crawl("buitenland", start_url=start_url)
process.start()
"""


def scrapy_crawl(start_url: str, state: Path) -> list[str]:
    return local_crawl_command(start_url.removesuffix("/nieuws/buitenland"), state / "state", state / "feeds")


def scrapy_runspider(start_url: str, state: Path) -> list[str]:
    crawl = scrapy_crawl(start_url, state)
    options = crawl[crawl.index("buitenland") + 1 :]
    return [sys.executable, "-m", "scrapy", "runspider", "wirecrawler/spiders/buitenland.py", *options]


def crawler_process(start_url: str, state: Path) -> list[str]:
    return [sys.executable, "-c", CRAWLER_PROCESS_SCRIPT, start_url, str(state / "state"), str(state / "feeds")]


def run_report(command: list[str], state: Path) -> tuple[dict, str]:
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    reports = sorted((state / "feeds" / "reports").glob("*.json"))
    assert len(reports) == 1, done.stderr[-3000:]
    return json.loads(reports[0].read_text(encoding="utf-8")), done.stderr


def comparable(report: dict, state: Path) -> dict:
    """The report without what differs between any two runs: their times and feed file names."""
    feeds = [
        {**feed, "uri": str(Path(feed["uri"]).relative_to(state / "feeds").parent)} for feed in report["feeds"]
    ]
    return {**report, "run_start": None, "run_end": None, "feeds": feeds}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    with served(SAMPLE_SITE) as base_url:
        start_url = f"{base_url}/nieuws/buitenland"
        found = {}
        for name, command in (
            ("scrapy crawl", scrapy_crawl),
            ("scrapy runspider", scrapy_runspider),
            ("CrawlerProcess", crawler_process),
        ):
            state = tmp_path_factory.mktemp(name.replace(" ", "-"))
            report, log = run_report(command(start_url, state), state)
            found[name] = (comparable(report, state), log)
    return found


def test_the_reference_run_published_the_sample_site_and_succeeded(reports):
    report, log = reports["scrapy crawl"]
    assert report["exit_status"] == 0 and report["failures"] == []
    assert report["records"]["lead"]["new"] == 29 and report["records"]["brief"]["new"] == 30
    assert {feed["uri"] for feed in report["feeds"]} == {"leads", "briefs"}
    assert log.rstrip().splitlines()[-1].endswith("Run succeeded")


@pytest.mark.parametrize("entry_point", ["scrapy runspider", "CrawlerProcess"])
def test_another_entry_point_writes_the_same_report_and_says_the_verdict(reports, entry_point):
    report, log = reports[entry_point]
    assert report == reports["scrapy crawl"][0]
    assert log.rstrip().splitlines()[-1].endswith("Run succeeded")
