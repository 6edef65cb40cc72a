"""Page objects on broken input (issue #6): decoding, whole-page faults, broken rows and articles.

Pure unit tests of ``wirecrawler.portal.pages`` (and the ``wire`` helpers it uses): every fault is
either a ``fault`` (the page is unreadable), a ``problem`` (a part left out) or an
``irregular`` note (a part read anyway, repaired or kept as text), each with its reason.
"""

from __future__ import annotations

import codecs

import pytest
from lxml import etree
from parsel import Selector

from wirecrawler.portal import selectors
from wirecrawler.portal.decoding import decode_html
from wirecrawler.portal.pages import (
    _ByMarkup,
    _clock_row_parts,
    _document,
    _more_news_rows,
    _net_binnen_rows,
    _query,
    _RecurringRows,
    _row_parts,
    parse_page,
    read_page,
)
from wirecrawler.portal.text import strip_markup
from wirecrawler.portal.urls import site_of
from wirecrawler.portal.wire import dateline_doubt, parse_dateline

URL = "http://127.0.0.1:8000/nieuws/buitenland"
ARTICLE_URL = "http://127.0.0.1:8000/nieuws/een-verhaal"


def listing(*rows: str) -> str:
    return f'<html><body><main><ul class="news-list">{"".join(rows)}</ul></main></body></html>'


def row(href: str, title: str = "Een kop", teaser: str = "PARIJS (ANP) - Tekst.", label: str = "1 uur geleden") -> str:
    return (
        f'<li class="news-list__item"><a class="news-list__link" href="{href}" title="{title}">'
        f'<p class="news-list__text">{teaser}</p><span class="news-list__time">{label}</span></a></li>'
    )


def article(headline: str = "Een kop", *paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs or ["PARIJS (ANP) - Tekst."])
    return (
        '<html><body><nav class="breadcrumb"><a href="/nieuws/buitenland">Buitenland</a></nav>'
        f'<article class="article"><h1 class="article__title">{headline}</h1>'
        f'<div class="article__body">{body}</div></article></body></html>'
    )


def more_news(*rows: str, inside: str = "") -> str:
    """A "Meer uit" list, with *inside* after its rows."""
    return (
        '<section class="more-news"><h2 class="more-news__title">Meer uit Buitenland</h2>'
        f'<ul class="news-list">{"".join(rows)}</ul>{inside}</section>'
    )


def clock_row(href: str, headline: str = "Een kop", time: str = "9:41") -> str:
    return (
        f'<li><a href="{href}"><span class="net-binnen__cat">Buitenland</span> '
        f'<span class="net-binnen__time">{time}</span> <span class="net-binnen__title">{headline}</span></a></li>'
    )


def net_binnen(*rows: str, inside: str = "") -> str:
    return f'<section class="net-binnen"><ul>{"".join(rows)}</ul>{inside}</section>'


def with_parts(*parts: str) -> str:
    """An article page with *parts* at the end of its body."""
    return article().replace("</body>", f"{''.join(parts)}</body>")


def parsed_with_parts(*parts: str) -> etree._Element:
    return _document(with_parts(*parts))


# --- Decoding: the bytes of a response to text.


@pytest.mark.parametrize(("body", "fault"), [(b"", "empty page (0 bytes)"), (b" \r\n\t", "empty page (4 bytes)")])
def test_an_empty_body_is_no_page(body, fault):
    assert decode_html(body, "text/html; charset=utf-8").fault == fault
    assert read_page(body, ARTICLE_URL).fault == fault


def test_binary_data_is_no_page_whatever_its_content_type_says():
    decoded = decode_html(b"<html>\x00\x01\x02\xff</html>", "text/html; charset=utf-8")
    assert decoded.text is None and decoded.fault.startswith("binary data")


def test_utf8_declared_as_utf8_is_read_without_a_note():
    html = "<p>Genève</p>"
    for content_type in ("text/html; charset=utf-8", "text/html; charset=UTF-8", 'text/html; charset="utf8"'):
        assert decode_html(html.encode(), content_type) == decode_html(html.encode(), "text/html; charset=utf-8")
    assert decode_html(html.encode(), "text/html; charset=utf-8").text == html
    assert decode_html(html.encode(), "text/html; charset=utf-8").repairs == ()


