"""The parse benchmark's baseline: the fields ``wirecrawler.portal.pages.parse_page`` reads, by hand.

Plain lxml and XPath written for this markup (exact class names, no CSS translation, no
wrapper objects), producing the same values as the project: the same text cleaning
(whitespace runs collapsed, ``ƫ`` repaired, text nodes joined with nothing between them, a line break read as a space) and the same
absolute URLs. ``parse_bench`` checks, page by page, that both give equal results before it
times them, so the comparison is of equal work.
"""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin

from lxml import etree

PARSER = etree.HTMLParser(encoding="utf-8")  # parsel parses the UTF-8 bytes the same way

LISTING_ROWS = etree.XPath('//main/ul[@class="news-list"]/li[@class="news-list__item"]')
MORE_NEWS_ROWS = etree.XPath('//section[@class="more-news"]//ul[@class="news-list"]/li[@class="news-list__item"]')
ROW_LINK = etree.XPath('.//a[@class="news-list__link"]')
ROW_TEXT = etree.XPath('.//p[@class="news-list__text"]//text()', smart_strings=False)
ROW_TIME = etree.XPath('.//span[@class="news-list__time"]//text()', smart_strings=False)
NEXT_PAGE = etree.XPath('//nav[@class="pager"]//a[@class="pager__next"][@rel="next"]/@href', smart_strings=False)
NET_BINNEN_ROWS = etree.XPath('//section[@class="net-binnen"]//li/a')
NET_BINNEN_SECTION = etree.XPath('.//span[@class="net-binnen__cat"]//text()', smart_strings=False)
NET_BINNEN_TIME = etree.XPath('.//span[@class="net-binnen__time"]//text()', smart_strings=False)
NET_BINNEN_TITLE = etree.XPath('.//span[@class="net-binnen__title"]//text()', smart_strings=False)
ARTICLE = etree.XPath('//article[@class="article"]')
HEADLINE = etree.XPath('//h1[@class="article__title"]//text()', smart_strings=False)
PARAGRAPHS = etree.XPath('//div[@class="article__body"]/p[not(@class="article__related")]')
PARAGRAPH_TEXT = etree.XPath(".//text()[not(ancestor::script) and not(ancestor::style)] | .//br", smart_strings=False)
BREADCRUMB = etree.XPath('//nav[@class="breadcrumb"]//a//text()', smart_strings=False)


def clean(texts) -> str:
    joined = "".join(t if isinstance(t, str) else " " for t in texts)
    return " ".join(joined.split()).replace("\u01ab", "ë")


def absolute(base: str, href: str) -> str:
    return urldefrag(urljoin(base, href.strip())).url


def rows(root, query, url: str) -> list[tuple]:
    found = []
    for row in query(root):
        links = ROW_LINK(row)
        href = links[0].get("href") if links else None
        headline = clean([links[0].get("title") or ""]) if links else ""
        if href and headline:
            found.append((headline, absolute(url, href), clean(ROW_TEXT(row)), clean(ROW_TIME(row)) or None))
    return found


def extract(html: str, url: str) -> dict:
    """What the crawl reads from a page, as plain values (the shape of ``parse_bench.fields``)."""
    root = etree.fromstring(html.encode("utf-8"), PARSER)
    clock = []
    for link in NET_BINNEN_ROWS(root):
        href = link.get("href")
        section, headline, label = clean(NET_BINNEN_SECTION(link)), clean(NET_BINNEN_TITLE(link)), clean(NET_BINNEN_TIME(link))
        if href and headline and label:
            clock.append((section, headline, absolute(url, href), label))
    if not ARTICLE(root):
        next_href = NEXT_PAGE(root)
        return {"kind": "listing", "clock": clock, "rows": rows(root, LISTING_ROWS, url),
                "next": absolute(url, next_href[0]) if next_href else None}
    headline = clean(HEADLINE(root))
    paragraphs = [text for p in PARAGRAPHS(root) if (text := clean(PARAGRAPH_TEXT(p)))]
    crumbs = [c for c in (clean([t]) for t in BREADCRUMB(root)) if c]
    return {"kind": "article", "clock": clock, "rows": rows(root, MORE_NEWS_ROWS, url),
            "headline": headline, "paragraphs": paragraphs, "section": crumbs[-1] if crumbs else None}
