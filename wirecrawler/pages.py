"""Page objects: what a listing or article page of the portal shows, as plain data.

They read HTML with parsel and the selectors module and know nothing of Scrapy, so the spider,
the ``parse`` command and the tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin

from parsel import Selector

from wirecrawler import selectors
from wirecrawler.wire import clean_text

SECTION = "Buitenland"


@dataclass(frozen=True)
class Row:
    """A story's row in a news list: the section listing or an article's "Meer uit" list."""

    headline: str | None  # None in flattened page text, which loses the row's link
    url: str | None
    teaser: str
    label: str | None


@dataclass(frozen=True)
class ClockRow:
    """A Net binnen row: a story of any section with its Amsterdam wall-clock time."""

    section: str
    headline: str
    url: str
    label: str


@dataclass(frozen=True)
class Article:
    headline: str
    url: str | None
    paragraphs: list[str]


@dataclass
class Page:
    url: str
    kind: str = "listing"  # or "article"
    rows: list[Row] = field(default_factory=list)
    clock_rows: list[ClockRow] = field(default_factory=list)
    next_page: str | None = None
    article: Article | None = None
    section: str | None = None  # the section an article page names; None when it names none
    problems: list[str] = field(default_factory=list)  # malformed parts, each said with its reason


def _absolute(base: str, href: str) -> str:
    return urldefrag(urljoin(base, href.strip())).url


def _text(node: Selector) -> str:
    return clean_text(" ".join(node.xpath(selectors.PARAGRAPH_TEXT_XPATH).getall()))


def _rows(doc: Selector, css: str, page: Page) -> list[Row]:
    rows = []
    for number, node in enumerate(doc.css(css), start=1):
        href = node.css(selectors.ROW_HREF).get()
        headline = clean_text(node.css(selectors.ROW_HEADLINE).get() or "")
        if not href or not headline:
            page.problems.append(f"row {number} has no {'link' if not href else 'headline'}")
            continue
        label = clean_text(" ".join(node.css(selectors.ROW_TIME).getall())) or None
        teaser = clean_text(" ".join(node.css(selectors.ROW_TEXT).getall()))
        rows.append(Row(headline, _absolute(page.url, href), teaser, label))
    return rows


def _clock_rows(doc: Selector, page: Page) -> list[ClockRow]:
    rows = []
    for node in doc.css(selectors.NET_BINNEN_ROWS):
        href = node.attrib.get("href")
        section = clean_text(" ".join(node.css(selectors.NET_BINNEN_SECTION).getall()))
        headline = clean_text(" ".join(node.css(selectors.NET_BINNEN_TITLE).getall()))
        label = clean_text(" ".join(node.css(selectors.NET_BINNEN_TIME).getall()))
        if href and headline and label:
            rows.append(ClockRow(section, headline, _absolute(page.url, href), label))
        else:
            page.problems.append(f"Net binnen row {headline or href!r} is incomplete")
    return rows


def _article(doc: Selector, page: Page) -> Article | None:
    headline = clean_text(" ".join(doc.css(selectors.ARTICLE_HEADLINE).getall()))
    paragraphs = [text for node in doc.css(selectors.ARTICLE_PARAGRAPHS) if (text := _text(node))]
    if not headline:
        page.problems.append("article has no headline")
    if not paragraphs:
        page.problems.append("article has no body text")
    if not headline or not paragraphs:
        return None
    return Article(headline, page.url, paragraphs)


def _article_section(doc: Selector) -> str | None:
    crumbs = [clean_text(t) for t in doc.css(selectors.BREADCRUMB_LINKS).getall() if clean_text(t)]
    if crumbs:
        return crumbs[-1]
    title = clean_text(doc.css(selectors.MORE_NEWS_TITLE).get() or "")
    return title.removeprefix("Meer uit ").strip() or None


def is_article(doc: Selector) -> bool:
    return bool(doc.css(selectors.ARTICLE))


def parse_page(html: str, url: str) -> Page:
    """Everything a page of the portal shows that the crawl uses.

    Listing pages give their rows and the next page; article pages give the article, its
    section and the rows of its "Meer uit" list. Both give their Net binnen rows.
    """
    doc = Selector(text=html)
    page = Page(url=url)
    page.clock_rows = _clock_rows(doc, page)
    if is_article(doc):
        page.kind = "article"
        page.section = _article_section(doc)
        page.article = _article(doc, page)
        page.rows = _rows(doc, selectors.MORE_NEWS_ROWS, page)
    else:
        page.rows = _rows(doc, selectors.LISTING_ROWS, page)
        next_href = doc.css(selectors.NEXT_PAGE).get()
        page.next_page = _absolute(url, next_href) if next_href else None
    return page


def belongs_to_section(page: Page) -> bool:
    """Whether an article page is ours: it names Buitenland, or names no section at all."""
    return page.section in (None, SECTION)