@pytest.mark.parametrize(
    ("content_type", "markup"),
    [("text/html; charset=iso-8859-1", ""), ("text/html", '<meta charset="windows-1252">')],
)
def test_utf8_bytes_under_a_wrong_charset_are_read_as_utf8_and_said(content_type, markup):
    decoded = decode_html(f"{markup}<p>Genève, Malmö, “quotes”</p>".encode(), content_type)
    assert "Genève, Malmö, “quotes”" in decoded.text
    assert decoded.repairs == ("declares charset cp1252, but the bytes are UTF-8; read as UTF-8",)


def test_a_missing_charset_is_said_only_when_it_matters():
    assert decode_html(b"<p>plain ascii</p>", "text/html").repairs == ()
    assert decode_html("<p>Genève</p>".encode(), None).repairs == ("declares no charset; read as UTF-8",)


def test_windows_1252_bytes_in_a_utf8_page_are_read_as_windows_1252():
    body = "<p>Caïro: “café”</p>".encode("cp1252")
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert decoded.text == "<p>Caïro: “café”</p>"
    assert decoded.repairs == ("4 bytes are not UTF-8; read as Windows-1252",)


def test_only_the_bytes_that_are_not_utf8_are_read_as_windows_1252():
    body = "<p>Genève</p>".encode() + "<p>“café”</p>".encode("cp1252")
    assert decode_html(body, "text/html; charset=utf-8").text == "<p>Genève</p><p>“café”</p>"


def test_a_legacy_charset_declared_right_is_read_in_it_without_a_note():
    decoded = decode_html("<p>Malmö: “café”</p>".encode("cp1252"), "text/html; charset=windows-1252")
    assert (decoded.text, decoded.repairs) == ("<p>Malmö: “café”</p>", ())


def test_bytes_no_charset_can_read_become_replacement_characters():
    assert decode_html(b"<p>a\x81b</p>", "text/html; charset=utf-8").text == "<p>a\ufffdb</p>"


def test_a_byte_order_mark_and_control_characters_are_dropped():
    decoded = decode_html(codecs.BOM_UTF8 + b"<p>a\x07b\x1bc\td</p>", None)
    assert decoded.text == "<p>abc\td</p>"
    assert decoded.repairs == ("2 control characters removed",)


# --- Whole pages.


@pytest.mark.parametrize("cut", ["<html><body><p>De rege", '<html><body><p cla', "<html><head><tit", article()[:-8]])
def test_a_page_that_ends_before_its_closing_html_tag_is_truncated_and_shows_nothing(cut):
    page = parse_page(cut, ARTICLE_URL)
    assert page.fault == "truncated: the page ends before its closing </html>"
    assert (page.article, page.rows, page.clock_rows, page.problems) == (None, [], [], [])


def test_a_comment_after_the_closing_html_tag_is_no_truncation():
    assert parse_page(article() + "\n<!-- 0.12 s -->\n", ARTICLE_URL).fault is None


def test_an_article_nested_past_the_parsers_depth_limit_reads_as_no_article():
    """libxml2 stops reading deeper than about 2 000 elements: the page's content is lost,
    which the crawl reports as a page that shows no article, not as a crash."""
    html = article().replace('<article class="article">', "<div>" * 3000 + '<article class="article">')
    page = parse_page(html, ARTICLE_URL)
    assert page.kind == "listing" and page.article is None


# --- The tree a page is read into: the one parsel builds (which the selectors are written for).


@pytest.mark.parametrize(
    "html",
    [
        article(),
        " \r\n" + article() + "\n\n",
        "\u00a0<p>a</p>" + article() + "\u3000",  # Unicode whitespace around the page
        article("Een\x00kop"),
        '<HTML><BODY><MAIN CLASS="x"><P>Hoofdletters</P></MAIN></BODY></HTML>',
        "</html>",
        "<!-- niets --></html>",
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>a</p></body></html>',
        '<?xml version="1.0"?><HTML><BODY><P>a<P>b</BODY></HTML>',  # parsel reads it as XML: case kept, p in p
    ],
)
def test_a_page_is_read_into_the_tree_parsel_builds(html):
    assert etree.tostring(_document(html)) == etree.tostring(Selector(text=html).root)


