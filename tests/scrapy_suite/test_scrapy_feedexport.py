"""Scrapy's own feed-export tests pass on the project's feed storage wherever they pass on Scrapy's.

Scrapy 2.19.0's ``tests/test_feedexport*.py``, from its sdist (``make scrapy-suite`` fetches and
unpacks it into ``.cache/``), run twice in pytest subprocesses of their own (Scrapy's conftest and
pytest settings, not ours): once stock, once with Scrapy's ``file`` storage replaced by the
project's, named by ``WIRECRAWLER_FEED_STORAGE`` (default
``wirecrawler.feeds.FileFeedStorage``). How: ``tests/scrapy_suite/run.py``.

Scrapy's own skips inside a sub-run (S3 and GCS without boto3 and google-cloud-storage) are not
ours: they skip alike on both storages, and a test that passes on Scrapy's storage and is skipped
on ours counts as lost. These tests themselves never skip: without the sdist they fail and say
to run the make target.
"""

from __future__ import annotations

import pytest

from tests.scrapy_suite import run as suite


@pytest.fixture(scope="module")
def subruns(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[suite.SubRun, suite.SubRun]:
    problem = suite.setup_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    stock, project = suite.run_both(tmp_path_factory.mktemp("scrapy-suite"))
    request.config.stash[suite.SUMMARY_KEY] = [stock.summary(), project.summary()]
    return stock, project


def test_scrapy_feedexport_tests_pass_on_scrapys_storage(subruns):
    stock, _ = subruns
    failing = stock.with_outcome("failed", "error", "xpassed")
    if stock.returncode != 0 or failing or not stock.with_outcome("passed"):
        pytest.fail(f"{stock.summary()}\n{stock.tail()}", pytrace=False)
    ran = {nodeid.split("::")[0] for nodeid in stock.results}
    assert ran == set(suite.feedexport_test_files()), stock.summary()


def test_what_passes_on_scrapys_storage_passes_on_the_projects(subruns):
    stock, project = subruns
    if not project.report:
        pytest.fail(f"the run on {project.storage} did not run (exit {project.returncode}):\n{project.tail()}", pytrace=False)
    lost = suite.regressions(stock, project)
    if lost:
        pytest.fail(
            f"{len(lost)} of Scrapy's feed-export tests pass on Scrapy's file storage and not on {project.storage}"
            f" ({project.summary()}):\n" + "\n".join(lost),
            pytrace=False,
        )


def test_the_project_run_used_the_projects_storage(subruns):
    stock, project = subruns
    problems = suite.storage_problems(stock, project)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
