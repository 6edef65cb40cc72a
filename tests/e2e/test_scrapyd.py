"""Under Scrapyd: deployed with scrapyd-client, scheduled by ``deploy/scrapyd/schedule-crawl``,
judged from outside by the job's log and its run report.

A real Scrapyd 1.6 from ``.venv/scrapyd`` (``make scrapyd``) runs with the example
``deploy/scrapyd/scrapyd.conf`` in a folder of its own, on a free loopback port. The project is
deployed from a copy of the checkout (building the egg writes ``build/`` and egg-info beside
``setup.py``), and its crawls run in Scrapyd's folder, where no ``scrapy.cfg`` is: from the egg.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from croniter import croniter

from tests.crawling import ROOT, SAMPLE_SITE, differences, read_jsonl
from tests.e2e.test_readme_commands import fresh_clone, free_port
from wirecrawler.local.server import served
from wirecrawler.spiders.buitenland import CrawlArguments

SCRAPYD_BIN = ROOT / ".venv" / "scrapyd" / "bin"
SCHEDULE = ROOT / "deploy" / "scrapyd" / "schedule-crawl"
INSTALL_PATH = "/opt/wirecrawler"  # the placeholder install path in the deploy files
JOB_TIMEOUT = 60
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Scrapyd:
    url: str
    home: Path  # its working directory, where its crawls run
    log: Path  # its own log: its stdout and stderr

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"{self.url}/{path}", timeout=10) as response:
            return response.read()

    def jobs(self) -> dict:
        return json.loads(self.get("listjobs.json?project=wirecrawler"))

    def finished(self, job: str) -> dict:
        """The job's entry once Scrapyd lists it as finished: how a client learns a job is done."""

        def done():
            return next((entry for entry in self.jobs()["finished"] if entry["id"] == job), None)

        return wait_for(done, JOB_TIMEOUT, f"job {job} to finish")


@dataclass
class Job:
    id: str
    entry: dict  # in listjobs.json's "finished"
    log: str  # the job's log, as Scrapyd serves it
    report: dict  # the run report that names the job