@pytest.mark.parametrize(
    "body",
    [
        article().encode(),
        b" \r\n" + article().encode() + b"\n",
        "\u00a0<p>a</p>".encode() + article().encode() + "\u2003".encode(),
        codecs.BOM_UTF8 + article().encode(),
    ],
)
def test_a_body_read_as_utf8_is_parsed_from_its_bytes_into_the_tree_its_text_gives(body):
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert decoded.utf8 is not None
    assert etree.tostring(_document(decoded.text, decoded.utf8)) == etree.tostring(Selector(text=decoded.text).root)


def test_only_a_body_that_is_its_texts_utf8_is_kept_for_parsing():
    assert decode_html(b"<p>a</p>", None).utf8 == b"<p>a</p>"
    assert decode_html(codecs.BOM_UTF8 + b"<p>a</p>", None).utf8 == b"<p>a</p>"
    assert decode_html(b"<p>a\x07b</p>", None).utf8 is None  # a control character removed
    assert decode_html("<p>café</p>".encode("cp1252"), None).utf8 is None  # read as Windows-1252
    assert decode_html("<p>café</p>".encode("cp1252"), "text/html; charset=windows-1252").utf8 is None


# --- Scripts and markup where text belongs.


def test_scripts_and_styles_inside_text_are_dropped_and_said():
    html = article(
        'Een kop<script>document.write(" GEHACKT")</script>',
        "PARIJS (ANP) - Tekst<script>alert(1)</script> en meer.",
        "Tweede<style>p{}</style> alinea.<noscript> Zet JavaScript aan.</noscript>",
    )
    page = parse_page(html, ARTICLE_URL)
    assert page.article.headline == "Een kop"
    assert page.article.paragraphs == ["PARIJS (ANP) - Tekst en meer.", "Tweede alinea."]
    assert page.irregular == ["4 script or style elements inside text ignored"]


def test_code_dropped_from_text_leaves_its_tail_after_what_came_before_it():
    html = article(
        "Een kop",
        "a<b>b</b><script>x</script>c",  # after an element
        "d<!-- c --><style>y</style>e",  # after a comment
        "<script>z</script>f<noscript>n<script>w</script>m</noscript>g",  # first in its parent; nested code
    )
    page = parse_page(html, ARTICLE_URL)
    assert page.article.paragraphs == ["abc", "de", "fg"]
    assert page.irregular == ["5 script or style elements inside text ignored"]


def test_scripts_outside_text_are_left_alone_and_not_reported():
    html = article().replace(
        "<body>", '<body><script>var x = 1;</script><div class="ad-slot"><script>ads()</script></div>'
    )
    assert parse_page(html, ARTICLE_URL).irregular == []


def test_markup_in_a_row_headline_is_removed_and_said():
    title = "Een &lt;script&gt;alert(1)&lt;/script&gt;kop &lt;b&gt;vet&lt;/b&gt;"
    page = parse_page(listing(row("/nieuws/a", title)), URL)
    assert page.rows[0].headline == "Een kop vet"
    assert page.irregular == ["row 1 headline holds markup, removed: 'Een <script>alert(1)</script>kop <b>vet</b>'"]


def test_strip_markup_removes_tags_comments_and_code_but_not_lone_angle_brackets():
    assert strip_markup("a <b>b</b> <!-- c --> <style>x{}</style>d < 3 > 2") == "a b  d < 3 > 2"
    assert strip_markup("open <script>never closed") == "open "


# --- Rows that are no story of the site.


@pytest.mark.parametrize(
    ("href", "reason"),
    [
        ("https://example.org/nieuws/x", "links off the site: https://example.org/nieuws/x"),
        ("//example.org/nieuws/x", "links off the site: http://example.org/nieuws/x"),
        ("http://10.0.0.7/nieuws/x", "links off the site: http://10.0.0.7/nieuws/x"),
        ("http://127.0.0.1:9/nieuws/x", "links off the site: http://127.0.0.1:9/nieuws/x"),
        ("http://127.0.0.1/nieuws/x", "links off the site: http://127.0.0.1/nieuws/x"),
        ("http://localhost:8000/nieuws/x", "links off the site: http://localhost:8000/nieuws/x"),
        ("http://127.0.0.1:99999/nieuws/x", "links off the site: http://127.0.0.1:99999/nieuws/x"),
        ("file:///etc/passwd", "links to a non-web address: file:///etc/passwd"),
        ("javascript:alert(1)", "links to a non-web address: javascript:alert(1)"),
        ("data:text/html,<p>x</p>", "links to a non-web address: data:text/html,<p>x</p>"),
        ("#", "links to the page itself"),
        ("", "has no link"),
    ],
)
def test_a_row_linking_off_the_site_is_left_out_with_its_reason(href, reason):
    page = parse_page(listing(row("/nieuws/good"), row(href)), URL)
    assert [r.url for r in page.rows] == ["http://127.0.0.1:8000/nieuws/good"]
    assert page.problems == [f"row 2 {reason}"]


