"""Benchmark 5, the HTML engine (issue #16): the page reading on Lexbor (selectolax) beside lxml.

usage: python -m bench.engine_bench [WORKDIR] [--repeats N]

``lexbor_parse`` reads the same page parts as ``wirecrawler.portal.pages.parse_page`` (rows,
Net binnen, "Meer uit", headline, body paragraphs, section, next page, canonical checks of the
links), with the CSS selectors of ``wirecrawler.portal.selectors`` run by Lexbor. What CSS
cannot say is done in code: parsel's ``::text`` and ``::attr()`` pseudo-elements, and the
paragraph text of ``PARAGRAPH_TEXT_XPATH`` (text outside script/style, a ``<br>`` as a space).
What comes after the tree is the project's own pure code (``clean_text``, ``strip_markup``,
``absolute``/``link_fault`` through ``pages._rows``, ``dateline_doubt``), so the comparison
isolates the engine.

Measured: CPU µs per page of both on a sample of the big site's pages (interleaved repeats,
as ``parse_bench``), the bare tree building of both, and the pages on which the two give
different ``Page`` objects, over the big site, the sample site and the
bad-input corpus (``tests/corpus``: its pages served inside the sample site, its broken
listing pages, and every corpus file read on its own). Beside them, a probe that is not part
of the issue's bar: big-site pages broken in 16 ways (``MUTATIONS``), to show where HTML5 tree
building and libxml2's differ. Results: ``bench/results/engine.json``; bench/README.md, "Fourth
round", reads them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import selectolax
from lxml import etree
from selectolax.lexbor import LexborHTMLParser, LexborNode

from bench import bigsite
from bench.harness import save, say, spread
from bench.parse_bench import BASE, compare, load_site, timed
from wirecrawler.portal import pages, selectors
from wirecrawler.portal.decoding import decode_html
from wirecrawler.portal.text import clean_text, strip_markup
from wirecrawler.portal.urls import absolute
from wirecrawler.portal.wire import dateline_doubt

# --- The reader on Lexbor -------------------------------------------------------------------

TEXT = "-text"  # selectolax's tag of a text node
BY_PAGE = True  # listing rows' parts read with one query per part for the page (_listing_rows_by_page)


def _pseudo(css: str) -> tuple[str, str | None, str | None]:
    """A parsel selector as (CSS for Lexbor, pseudo-element, attribute): ``"a::attr(href)"`` is
    ("a", "attr", "href"); ``"p ::text"`` is ("p", "deep-text", None) (the text of every node
    below a match, parsel's ``descendant-or-self::text()``); ``"p::text"`` is ("p", "text", None)
    (a match's own text children)."""
    if css.endswith("::text"):
        base = css[: -len("::text")]
        return (base.rstrip(), "deep-text", None) if base.endswith(" ") else (base, "text", None)
    if "::attr(" in css:
        base, _, rest = css.partition("::attr(")
        return base, "attr", rest.rstrip(")")
    return css, None, None


_SPLIT = {name: _pseudo(getattr(selectors, name)) for name in dir(selectors) if name.isupper() and name != "PARAGRAPH_TEXT_XPATH"}


def _css(name: str) -> str:
    return _SPLIT[name][0]


def _texts_below(node: LexborNode, css: str) -> list[str]:
    """The text nodes of every match of *css* (the node itself included) and of all below it,
    once each, in document order (XPath's node-set): parsel's ``"css ::text"``."""
    matches = node.css(css)
    if len(matches) == 1:  # text() joins the text nodes below, comments left out
        return [matches[0].text(deep=True)]
    seen, texts = set(), []
    for match in matches:  # nested matches: the outer one holds the inner's text already
        for n in match.traverse(include_text=True):
            if n.tag == TEXT and n.mem_id not in seen:
                seen.add(n.mem_id)
                texts.append(n.text_content)
    return texts


def _joined(node: LexborNode, name: str) -> str:
    return clean_text("".join(_texts_below(node, _css(name))))


def _first_attr(node: LexborNode, name: str) -> str | None:
    css, _, attribute = _SPLIT[name]
    for match in node.css(css):
        value = match.attributes.get(attribute, False)
        if value is not False:
            return value or ""  # a bare attribute (<a href>) is "" in lxml, None in selectolax
    return None


def _first_own_text(node: LexborNode, name: str) -> str | None:
    for match in node.css(_css(name)):
        for child in match.iter(include_text=True):
            if child.tag == TEXT:
                return child.text_content
    return None


def _paragraph_text(node: LexborNode) -> str:
    """PARAGRAPH_TEXT_XPATH in code: text not inside script or style, a <br> as a space."""
    if node.css_first("br, script, style") is None:  # as a rule: code in text is dropped already
        return clean_text(node.text(deep=True))
    parts = []

    def walk(element: LexborNode) -> None:
        for child in element.iter(include_text=True):
            tag = child.tag
            if tag == TEXT:
                parts.append(child.text_content)
            elif tag == "br":
                parts.append(" ")
            elif tag not in ("script", "style", "_comment"):
                walk(child)

    walk(node)
    return clean_text("".join(parts))


def _row_parts(node: LexborNode) -> tuple:
    title = clean_text(_first_attr(node, "ROW_HEADLINE") or "")
    headline = clean_text(strip_markup(title))
    label = _joined(node, "ROW_TIME") or None
    return _first_attr(node, "ROW_HREF"), title, headline, label, _joined(node, "ROW_TEXT")


def _clock_row_parts(node: LexborNode) -> tuple:
    href = node.attributes.get("href", False)
    href = None if href is False else href or ""
    return href, _joined(node, "NET_BINNEN_SECTION"), _joined(node, "NET_BINNEN_TITLE"), _joined(node, "NET_BINNEN_TIME")


class _RecurringRows:
    """``pages._RecurringRows`` on Lexbor: one part's rows read once per distinct markup."""

    def __init__(self, part: str, row: str, whole: str, read_row, size: int = 32):
        self.part, self.row, self.whole, self.read_row, self.size = _css(part), _css(row), _css(whole), read_row, size
        self.found: dict[str, tuple] = {}

    def __call__(self, tree: LexborHTMLParser) -> tuple | list:
        parts = tree.css(self.part)
        if len(parts) > 1:
            return [self.read_row(row) for row in tree.css(self.whole)]
        if not parts:
            return ()
        part = parts[0]
        markup = part.html
        found = self.found.get(markup)
        if found is None:
            own = part.mem_id  # "part row" finds rows below the part, never the part itself
            found = self.found[markup] = tuple(self.read_row(r) for r in part.css(self.row) if r.mem_id != own)
            if len(self.found) > self.size:
                del self.found[next(iter(self.found))]
        return found


def _owner(node: LexborNode, rows: dict[int, int], stop: int | None = None) -> int | None:
    """The number of the row *node* lies in (its nearest ancestor among *rows*, by mem_id)."""
    node = node.parent
    while node is not None:
        number = rows.get(node.mem_id)
        if number is not None:
            return number
        node = node.parent
    return None


def _listing_rows_by_page(tree: LexborHTMLParser) -> list[tuple]:
    """``_row_parts`` of every listing row with one query per part for the whole page
    (``"<rows> <part>"``) instead of one per row and part: Lexbor compiles a selector anew
    for each ``css()`` call (some 3-5 µs), which was most of a listing page's cost. Rows
    nested in rows, or parts nested in parts, are read row by row as before."""
    rows_css = _css("LISTING_ROWS")
    rows = tree.css(rows_css)
    if not rows:
        return []
    number_of = {row.mem_id: number for number, row in enumerate(rows)}
    if any(_owner(row, number_of) is not None for row in rows):  # a row inside a row
        return [_row_parts(row) for row in rows]
    n = len(rows)
    hrefs: list = [None] * n
    titles: list = [None] * n
    for link in tree.css(f"{rows_css} {_css('ROW_HREF')}"):
        number = _owner(link, number_of)
        attrs = link.attributes
        if hrefs[number] is None and "href" in attrs:
            hrefs[number] = attrs["href"] or ""
        if titles[number] is None and "title" in attrs:
            titles[number] = attrs["title"] or ""
    texts: dict[str, list] = {}
    for name in ("ROW_TIME", "ROW_TEXT"):
        parts: list = [[] for _ in range(n)]
        matches = tree.css(f"{rows_css} {_css(name)}")
        own = {m.mem_id for m in matches}
        for match in matches:
            # a match inside another match of the same row: its text is the outer one's too
            node, number = match.parent, None
            while node is not None:
                if node.mem_id in own:
                    return [_row_parts(row) for row in rows]
                number = number_of.get(node.mem_id)
                if number is not None:
                    break
                node = node.parent
            parts[number].append(match.text(deep=True))
        texts[name] = parts
    found = []
    for number in range(n):
        title = clean_text(titles[number] or "")
        label = clean_text("".join(texts["ROW_TIME"][number])) or None
        found.append((hrefs[number], title, clean_text(strip_markup(title)), label, clean_text("".join(texts["ROW_TEXT"][number]))))
    return found


_more_news_rows = _RecurringRows("MORE_NEWS", "MORE_NEWS_ROW", "MORE_NEWS_ROWS", _row_parts)
_net_binnen_rows = _RecurringRows("NET_BINNEN", "NET_BINNEN_ROW", "NET_BINNEN_ROWS", _clock_row_parts)
_CODE = ", ".join(pages._CODE_ELEMENTS)


def _drop_code_in_text(tree: LexborHTMLParser) -> int:
    code = []
    for node in tree.css(_CODE):
        parent = node.parent
        while parent is not None:
            if parent.tag in pages._TEXT_ELEMENTS:
                code.append(node)
                break
            parent = parent.parent
    for node in code:
        node.decompose()
    return len(code)


def _section(tree: LexborHTMLParser) -> str | None:
    crumbs = [c for t in _texts_below(tree.root, _css("BREADCRUMB_LINKS")) if (c := clean_text(t))]
    if crumbs:
        return crumbs[-1]
    title = clean_text(_first_own_text(tree.root, "MORE_NEWS_TITLE") or "")
    return title.removeprefix("Meer uit ").strip() or None


def extract(html: str) -> tuple:
    """What Lexbor finds in a page, before any of the project's own steps (the engine's work):
    (code elements dropped, Net binnen parts, rendering blob, article?, section, headline,
    paragraphs, row parts, next page's href)."""
    tree = LexborHTMLParser(html)
    if tree.root is None:
        tree = LexborHTMLParser("<html></html>")
    code = _drop_code_in_text(tree)
    clock = _net_binnen_rows(tree)
    blob = tree.css_first(_css("BROWSER_RENDERING_DATA")) is not None
    if tree.css_first(_css("ARTICLE")) is not None:
        headline = clean_text("".join(_texts_below(tree.root, _css("ARTICLE_HEADLINE"))))
        paragraphs = [text for node in tree.css(_css("ARTICLE_PARAGRAPHS")) if (text := _paragraph_text(node))]
        return code, clock, blob, True, _section(tree), headline, paragraphs, _more_news_rows(tree), None
    rows = _listing_rows_by_page(tree) if BY_PAGE else [_row_parts(n) for n in tree.css(_css("LISTING_ROWS"))]
    return code, clock, blob, False, None, None, None, rows, _first_attr(tree.root, "NEXT_PAGE")


def assemble(found: tuple, url: str) -> pages.Page:
    """The page from what the engine found: the project's own steps after the tree, as
    ``pages._parse`` takes them (``clean_text`` of the texts is done in ``extract``, as in pages)."""
    code, clock_parts, blob, is_article, section, headline, paragraphs, row_parts, next_href = found
    page = pages.Page(url=url)
    if code:
        page.irregular.append(f"{code} script or style elements inside text ignored")
    clock = []
    for href, section_name, title, label in clock_parts:
        if href and title and label:
            clock.append(pages.ClockRow(section_name, title, absolute(url, href), label))
        else:
            page.problems.append(f"Net binnen row {title or href!r} is incomplete")
    page.clock_rows = clock
    page.built_in_browser = blob
    if is_article:
        page.kind = "article"
        page.section = section
        page.article = _article(headline, paragraphs, page)
    page.rows = pages._rows(row_parts, page)
    if not is_article:
        page.next_page = absolute(url, next_href) if next_href else None
    return page


def _article(headline: str, paragraphs: list[str], page: pages.Page) -> pages.Article | None:
    if not headline:
        page.problems.append("article has no headline")
    if not paragraphs:
        page.problems.append("article has no body text")
    if not headline or not paragraphs:
        return None
    if reason := pages._undecodable(headline):
        page.problems.append(f"article {reason}")
        return None
    if doubt := dateline_doubt(paragraphs[0]):
        page.irregular.append(f"article's first paragraph {doubt}")
    return pages.Article(headline, page.url, paragraphs)


def lexbor_parse(html: str, url: str) -> pages.Page:
    """``pages.parse_page`` with Lexbor building the tree and running the selectors."""
    if not pages._HTML_END.search(html[-pages._HTML_END_WINDOW :]):
        return pages.Page(url=url, fault="truncated: the page ends before its closing </html>")
    return assemble(extract(html), url)


def lexbor_read(body: bytes, url: str, content_type: str | None = None) -> pages.Page:
    """``pages.read_page`` on Lexbor: the same decoding, then ``lexbor_parse``."""
    decoded = decode_html(body, content_type)
    if decoded.text is None:
        return pages.Page(url=url, fault=decoded.fault)
    page = lexbor_parse(decoded.text, url)
    page.irregular[:0] = decoded.repairs
    return page


# --- The comparison ---------------------------------------------------------------------------

FIELDS = ("kind", "rows", "clock_rows", "next_page", "article", "section", "problems", "irregular", "fault", "built_in_browser")


def differences(a: pages.Page, b: pages.Page) -> dict:
    return {f: (getattr(a, f), getattr(b, f)) for f in FIELDS if getattr(a, f) != getattr(b, f)}


def _site_url(path: Path, site: Path) -> str:
    name = path.relative_to(site).with_suffix("").as_posix()
    if "@" in name:
        name, _, query = name.partition("@")
        name += "?" + query
    return f"{BASE}/{name}"


def corpus_pages(work: Path) -> list[tuple[str, str, bytes, str | None]]:
    """(where, url, body, content type) of every page the difference count covers beside the big site."""
    from tests.corpus import CORPUS, LISTING_PATH, build_site, entries
    from tests.crawling import SAMPLE_SITE

    found = []
    site = work / "corpus-site"
    if not site.exists():
        build_site(site)
    types = {e.path: e.content_type for e in entries("article")}
    for path in sorted(site.rglob("*.html")):
        url = _site_url(path, site)
        found.append(("corpus site", url, path.read_bytes(), types.get(url.removeprefix(BASE))))
    for entry in entries("listing"):
        found.append(("corpus listing", f"{BASE}{LISTING_PATH}?page=2", entry.content(), entry.content_type))
    for path in sorted(CORPUS.rglob("*.html")):  # each corpus file on its own, rows included
        found.append(("corpus file", f"{BASE}/nieuws/{path.stem}", path.read_bytes(), None))
    if Path(SAMPLE_SITE).resolve() != site:
        for path in sorted(Path(SAMPLE_SITE).rglob("*.html")):
            found.append(("sample site", _site_url(path, Path(SAMPLE_SITE)), path.read_bytes(), None))
    return found


def _short(value, limit: int = 300) -> str:
    if dataclasses.is_dataclass(value):
        value = dataclasses.asdict(value)
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def count_differences(work: Path, listings, articles) -> dict:
    checked, differing, examples, by_where, by_field = 0, 0, [], {}, {}
    big = [("big site", url, html.encode(), None) for url, html in listings]
    big += [("big site", url, html.encode(), None) for _, url, html in articles]
    for where, url, body, content_type in big + corpus_pages(work):
        checked += 1
        by_where.setdefault(where, [0, 0])[0] += 1
        diff = differences(pages.read_page(body, url, content_type), lexbor_read(body, url, content_type))
        if diff:
            differing += 1
            by_where[where][1] += 1
            for name in diff:
                by_field[name] = by_field.get(name, 0) + 1
            if len(examples) < 40:
                examples.append({"where": where, "url": url, "bytes": len(body),
                                 "fields": {k: {"lxml": _short(a), "lexbor": _short(b)} for k, (a, b) in diff.items()}})  # fmt: skip
    return {"pages": checked, "pages_differing": differing, "by_source": {k: {"pages": v[0], "differing": v[1]} for k, v in by_where.items()},
            "by_field": by_field, "examples": examples}  # fmt: skip


# Broken markup the generated pages do not have: each mutation applied to some big-site pages.
# Not part of the corpus (the parse benchmark has no mutated pages): a probe of where
# HTML5 tree building (Lexbor) and libxml2's differ, reported beside the corpus count.
def _first_body_p(html: str, new: str) -> str:
    return html.replace('<div class="article__body">\n          <p>', '<div class="article__body">\n          <p>' + new, 1)


MUTATIONS = {
    "no </p> anywhere": lambda h: h.replace("</p>", ""),
    "no </li> anywhere": lambda h: h.replace("</li>", ""),
    "stray </div></span> in the body": lambda h: h.replace('<div class="article__body">', '<div class="article__body"></span></div>', 1),
    "misnested <b><i>..</b></i> in text": lambda h: _first_body_p(h, "<b><i>Let op:</b> nieuw</i> ").replace(
        '<p class="news-list__text">', '<p class="news-list__text"><b><i>Let op:</b> nieuw</i> ', 1),
    "<a> inside <a> in a paragraph": lambda h: _first_body_p(h, '<a href="/nieuws/x">Lees <a href="/nieuws/y">ook</a> dit</a> '),
    "<table> inside a paragraph": lambda h: _first_body_p(h, "Tabel: <table><tr><td>cel</td></tr></table> na de tabel. "),
    "<p> inside the <h1>": lambda h: h.replace('<h1 class="article__title">', '<h1 class="article__title"><p>Kop:</p> ', 1),
    "<div> inside a paragraph": lambda h: _first_body_p(h, "Voor <div>blok</div> na. "),
    "entities without ;, C1 and NUL refs": lambda h: _first_body_p(h, "AT&T &copy 2026 &notit; &euro &#x80; &#150; &#0; &#xD800; ").replace(
        '<span class="news-list__time">', '<span class="news-list__time">&amp ', 1),
    "&name= in an href": lambda h: re.sub(r'(class="news-list__link" href="[^"?]+)"', r'\1?a=1&copy=2&amp;b=3"', h, count=3),
    '"</p>" inside a script in a paragraph': lambda h: _first_body_p(h, 'a<script>var s = "</p><p>x";</script> b '),
    "unclosed comment at the end of the body": lambda h: h.replace("</footer>", "</footer><!-- niet gesloten", 1),
    "duplicate attribute on the row link": lambda h: h.replace(
        '<a class="news-list__link" href=', '<a class="news-list__link" href="/nieuws/eerste" href=', 1
    ),
    "no doctype, capitalised class names": lambda h: re.sub(r"^<!doctype html>", "", h, flags=re.I)
    .replace('class="news-list__link"', 'class="News-list__link"', 1)
    .replace('class="article__title"', 'class="Article__title"', 1),
    "CR line ends and tabs in attributes": lambda h: h.replace("\n", "\r\n").replace(' title="', ' title="\t', 2),
    "<select>/<option> inside a paragraph": lambda h: _first_body_p(h, "Kies <select><option>een</option><p>weg</p></select> verder. "),
}


def mutated(listings, articles, per_mutation: int = 30) -> dict:
    """Pages read differently by the two readers, per mutation, with the first difference."""
    chosen = [(u, h) for u, h in listings[:per_mutation // 3]] + [(u, h) for _, u, h in articles[: per_mutation - per_mutation // 3]]
    found = {}
    for name, mutate in MUTATIONS.items():
        changed = differing = 0
        example = None
        for url, html in chosen:
            broken = mutate(html)
            if broken == html:
                continue
            changed += 1
            diff = differences(pages.parse_page(broken, url), lexbor_parse(broken, url))
            if diff:
                differing += 1
                if example is None:
                    example = {"url": url, "fields": {k: {"lxml": _short(a, 400), "lexbor": _short(b, 400)} for k, (a, b) in diff.items()}}
        found[name] = {"pages": changed, "differing": differing, "example": example}
    return found


def run(workdir: Path, repeats: int = 9, sample_articles: int = 400, sample_listings: int = 100) -> dict:
    site = workdir / "site"
    if not (site / "truth.json").exists():
        bigsite.generate(site, 210)
    _, listings, articles = load_site(site)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    result = {"selectolax": selectolax.__version__, "lxml": ".".join(map(str, etree.LXML_VERSION)),
              "libxml2": ".".join(map(str, etree.LIBXML_VERSION))}  # fmt: skip
    result["differences"] = count_differences(workdir, listings, articles)
    d = result["differences"]
    say(f"engine: {d['pages_differing']} of {d['pages']} pages read differently ({d['by_source']})")

    result["mutated"] = mutated(listings, articles)
    say("engine: mutated pages read differently: " + ", ".join(f"{k} {v['differing']}/{v['pages']}" for k, v in result["mutated"].items()))

    samples = {"listing": listings[:sample_listings], "article": [(u, h) for _, u, h in articles[:sample_articles]]}
    for kind, sample in samples.items():
        result[f"{kind}_lexbor_vs_lxml"] = compare(
            "lxml", lambda p: pages.parse_page(p[1], p[0]), "lexbor", lambda p: lexbor_parse(p[1], p[0]), sample, repeats
        )
        result[f"{kind}_tree_only"] = compare(
            "lxml", lambda p: pages._document(p[1]), "lexbor", lambda p: LexborHTMLParser(p[1]), sample, repeats
        )
        # The project's own steps after the tree (URLs, link checks, rows' bookkeeping), the
        # same on both engines: the least a page costs whatever the engine, so the bound on the ratio.
        found = [(extract(html), url) for url, html in sample]
        shared = spread([t * 1e6 for t in timed(lambda p: assemble(*p), found, repeats)], 1)
        result[f"{kind}_shared_steps_us_per_page"] = shared
        c = result[f"{kind}_lexbor_vs_lxml"]
        c["ratio_bound_with_a_free_engine"] = round(c["lxml_us_per_page"]["median"] / shared["median"], 2)
        say(f"engine: {kind} pages, lxml {c['lxml_us_per_page']['median']} µs, lexbor {c['lexbor_us_per_page']['median']} µs,"
            f" speed-up (lxml/lexbor) {c['ratio']['median']}")  # fmt: skip
    result["load_average"] = {"start": load_at_start, "end": [round(x, 2) for x in os.getloadavg()]}
    result["goal"] = "lxml/lexbor time ratio >= 2 on listing and article pages, and 0 pages read differently"
    result["goal_met"] = d["pages_differing"] == 0 and all(
        result[f"{k}_lexbor_vs_lxml"]["ratio"]["median"] >= 2 for k in ("listing", "article")
    )
    save("engine", result)
    return result


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", nargs="?", type=Path, help="keep the generated sites here (default: temporary)")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wirecrawler-bench-") as tmp:
        out = run(args.workdir or Path(tmp), repeats=args.repeats)
        print(json.dumps(out, indent=2, ensure_ascii=False))
    sys.exit(0)
