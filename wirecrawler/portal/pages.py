"""Page objects: what a listing or article page of the portal shows, as plain data.

They read HTML with lxml (the way parsel reads it) and the selectors module, and know nothing
of Scrapy, so the spider, the ``parse`` command and the tests share them. Every string a page
object holds is clean text (``wirecrawler.portal.text``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator, css2xpath

from wirecrawler.portal import selectors
from wirecrawler.portal.decoding import decode_html
from wirecrawler.portal.text import clean_text, strip_markup
from wirecrawler.portal.urls import absolute, link_fault
from wirecrawler.portal.wire import dateline_doubt

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
    # Flawed parts read anyway (repaired, or kept as plain text), each said with its reason.
    irregular: list[str] = field(default_factory=list)
    fault: str | None = None  # why the whole page is unreadable (empty, binary, truncated); it then shows nothing
    built_in_browser: bool = False  # ships the data a script builds its content from (needs RENDER=1)


def _undecodable(headline: str) -> str | None:
    # A replacement character stands for bytes no charset could read: such a headline would
    # give the story a different id from the one it has when read right.
    return f"headline holds undecodable characters: {headline!r}" if "\ufffd" in headline else None


# A page the server sent whole closes its html element near the end.
_HTML_END = re.compile(r"</html\s*>", re.IGNORECASE)
_HTML_END_WINDOW = 8192
# Code inside text elements (an injected script in a headline or paragraph) is no text. Code
# elsewhere (ad slots, data blobs) is left alone: nothing reads it. These are HTML's own
# element names, not the portal's layout, so they are not in the selectors module.
_CODE_ELEMENTS = ("script", "style", "noscript", "template")
_TEXT_ELEMENTS = ("p", "a", "span", "h1", "h2", "h3")


def read_page(body: bytes, url: str, content_type: str | None = None) -> Page:
    """A page from the bytes of a response: decoded (``decode_html``), then parsed (``parse_page``)."""
    decoded = decode_html(body, content_type)
    if decoded.text is None:
        return Page(url=url, fault=decoded.fault)
    page = _parse(decoded.text, url, decoded.utf8)
    page.irregular[:0] = decoded.repairs
    return page


# The selectors are written for parsel's reading of a page, ``Selector(text=html).root``, and
# _document reads a page the same way for a fraction of the cost: parsel builds a new parser for
# every page, one whose elements are Python classes of its own. This parser has parsel's
# options and is shared (lxml locks a parser while it parses, so threads may share it too).
_PARSER = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
# parsel reads a text that opens with an XML declaration as XML, and one that is a JSON array or
# object as JSON data: texts that may be either are left to parsel itself.
_XML_OR_JSON = re.compile(r"[\s\ufeff]*<\?xml\s|[ \t\n\r]*[\[{]")


def _document(html: str, utf8: bytes | None = None) -> etree._Element:
    """The root element parsel would give for *html*; *utf8* is its UTF-8, when at hand."""
    if _XML_OR_JSON.match(html):
        return Selector(text=html).root
    root = etree.fromstring(_stripped_utf8(html, utf8), _PARSER)
    return root if root is not None else etree.fromstring(b"<html/>", _PARSER)


def _stripped_utf8(html: str, utf8: bytes | None) -> bytes:
    """What parsel parses: the text without surrounding whitespace (``str.strip``) and NUL characters, as UTF-8."""
    if utf8 is not None:
        # Bytes read as UTF-8 as they are hold no NUL or other control bytes (decode_html), so
        # stripping their ASCII whitespace strips what str.strip() strips, unless what is left
        # starts or ends with a non-ASCII character, which may be Unicode whitespace.
        stripped = utf8.strip()
        if stripped[:1] < b"\x80" and stripped[-1:] < b"\x80":
            return stripped
    return html.strip().replace("\x00", "").encode()


def _drop(node: etree._Element) -> None:
    """Remove *node* but keep its tail text, as parsel's ``Selector.drop`` does."""
    parent = node.getparent()
    if node.tail:
        previous = node.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + node.tail
        else:
            previous.tail = (previous.tail or "") + node.tail
    parent.remove(node)


def _drop_code_in_text(root: etree._Element, page: Page) -> None:
    # Walking the few code elements up to their ancestors costs a fraction of an XPath
    # predicate tried on every element of the page.
    code = [node for node in root.iter(*_CODE_ELEMENTS) if next(node.iterancestors(*_TEXT_ELEMENTS), None) is not None]
    for node in code:
        _drop(node)
    if code:
        page.irregular.append(f"{len(code)} script or style elements inside text ignored")