def test_the_same_host_over_https_or_on_its_default_port_is_the_same_site():
    assert site_of("http://www.zeelandnet.nl/nieuws/x") == site_of("https://www.zeelandnet.nl:443/nieuws/y")
    assert site_of("http://www.zeelandnet.nl/") != site_of("http://www.zeelandnet.nl:8080/")
    page = parse_page(listing(row("https://WWW.zeelandnet.nl/nieuws/a")), "http://www.zeelandnet.nl/nieuws/buitenland")
    assert (len(page.rows), page.problems) == (1, [])


def test_links_in_a_saved_file_are_not_judged():
    page = parse_page(listing(row("/nieuws/a"), row("https://www.zeelandnet.nl/nieuws/b")), "file:///tmp/page.html")
    assert [r.url for r in page.rows] == ["file:///nieuws/a", "https://www.zeelandnet.nl/nieuws/b"]
    assert page.problems == []


def test_a_repeated_row_is_read_once_and_said():
    page = parse_page(listing(row("/nieuws/a", "A"), row("/nieuws/b", "B"), row("/nieuws/a#top", "A")), URL)
    assert [r.headline for r in page.rows] == ["A", "B"]
    assert page.irregular == ["row 3 repeats row 1 (http://127.0.0.1:8000/nieuws/a); read once"]


def test_a_row_headline_with_undecodable_characters_is_left_out():
    page = parse_page(listing(row("/nieuws/a", "Kop \ufffd\ufffd")), URL)
    assert page.rows == []
    assert page.problems == ["row 1 headline holds undecodable characters: 'Kop \ufffd\ufffd'"]


# --- Articles.


def test_an_article_headline_with_undecodable_characters_gives_no_lead():
    body = article("Kop BYTE").encode("utf-8").replace(b"BYTE", b"\x81")  # no charset has a character for it
    page = read_page(body, ARTICLE_URL, "text/html; charset=utf-8")
    assert page.article is None
    assert page.problems == ["article headline holds undecodable characters: 'Kop \ufffd'"]
    assert page.irregular == ["1 bytes are not UTF-8; read as Windows-1252"]


def test_an_article_whose_opening_looks_like_a_dateline_is_kept_whole_and_said():
    page = parse_page(article("Kop", "PARIJS (ANP) – De president zegt iets."), ARTICLE_URL)
    assert page.article.paragraphs == ["PARIJS (ANP) – De president zegt iets."]
    [note] = page.irregular
    assert note == f"article's first paragraph {dateline_doubt('PARIJS (ANP) – De')}"
    assert "(a '–' where the dateline has ' - ')" in note


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PARIJS (ANP) – De", "a '–' where the dateline has ' - '"),
        ("PARIJS (ANP)- De", "no space on both sides of its hyphen"),
        ("PARIJS (ANP) -De", "no space on both sides of its hyphen"),
        ("(ANP) - De", "no place before the agencies"),
        ("A/B/C/D (ANP) - De", "4 places, more than 3"),
        ("PARIJS (ANP/AFP/RTR/DPA/AP) - De", "5 agencies, more than 4"),
        ("parijs (anp) - De", "'parijs' is not an upper-case place name"),
        ("PARIJS (Anp) - De", "'Anp' is not an upper-case agency code"),
    ],
)
def test_dateline_look_alikes_say_why_they_are_no_dateline(text, reason):
    assert dateline_doubt(text) == f"opens like a dateline but is not one ({reason}); kept as text"


@pytest.mark.parametrize(
    "text",
    [
        "PARIJS (ANP) - De president",  # a dateline
        "TERNEUZEN - Een brand",  # a regional dateline
        "Noord-Korea heeft - zegt de legerleiding - opnieuw",  # a hyphen in running text
        "Het kabinet (VVD) - zegt de premier",  # a party in brackets, not an agency
        "1-0 - Ajax wint",  # no letters before the hyphen
        "Een gewone zin zonder streepje.",
    ],
)
def test_text_that_is_a_dateline_or_does_not_look_like_one_raises_no_doubt(text):
    assert dateline_doubt(text) is None