def schedule(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SCHEDULE, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory):
    """Scrapyd started with the example configuration (its port made free, its poll quick), the
    project deployed to it; stopped at the end."""
    if not (SCRAPYD_BIN / "scrapyd").exists():
        pytest.fail("no Scrapyd environment: run `make scrapyd` (make test does)")
    home = tmp_path_factory.mktemp("scrapyd")
    config = configparser.ConfigParser()
    config.read(ROOT / "deploy" / "scrapyd" / "scrapyd.conf")
    assert config["scrapyd"]["bind_address"] == "127.0.0.1"
    config["scrapyd"].update(http_port=str(free_port()), poll_interval="0.2")
    with (home / "scrapyd.conf").open("w") as file:
        config.write(file)
    url = f"http://127.0.0.1:{config['scrapyd']['http_port']}"
    log = home / "scrapyd.out"
    # Without the checkout on the path: the crawls must import the project from its egg.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [SCRAPYD_BIN / "scrapyd"], cwd=home, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Scrapyd(url, home, log)
    try:
        wait_for(lambda: _answers(server) or process.poll() is not None, 30, "Scrapyd to answer")
        assert process.poll() is None, log.read_text()[-3000:]
        project = fresh_clone(tmp_path_factory.mktemp("checkout"))
        with (project / "scrapy.cfg").open("a") as cfg:
            cfg.write(f"\n[deploy:test]\nurl = {url}/\n")
        deployed = subprocess.run(
            [SCRAPYD_BIN / "scrapyd-deploy", "test"], cwd=project, capture_output=True, text=True, timeout=120
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert json.loads(deployed.stdout)["spiders"] == 1
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _answers(server: Scrapyd) -> bool:
    try:
        return json.loads(server.get("daemonstatus.json"))["status"] == "ok"
    except OSError:
        return False


@pytest.fixture(scope="module")
def crawls(scrapyd, tmp_path_factory):
    """Three jobs scheduled through the script, one after the other: the sample site, the same
    again (nothing new), and a site that is gone (a closed port). Absolute folders in tmp."""
    state = tmp_path_factory.mktemp("crawls")
    env = {
        "SCRAPYD_URL": scrapyd.url,
        "WIRECRAWLER_STATE_DIR": str(state / "state"),
        "WIRECRAWLER_FEED_DIR": str(state / "feeds"),
    }
    feed_dir = state / "feeds"

    def job(site: str, *args: str) -> Job:
        scheduled = schedule(env, "-a", f"start_url={site}/nieuws/buitenland", *FAST, *args)
        assert scheduled.returncode == 0 and scheduled.stderr == "", scheduled.stderr
        job_id = scheduled.stdout.strip()
        assert re.fullmatch(r"[0-9a-f]{32}", job_id), scheduled.stdout
        entry = scrapyd.finished(job_id)
        reports = [json.loads(path.read_text()) for path in (feed_dir / "reports").glob("*.json")]
        (report,) = [report for report in reports if report.get("scrapyd_job") == job_id]
        return Job(job_id, entry, scrapyd.get(entry["log_url"].lstrip("/")).decode(), report)

    with served(SAMPLE_SITE) as url:
        first = job(url)
        files_after_first = sorted(feed_dir.rglob("*.jsonl"))
        log_after_first = (feed_dir / "publications.log").read_text()
        second = job(url)
    gone = job(url, "-s", "RETRY_TIMES=0")  # the server has stopped: its port is closed
    return feed_dir, files_after_first, log_after_first, (first, second, gone)


def last_line(log: str) -> str:
    return log.rstrip("\n").splitlines()[-1]


def test_a_scheduled_job_publishes_the_feeds_and_its_report_carries_the_job_and_verdict(crawls):
    _, files, publications, (job, _, _) = crawls
    assert job.report["exit_status"] == 0 and job.report["failures"] == [], job.log[-3000:]
    # Scrapyd's id beside the job, not in it: the job is what the runs share (the gap check, the status page).
    assert job.report["scrapyd_job"] == job.id and set(job.report["job"]) == {"spider", "start_url"}
    assert last_line(job.log).endswith("[wirecrawler.runs.verdict] INFO: Run succeeded")
    assert sorted(path.parent.name for path in files) == ["briefs", "leads"]
    entries = [json.loads(line) for line in publications.splitlines()]
    assert sorted((entry["kind"], Path(entry["path"]).name) for entry in entries) == sorted(
        (path.parent.name[:-1], path.name) for path in files
    )
    records = [record for path in files for record in read_jsonl(path)]
    assert differences(records, read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")) == []
    assert {(feed["records"], feed["published"]) for feed in job.report["feeds"]} == {
        (len(read_jsonl(path)), True) for path in files
    }


def test_a_second_job_publishes_nothing_new_and_succeeds(crawls):
    feed_dir, files, publications, (_, job, _) = crawls
    assert job.report["exit_status"] == 0 and job.report["feeds"] == [], job.log[-3000:]
    assert job.report["records"]["brief"]["parsed"] > 0 and job.report["records"]["brief"]["new"] == 0
    assert last_line(job.log).endswith("INFO: Run succeeded")
    assert sorted(feed_dir.rglob("*.jsonl")) == files
    assert (feed_dir / "publications.log").read_text() == publications


def test_a_failed_job_is_finished_in_scrapyd_and_failed_in_its_report_and_log(crawls, scrapyd):
    _, _, _, (_, _, job) = crawls
    # Scrapyd lists it as it lists a good one: finished, with no outcome.
    assert set(job.entry) == {"id", "project", "spider", "start_time", "end_time", "log_url", "items_url"}
    assert job.report["exit_status"] == 1 and job.report["crawl_succeeded"] is False
    assert "connection refused by 127.0.0.1:" in job.report["failures"][0]
    assert "ERROR: Run failed: " + "; ".join(job.report["failures"]) in last_line(job.log)
    # Scrapyd's own log has the crawl's exit status.
    assert re.search(rf"Process died: exitstatus=1 project='wirecrawler' spider='buitenland' job='{job.id}'",
                     scrapyd.log.read_text())  # fmt: skip


def test_the_crawls_ran_from_the_egg_in_scrapyds_folder_which_they_left_alone(crawls, scrapyd):
    (egg,) = (scrapyd.home / "eggs" / "wirecrawler").glob("*.egg")
    names = zipfile.ZipFile(egg).namelist()
    assert {name.split("/")[0] for name in names} == {"wirecrawler", "EGG-INFO"}  # no tests, sites or benchmarks
    # Scrapyd's Python finds no other copy of the project there: the crawls imported the egg's.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    elsewhere = subprocess.run([SCRAPYD_BIN / "python", "-c", "import wirecrawler"], cwd=scrapyd.home, env=env,
                               capture_output=True, text=True, timeout=30)  # fmt: skip
    assert "No module named 'wirecrawler'" in elsewhere.stderr
    # The crawls' folders were absolute: nothing of theirs in Scrapyd's folder.
    assert sorted(path.name for path in scrapyd.home.iterdir()) == [
        "dbs", "eggs", "logs", "scrapyd.conf", "scrapyd.out", "twistd.pid",
    ]  # fmt: skip


def test_the_schedule_script_refuses_relative_folders_and_says_what_scrapyd_refused(scrapyd, tmp_path):
    before = scrapyd.jobs()
    env = {"SCRAPYD_URL": scrapyd.url, "WIRECRAWLER_STATE_DIR": str(tmp_path), "WIRECRAWLER_FEED_DIR": "feeds"}
    relative = schedule(env)
    assert relative.returncode == 78 and relative.stdout == ""
    assert relative.stderr == (
        "schedule-crawl: WIRECRAWLER_FEED_DIR=feeds is a relative path, which a crawl under Scrapyd takes from"
        " Scrapyd's own working directory: give an absolute path; nothing scheduled\n"
    )
    unset = schedule({**env, "WIRECRAWLER_FEED_DIR": ""})
    assert unset.returncode == 78 and "WIRECRAWLER_FEED_DIR is not set" in unset.stderr
    refused = schedule({**env, "WIRECRAWLER_FEED_DIR": str(tmp_path), "SCRAPYD_PROJECT": "elsewhere"})
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"schedule-crawl: Scrapyd at {scrapyd.url} refused the job: project 'elsewhere' not found; nothing scheduled\n"
    )
    down = schedule({**env, "WIRECRAWLER_FEED_DIR": str(tmp_path), "SCRAPYD_URL": f"http://127.0.0.1:{free_port()}"})
    assert down.returncode == 1 and "cannot be reached" in down.stderr
    assert scrapyd.jobs() == before and list(tmp_path.iterdir()) == []


