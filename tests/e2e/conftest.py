"""End-to-end fixtures: the sample site served over HTTP for ``scrapy crawl`` subprocesses."""

from __future__ import annotations

import pytest

from tests.crawling import SAMPLE_SITE
from wirecrawler.local.server import served


@pytest.fixture(scope="module")
def site_url():
    """The sample site served by ``python -m wirecrawler serve``, one server per test module."""
    with served(SAMPLE_SITE) as url:
        yield url
