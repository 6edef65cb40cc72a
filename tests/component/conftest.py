"""Component fixtures: the project's components as Scrapy builds them, with ``get_crawler``.

No crawl is started in the test process: a component is built, then called or sent signals.
"""

from __future__ import annotations

import pytest
from scrapy import signals
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor
from scrapy.utils.test import get_crawler

from wirecrawler.extensions import SeenStoreExtension
from wirecrawler.spiders.buitenland import BuitenlandSpider


@pytest.fixture(scope="session", autouse=True)
def asyncio_reactor():
    """get_crawler() wants the reactor the project runs with."""
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")


@pytest.fixture
def make_crawler(tmp_path):
    """Builds crawlers of the buitenland spider with the project's settings, its state and feeds
    in *tmp_path* (a real SQLite seen store there), and *settings* over them.

    With *spider_args* the crawler also gets its spider, built from them as a crawl builds it;
    without, ``crawler.spider`` is None, as ``get_crawler`` leaves it. Every seen store opened
    is closed, and its lock released, at the end of the test (unless a test sent
    ``engine_stopped``: the seen store extension did it then).
    """
    built, stopped = [], set()

    def make(spider_args: dict | None = None, **settings):
        crawler = get_crawler(
            BuitenlandSpider,
            {
                **get_project_settings().copy_to_dict(),
                "WIRECRAWLER_STATE_DIR": str(tmp_path / "state"),
                "WIRECRAWLER_SEEN_STORE": f"sqlite:///{tmp_path / 'seen.sqlite3'}",
                "WIRECRAWLER_FEED_DIR": str(tmp_path / "feeds"),
                **settings,
            },
        )
        built.append(crawler)
        crawler.signals.connect(lambda: stopped.add(id(crawler)), signal=signals.engine_stopped, weak=False)
        if spider_args is not None:
            crawler.spider = BuitenlandSpider.from_crawler(crawler, **spider_args)
        return crawler

    yield make
    for crawler in built:
        if id(crawler) in stopped:
            continue
        extension = crawler.get_extension(SeenStoreExtension)
        if extension is not None and extension.store is not None:
            extension.store.close()
            if extension.lock is not None:
                extension.lock.release()


@pytest.fixture
def crawler(make_crawler):
    """A crawler with the project's settings and a seen store of its own; no spider."""
    return make_crawler()
