"""The crawl benchmark's baseline: a bare Scrapy spider that fetches what ``buitenland`` fetches.

It follows the same listing pager and the same article links, in the same order, and extracts
nothing else: no page objects, no story book, no items, no seen store, no feeds. Run it with
``scrapy runspider bench/barespider.py`` from the project root with the same ``-s``/``-a``
options as the real spider, so both share the project's settings (politeness, retries,
middlewares) except the parts that are the project's own work.

``-a max_pages=N`` limits the listing pages as in the real spider; ``-a articles=no`` fetches
listing pages only (the no-change rerun's baseline).

``-a floor=yes`` adds the least that any spider reading these pages into the feeds of the contract (docs/CONTRACT.md)
must do: parse every article page into a document (libxml2, as the project does) and yield
two items for it, a lead and a brief, which go through Scrapy's item path (into a feed when
one is given with ``-s FEEDS=...``). It reads no field: a lower bound, not a competitor.
"""

from __future__ import annotations

import scrapy
from lxml import etree

LISTING_ROW_LINKS = "main > ul.news-list > li.news-list__item a.news-list__link::attr(href)"
NEXT_PAGE = "nav.pager a.pager__next[rel=next]::attr(href)"
PARSER = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)


class BareSpider(scrapy.Spider):
    name = "bare"
    # The project's own components are the cost under measurement: none of them run here.
    custom_settings = {"ITEM_PIPELINES": {}, "EXTENSIONS": {}, "FEEDS": {}}

    def __init__(self, start_url: str, max_pages: str = "10", articles: str = "yes", floor: str = "no", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.start_url = start_url
        self.max_pages = int(max_pages)
        self.follow_articles = articles == "yes"
        self.floor = floor == "yes"

    async def start(self):
        yield scrapy.Request(self.start_url, callback=self.parse_listing, meta={"page_number": 1})

    def parse_listing(self, response):
        if self.follow_articles:
            for href in response.css(LISTING_ROW_LINKS).getall():
                yield response.follow(href, callback=self.parse_article)
        number = response.meta["page_number"]
        next_href = response.css(NEXT_PAGE).get()
        if next_href and number < self.max_pages:
            yield response.follow(next_href, callback=self.parse_listing, meta={"page_number": number + 1})

    def parse_article(self, response):
        if self.floor:
            etree.fromstring(response.body, PARSER)
            return [{"kind": kind, "url": response.url} for kind in ("lead", "brief")]
        return None