# Rows and paragraphs come many to a page, so their parts are read with each selector compiled
# once and run on the lxml nodes directly: wrapping every node and string in a parsel Selector
# was most of the parse time (bench/README.md, "Parse cost"). The selectors use no EXSLT
# regular expressions, which lxml would otherwise register anew for every run of a query.
@cache
def _query(query: str, xpath: bool = False) -> etree.XPath:
    return etree.XPath(query if xpath else css2xpath(query), smart_strings=False, regexp=False)


def _first(node: etree._Element, css: str) -> str | None:
    found = _query(css)(node)
    return found[0] if found else None


def _joined(node: etree._Element, css: str, xpath: bool = False) -> str:
    """The text of *node*'s matches. Text nodes join with nothing between them, so that
    "het <a>dossier</a>." stays "het dossier."; a matched element (a line break) is a space."""
    return clean_text("".join(part if isinstance(part, str) else " " for part in _query(css, xpath)(node)))


def _text(node: etree._Element) -> str:
    return _joined(node, selectors.PARAGRAPH_TEXT_XPATH, xpath=True)


class _ByMarkup:
    """What *read* finds in an element, remembered by the element's markup.

    What *read* finds must depend on the element's own subtree alone, which its markup spells
    out. The oldest entries go first once *size* are held, so a long crawl's memory stays bounded.
    """

    def __init__(self, read, size: int):
        self.read = read
        self.size = size
        self.found: dict[str, tuple] = {}

    def __call__(self, node: etree._Element) -> tuple:
        markup = etree.tostring(node, with_tail=False, encoding="unicode")  # faster than bytes
        parts = self.found.get(markup)
        if parts is None:
            parts = self.found[markup] = self.read(node)
            if len(self.found) > self.size:
                del self.found[next(iter(self.found))]
        return parts


_TRANSLATOR = HTMLTranslator()


class _RecurringRows:
    """The rows of a page part that recurs page after page (Net binnen, "Meer uit"), as what
    *read_row* finds in each, read once for each distinct part.

    On a page with one such part, the rows are what *row_css* finds below it, which its markup
    spells out: serialising the part costs a third of finding its rows and serialising each of
    them. A page with several (nested, or one after another) is read row by row, in the order
    the whole selector ``"<part_css> <row_css>"`` finds them.
    """

    def __init__(self, part_css: str, row_css: str, read_row, size: int = 32):
        self.part_query = _query(part_css)
        self.rows_query = _query(f"{part_css} {row_css}")
        # "part row" is a row below the part: from the part, a descendant, never the part itself.
        self.rows_below = etree.XPath(
            _TRANSLATOR.css_to_xpath(row_css, prefix="descendant::"), smart_strings=False, regexp=False
        )
        self.read_row = read_row
        self.by_markup = _ByMarkup(self.read_part, size)

    def read_part(self, part: etree._Element) -> tuple:
        return tuple(self.read_row(row) for row in self.rows_below(part))

    def __call__(self, root: etree._Element) -> Sequence[tuple]:
        found = self.part_query(root)
        if len(found) > 1:
            return [self.read_row(row) for row in self.rows_query(root)]
        return self.by_markup(found[0]) if found else ()


def _row_parts(node: etree._Element) -> tuple[str | None, str, str, str | None, str]:
    """A news-list row's link, title attribute (whitespace cleaned), headline (the title
    without markup), time label and teaser."""
    title = clean_text(_first(node, selectors.ROW_HEADLINE) or "")
    headline = clean_text(strip_markup(title))
    label = _joined(node, selectors.ROW_TIME) or None
    return _first(node, selectors.ROW_HREF), title, headline, label, _joined(node, selectors.ROW_TEXT)


def _clock_row_parts(node: etree._Element) -> tuple[str | None, str, str, str]:
    """A Net binnen row's link, section, headline and wall-clock label."""
    section = _joined(node, selectors.NET_BINNEN_SECTION)
    headline = _joined(node, selectors.NET_BINNEN_TITLE)
    return node.get("href"), section, headline, _joined(node, selectors.NET_BINNEN_TIME)


_more_news_rows = _RecurringRows(selectors.MORE_NEWS, selectors.MORE_NEWS_ROW, _row_parts)
_net_binnen_rows = _RecurringRows(selectors.NET_BINNEN, selectors.NET_BINNEN_ROW, _clock_row_parts)


