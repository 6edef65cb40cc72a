"""The render middleware (``wirecrawler.render.addon.RenderMiddleware``) as Scrapy builds it."""

from __future__ import annotations

from scrapy import Request
from scrapy.utils.test import get_crawler

from wirecrawler.portal import selectors
from wirecrawler.render.addon import RenderMiddleware
from wirecrawler.spiders.buitenland import PAGE_KIND, RELEASE_URL


def test_only_listing_and_article_requests_go_through_the_browser_waiting_for_their_content():
    middleware = RenderMiddleware.from_crawler(get_crawler(settings_dict={"WIRECRAWLER_RENDER": True}))
    waits = {}
    for kind in ("listing", "article"):
        request = Request("http://127.0.0.1/nieuws/x", meta={PAGE_KIND: kind})
        middleware.process_request(request)
        assert request.meta["playwright"] is True
        [wait] = request.meta["playwright_page_methods"]
        waits[kind] = wait.args
    assert waits == {"listing": (selectors.LISTING_ROWS,), "article": (selectors.ARTICLE_PARAGRAPHS,)}
    for request in (
        Request(RELEASE_URL, meta={PAGE_KIND: "release"}),
        Request("http://127.0.0.1/robots.txt"),
    ):
        middleware.process_request(request)
        assert "playwright" not in request.meta
