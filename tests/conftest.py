"""Test-session rules: in CI a skipped test fails the run (a missing browser is not a pass).

The tests are in three tiers, one folder each, with their own fixtures in their ``conftest.py``:
``unit/`` (pure: no crawler, no subprocess, no server), ``component/`` (components built with
``scrapy.utils.test.get_crawler``) and ``e2e/`` (``scrapy crawl`` subprocesses against a local
server, the deploy files with real tools, rendering in Chromium). Helpers are imported as
packages from the project root (``pytest.ini``: ``pythonpath = .``): ``tests.crawling``,
``tests.faultserver``, ``tests.corpus``, ``tests.runstats`` and ``testsites``.

The shared mode's servers are fixtures for every tier: ``postgres`` and ``seaweed`` (one real
PostgreSQL and one SeaweedFS for the session, started by the first test that asks, from
``wirecrawler.local.backends``), ``postgres_url`` (a new database per test), ``s3_feed_url`` (a
new bucket per test) and ``s3_env`` (the variables that point a subprocess's S3 clients at
SeaweedFS). A server that cannot start makes its tests error, never skip.
"""

import itertools
import os
import re

import pytest

from wirecrawler.local.backends import PostgresServer, SeaweedServer

# Numbers the databases and buckets of a session: names made from test names could repeat.
_names = itertools.count(1)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write_line(f"CI: {len(skipped)} tests were skipped; in CI that is a failure", red=True)
        session.exitstatus = 1


def fresh_name(request, separator: str) -> str:
    """A name for this test's database or bucket: its test's name, then a number of the session."""
    test = re.sub(r"[^a-z0-9]+", separator, request.node.name.lower()).strip(separator)
    return f"{test[:50]}{separator}{next(_names)}"


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A PostgreSQL server for the session (``wirecrawler.local.backends.PostgresServer``)."""
    with PostgresServer(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """A SeaweedFS server with its S3 gateway for the session (``wirecrawler.local.backends.SeaweedServer``)."""
    with SeaweedServer(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture
def postgres_url(postgres, request):
    """The URL of a new, empty database of its own."""
    postgres.start()  # an earlier test may have stopped the server and failed before it started it again
    return postgres.new_database(fresh_name(request, "_"))


@pytest.fixture
def s3_feed_url(seaweed, request):
    """The feed place in a new, empty bucket of its own: ``s3://BUCKET/feeds``."""
    seaweed.start()  # as for postgres_url
    return f"{seaweed.new_bucket(fresh_name(request, '-'))}/feeds"


@pytest.fixture
def s3_env(seaweed):
    """The environment variables that point the S3 clients of a subprocess at the session's SeaweedFS."""
    return seaweed.client_environment()