# The section listing shows each story on one page, so its rows are read directly.
def _listing_rows(root: etree._Element) -> list[tuple]:
    return [_row_parts(node) for node in _query(selectors.LISTING_ROWS)(root)]


def _rows(found: Sequence[tuple], page: Page) -> list[Row]:
    rows = []
    numbers: dict[str, int] = {}  # link -> the row that first showed it
    for number, (href, title, headline, label, teaser) in enumerate(found, start=1):
        if not href or not headline:
            page.problems.append(f"row {number} has no {'link' if not href else 'headline'}")
            continue
        url = absolute(page.url, href)
        if reason := link_fault(page.url, url) or _undecodable(headline):
            page.problems.append(f"row {number} {reason}")
            continue
        if url in numbers:
            page.irregular.append(f"row {number} repeats row {numbers[url]} ({url}); read once")
            continue
        numbers[url] = number
        if headline != title:
            page.irregular.append(f"row {number} headline holds markup, removed: {title!r}")
        rows.append(Row(headline, url, teaser, label))
    return rows


def _clock_rows(root: etree._Element, page: Page) -> list[ClockRow]:
    rows = []
    for href, section, headline, label in _net_binnen_rows(root):
        if href and headline and label:
            rows.append(ClockRow(section, headline, absolute(page.url, href), label))
        else:
            page.problems.append(f"Net binnen row {headline or href!r} is incomplete")
    return rows


def _article(root: etree._Element, page: Page) -> Article | None:
    headline = clean_text("".join(_query(selectors.ARTICLE_HEADLINE)(root)))
    paragraphs = [text for node in _query(selectors.ARTICLE_PARAGRAPHS)(root) if (text := _text(node))]
    if not headline:
        page.problems.append("article has no headline")
    if not paragraphs:
        page.problems.append("article has no body text")
    if not headline or not paragraphs:
        return None
    if reason := _undecodable(headline):
        page.problems.append(f"article {reason}")
        return None
    if doubt := dateline_doubt(paragraphs[0]):
        page.irregular.append(f"article's first paragraph {doubt}")
    return Article(headline, page.url, paragraphs)


def _article_section(root: etree._Element) -> str | None:
    crumbs = [clean_text(t) for t in _query(selectors.BREADCRUMB_LINKS)(root) if clean_text(t)]
    if crumbs:
        return crumbs[-1]
    title = clean_text(_first(root, selectors.MORE_NEWS_TITLE) or "")
    return title.removeprefix("Meer uit ").strip() or None


def is_article(root: etree._Element) -> bool:
    return bool(_query(selectors.ARTICLE)(root))


def parse_page(html: str, url: str) -> Page:
    """Everything a page of the portal shows that the crawl uses.

    Listing pages give their rows and the next page; article pages give the article, its
    section and the rows of its "Meer uit" list. Both give their Net binnen rows.
    """
    return _parse(html, url)


def _ends_as_html(html: str) -> bool:
    """Whether ``</html>`` closes the page within its last ``_HTML_END_WINDOW`` characters."""
    # The closing tag as nearly every page writes it, sought back from the end without copying
    # the window, costs well under a microsecond; the case-blind regular expression over the
    # window (10-16 µs) decides only the pages without it.
    return html.rfind("</html>", max(len(html) - _HTML_END_WINDOW, 0)) >= 0 or bool(
        _HTML_END.search(html[-_HTML_END_WINDOW:])
    )


def _parse(html: str, url: str, utf8: bytes | None = None) -> Page:
    page = Page(url=url)
    if not _ends_as_html(html):
        page.fault = "truncated: the page ends before its closing </html>"
        return page
    root = _document(html, utf8)
    _drop_code_in_text(root, page)
    page.clock_rows = _clock_rows(root, page)
    page.built_in_browser = bool(_query(selectors.BROWSER_RENDERING_DATA)(root))
    if is_article(root):
        page.kind = "article"
        page.section = _article_section(root)
        page.article = _article(root, page)
        page.rows = _rows(_more_news_rows(root), page)
    else:
        page.rows = _rows(_listing_rows(root), page)
        next_href = _first(root, selectors.NEXT_PAGE)
        page.next_page = absolute(url, next_href) if next_href else None
    return page


def belongs_to_section(page: Page) -> bool:
    """Whether an article page is ours: it names Buitenland, or names no section at all."""
    return page.section in (None, SECTION)