LONG_PLACE = "TAUMATAWHAKATANGIHANGAKOAUAUOTAMATEATURIPUKAKAPIKIMAUNGAHORONUKUPOKAIWHENUAKITANATAHU"


def test_an_article_dateline_with_a_place_name_of_any_length_is_read_as_one():
    assert len(LONG_PLACE) > 60
    text = f"{LONG_PLACE} (ANP) - De heuvel met de langste naam trekt toeristen."
    page = parse_page(article("Een lange plaatsnaam", text, "Tweede alinea."), ARTICLE_URL)
    assert page.article.paragraphs == [text, "Tweede alinea."]
    assert (page.problems, page.irregular) == ([], [])  # no "opens like a dateline but is not one"
    dateline = parse_dateline(page.article.paragraphs[0])
    assert (dateline.places, dateline.agencies) == ([LONG_PLACE], ["ANP"])
    assert dateline.text == "De heuvel met de langste naam trekt toeristen."


def test_inline_markup_adds_no_space_and_a_line_break_is_one():
    html = article(
        "Kop met <em>nadruk</em>: en meer",
        "PARIJS (ANP) - Het <a href='/x'>dossier</a>. <strong>Vet</strong>, en<br>een nieuwe regel.",
    )
    page = parse_page(html, URL)
    assert page.article.headline == "Kop met nadruk: en meer"
    assert page.article.paragraphs == ["PARIJS (ANP) - Het dossier. Vet, en een nieuwe regel."]


def test_inline_markup_in_a_teaser_adds_no_space():
    page = parse_page(listing(row("/nieuws/een-kop", teaser="PARIJS (ANP) - Het <em>dossier</em>.")), URL)
    assert [r.teaser for r in page.rows] == ["PARIJS (ANP) - Het dossier."]


# --- Parts that recur on page after page (Net binnen, "Meer uit") are read once for each distinct markup.


def test_parts_are_read_once_per_markup_and_the_oldest_go_first():
    reads = []

    def read(node):
        reads.append(node.get("href"))
        return (node.get("href"), node.text)

    by_markup = _ByMarkup(read, size=2)
    a, b, c = (etree.fromstring(f'<a href="/{x}">{x.upper()}</a>') for x in "abc")
    assert by_markup(a) == ("/a", "A")
    assert by_markup(etree.fromstring('<a href="/a">A</a>')) == ("/a", "A")  # another page, the same row
    assert by_markup(etree.fromstring('<a href="/a">A2</a>')) == ("/a", "A2")  # changed text: read anew
    assert reads == ["/a", "/a"]
    by_markup(b), by_markup(c)  # three distinct rows held in two places: the oldest, /a, goes
    assert by_markup(a) == ("/a", "A")
    assert reads == ["/a", "/a", "/b", "/c", "/a"]


def test_a_row_repeated_on_pages_of_two_sites_resolves_and_is_judged_per_page():
    rows = row("/nieuws/a") + row("http://127.0.0.1:8000/nieuws/b", "B")
    more_news = f'<section class="more-news"><ul class="news-list">{rows}</ul></section>'
    html = article().replace("</body>", f"{more_news}</body>")
    here, there = parse_page(html, ARTICLE_URL), parse_page(html, "http://127.0.0.1:9000/nieuws/een-verhaal")
    assert here.kind == there.kind == "article"
    assert [r.url for r in here.rows] == ["http://127.0.0.1:8000/nieuws/a", "http://127.0.0.1:8000/nieuws/b"]
    assert [r.url for r in there.rows] == ["http://127.0.0.1:9000/nieuws/a"]
    assert (here.problems, there.problems) == ([], ["row 2 links off the site: http://127.0.0.1:8000/nieuws/b"])


def test_control_characters_are_dropped_from_a_page_read_as_windows_1252_too():
    decoded = decode_html(b"<p>\x92a\x07b</p>", None)
    assert decoded.text == "<p>\u2019ab</p>"
    assert decoded.repairs == ("1 bytes are not UTF-8; read as Windows-1252", "1 control characters removed")



