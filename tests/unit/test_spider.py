"""The buitenland spider built on its own, as plain Python: its arguments and its callbacks."""

from __future__ import annotations

import pytest

from wirecrawler.spiders.buitenland import BuitenlandSpider


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start_url": "ftp://example.org/"}, "start_url must be an http"),
        ({"max_pages": "0"}, "max_pages must be a positive number"),
        ({"max_age_hours": "soon"}, "max_age_hours must be a positive number"),
    ],
)
def test_spider_refuses_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        BuitenlandSpider(**arguments)


def test_the_spiders_generator_callbacks_are_one_object_each():
    """Scrapy parses a generator callback's source before each call unless that callback
    object is still alive from the last one (bench/README.md, the crawl's fixes)."""
    spider = BuitenlandSpider(start_url="http://127.0.0.1:8080/nieuws/buitenland")
    assert spider.parse_listing is spider.parse_listing
    assert spider.emit_stories is spider.emit_stories