def test_the_spider_takes_scrapyds_job_id_and_still_refuses_other_unknown_arguments():
    assert CrawlArguments.parse(_job="4f2a").job_id == "4f2a"
    assert CrawlArguments.parse().job_id is None
    with pytest.raises(ValueError, match="unknown spider arguments: 'jobid'"):
        CrawlArguments.parse(_job="4f2a", jobid="4f2a")


def test_the_crontab_schedules_through_scrapyd_every_ten_minutes_with_absolute_folders():
    lines = [line.strip() for line in (ROOT / "deploy" / "scrapyd" / "crontab").read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    env = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", line))
    (entry,) = [line.split(None, 5) for line in lines if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", line)]
    schedule_, command = " ".join(entry[:5]), entry[5]
    assert croniter.is_valid(schedule_)
    runs = croniter(schedule_, datetime(2026, 12, 31, 23, 50))
    assert [runs.get_next(datetime) for _ in range(2)] == [datetime(2027, 1, 1, 0, 0), datetime(2027, 1, 1, 0, 10)]
    assert command == f"{INSTALL_PATH}/deploy/scrapyd/schedule-crawl -s CLOSESPIDER_TIMEOUT=540 >/dev/null"
    assert os.access(command.split()[0].replace(INSTALL_PATH, str(ROOT)), os.X_OK)
    assert env["WIRECRAWLER_STATE_DIR"] == f"{INSTALL_PATH}/.wirecrawler"  # where deploy/run-crawl keeps them
    assert env["WIRECRAWLER_FEED_DIR"] == f"{INSTALL_PATH}/feeds"
    assert env["SCRAPYD_URL"] == "http://127.0.0.1:6800"