def test_listing_rows_are_those_of_news_lists_right_inside_main():
    html = (
        f'<html><body><ul class="news-list">{row("/nieuws/los", "Los")}</ul>'
        f'<main><div><ul class="news-list">{row("/nieuws/diep", "Diep")}</ul></div>'
        f'<ul class="news-list">{row("/nieuws/a", "A")}</ul></main>'
        f'<main class="tweede"><ul class="news-list extra">{row("/nieuws/b", "B")}</ul></main></body></html>'
    )
    assert [r.headline for r in parse_page(html, URL).rows] == ["A", "B"]


def test_a_recurring_part_is_read_once_for_each_distinct_markup():
    reads = []

    def read_row(node):
        reads.append(node.get("href"))
        return (node.get("href"),)

    rows = _RecurringRows(selectors.NET_BINNEN, selectors.NET_BINNEN_ROW, read_row)
    html = with_parts(net_binnen(clock_row("/nieuws/a"), clock_row("/nieuws/b")))
    changed = html.replace("9:41", "9:42", 1)
    assert [rows(_document(page)) for page in (html, html, changed, html)] == [(("/nieuws/a",), ("/nieuws/b",))] * 4
    assert reads == ["/nieuws/a", "/nieuws/b", "/nieuws/a", "/nieuws/b"]


@pytest.mark.parametrize(
    "root",
    [
        parsed_with_parts(more_news(row("/nieuws/a"), row("/nieuws/b"))),
        parsed_with_parts(),  # no list
        parsed_with_parts(more_news(row("/nieuws/a")), more_news(row("/nieuws/b"))),  # two lists
        parsed_with_parts(more_news(row("/nieuws/a"), inside=more_news(row("/nieuws/b")))),  # one in the other
        parsed_with_parts(more_news(row("/nieuws/a"), inside=f'<ul class="news-list">{row("/nieuws/b")}</ul>')),
        parsed_with_parts(f'<ul class="news-list">{row("/nieuws/los")}</ul>', more_news(row("/nieuws/a"))),  # outside it
        parsed_with_parts(more_news(row("/nieuws/a")).replace('class="more-news"', 'class="more-news  wide"')),
        parsed_with_parts(more_news(row("/nieuws/a")).replace('class="more-news"', 'class="more-news-x"')),
    ],
)
def test_more_news_rows_are_the_rows_its_selector_finds_in_the_whole_page(root):
    assert list(_more_news_rows(root)) == [_row_parts(node) for node in _query(selectors.MORE_NEWS_ROWS)(root)]


@pytest.mark.parametrize(
    "root",
    [
        parsed_with_parts(net_binnen(clock_row("/nieuws/a"))),
        parsed_with_parts(net_binnen(clock_row("/nieuws/a")), net_binnen(clock_row("/nieuws/b"))),
        parsed_with_parts(net_binnen(clock_row("/nieuws/a"), inside=net_binnen(clock_row("/nieuws/b")))),
        parsed_with_parts(f"<ul>{clock_row('/nieuws/los')}</ul>", net_binnen(f"<li><ul>{clock_row('/nieuws/a')}</ul></li>")),
    ],
)
def test_net_binnen_rows_are_the_rows_its_selector_finds_in_the_whole_page(root):
    assert list(_net_binnen_rows(root)) == [_clock_row_parts(node) for node in _query(selectors.NET_BINNEN_ROWS)(root)]


def test_rows_of_two_more_news_lists_come_in_page_order_and_those_of_nested_lists_once():
    two = with_parts(more_news(row("/nieuws/a", "A")), more_news(row("/nieuws/b", "B")))
    nested = with_parts(more_news(row("/nieuws/a", "A"), inside=more_news(row("/nieuws/b", "B"))))
    assert [r.headline for r in parse_page(two, ARTICLE_URL).rows] == ["A", "B"]
    assert [r.headline for r in parse_page(nested, ARTICLE_URL).rows] == ["A", "B"]


def test_an_article_inside_the_more_news_list_still_makes_an_article_page():
    inner = (
        '<article class="article"><h1 class="article__title">Binnen</h1>'
        '<div class="article__body"><p>Tekst.</p></div></article>'
    )
    page = parse_page(f'<html><body>{more_news(row("/nieuws/a", "A"), inside=inner)}</body></html>', ARTICLE_URL)
    assert (page.kind, page.article.headline, page.section) == ("article", "Binnen", "Buitenland")
    assert [r.headline for r in page.rows] == ["A"]
