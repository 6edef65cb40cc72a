"""One crawl run: the job it belongs to and when it started. Plain Python with no Scrapy import.

The spiders this project's components serve declare ``run: Run``: the feeds are named by its
start, the crawl stays on its start URL's site, and its report is filed under its job (and
carries Scrapyd's id for the run, when Scrapyd started it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wirecrawler.store.feednames import run_stamp

SCRAPYD_JOB = "scrapyd_job"  # the key of Scrapyd's id for the run, in ``Run.job`` and in the report


@dataclass(frozen=True)
class Run:
    spider: str
    start_url: str
    started: datetime  # aware, UTC
    # Scrapyd's id for this run (the ``_job`` argument it gives every crawl), None elsewhere: the
    # key its operator has, so the run's report carries it (``wirecrawler.runs.history``).
    job_id: str | None = None

    @property
    def stamp(self) -> str:
        """ "2026-11-24T10-00-00Z": the run's UTC start, as its feed files and report are named."""
        return run_stamp(self.started)

    @property
    def job(self) -> dict[str, str]:
        """The job the run belongs to: its spider and start URL; under Scrapyd, also Scrapyd's id
        for this run (``SCRAPYD_JOB``), which the report keeps apart from the job's own keys.

        The gap since the previous successful run is measured within a job, so a crawl of a
        local test server (another start URL) neither trips nor resets the scheduled crawl's gap.
        """
        job = {"spider": self.spider, "start_url": self.start_url}
        if self.job_id is not None:
            job[SCRAPYD_JOB] = self.job_id
        return job


def run_of(spider) -> Run | None:
    """The run a spider declares, or None for a spider that is not one of this project's."""
    run = getattr(spider, "run", None)
    return run if isinstance(run, Run) else None
