"""The JS variant of the sample site: the same stories, with the lists and bodies built in the browser.

usage: python -m testsites.js OUTDIR [--third-party ORIGIN]

A site as more and more portals serve it: the section listing's ``ul.news-list`` and the
article's ``div.article__body`` arrive empty, each followed by an inline JSON blob
(``script[type="application/json"]``) and the script that builds the element from it once
the page has loaded. The listing's rows come as records (link, headline, teaser, time) that
the script turns into the same markup as the plain site's; the body comes as the HTML a CMS
API delivers and is inserted as it stands. Everything else (Net binnen, pager, the "Meer uit"
list, the chrome) stays server-rendered and identical, so a rendered crawl of this site must
emit exactly the plain site's expected feed, which is copied unchanged.

Every page also carries what a rendering crawler must not fetch: besides the plain site's
stylesheet and figure images, a web font, a logo image and two requests to a third party
(*third_party*, an origin: a tag script and a tracking pixel).

It post-processes a site written by ``testsites.sample.generate(..., variant="base")`` (owned by
another team: not edited here) and uses the standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from html.parser import HTMLParser
from pathlib import Path

from testsites import sample as sitegen

# .invalid never resolves (RFC 2606): a crawl that failed to block it cannot reach anyone.
DEFAULT_THIRD_PARTY = "http://tags.third-party.invalid"
LOGO = "/assets/img/zeelandnet-logo.png"
FONT = "/assets/fonts/zeelandnet-sans.woff2"

# Build once the page has loaded, in a later task, as client-side renderers do: the content
# is not there yet when the browser reports the page loaded, so a crawler has to wait for it.
LISTING_SCRIPT = """<script>
window.addEventListener("load", function () {{ setTimeout(function () {{
  var data = JSON.parse(document.getElementById("news-data").textContent);
  var list = document.querySelector("main > ul.news-list");
  data.rows.forEach(function (row) {{
    var item = document.createElement("li");
    if (row.ad !== undefined) {{
      item.className = "{ad}";
      item.innerHTML = row.ad;
    }} else {{
      item.className = "{item}";
      var link = item.appendChild(document.createElement("a"));
      link.className = "{link}";
      link.setAttribute("href", row.href);
      link.setAttribute("title", row.title);
      var text = link.appendChild(document.createElement("p"));
      text.className = "{text}";
      text.textContent = row.text;
      if (row.time !== null) {{
        var time = link.appendChild(document.createElement("span"));
        time.className = "{time}";
        time.textContent = row.time;
      }}
    }}
    list.appendChild(item);
  }});
}}, 0); }});
</script>""".format(**sitegen.ROW_CLASSES)

ARTICLE_SCRIPT = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var data = JSON.parse(document.getElementById("article-data").textContent);
  document.querySelector("article div.article__body").innerHTML = data.body;
}, 0); });
</script>"""


def extras(third_party: str) -> tuple[str, str]:
    """What every page gains to be blocked: (end of head, start of body)."""
    head = (
        f'  <style>@font-face {{ font-family: "ZeelandNet Sans"; src: url("{FONT}") format("woff2"); }}'
        ' body { font-family: "ZeelandNet Sans", sans-serif; }</style>\n'
        f'  <script async src="{third_party}/gtm.js"></script>\n'
    )
    body = (
        f'  <img class="site-logo" src="{LOGO}" alt="ZeelandNet">\n'
        f'  <img class="tracking-pixel" src="{third_party}/pixel.gif" width="1" height="1" alt="">\n'
    )
    return head, body


class _ElementFinder(HTMLParser):
    """Finds the first ``<tag class="... cls ...">`` and the offsets of its inner HTML."""

    def __init__(self, tag: str, cls: str):
        super().__init__(convert_charrefs=True)
        self.tag, self.cls = tag, cls
        self.depth = 0  # open <tag> elements inside the one found
        self.inner: tuple[tuple[int, int], tuple[int, int]] | None = None
        self._start: tuple[int, int] | None = None

    def handle_starttag(self, tag, attrs):
        if tag != self.tag or self.inner is not None:
            return
        if self._start is not None:
            self.depth += 1
        elif self.cls in (dict(attrs).get("class") or "").split():
            line, column = self.getpos()
            self._start = (line, column + len(self.get_starttag_text()))

    def handle_endtag(self, tag):
        if tag != self.tag or self._start is None or self.inner is not None:
            return
        if self.depth:
            self.depth -= 1
        else:
            self.inner = (self._start, self.getpos())


def _offset(html: str, position: tuple[int, int]) -> int:
    line, column = position
    return sum(len(text) for text in html.splitlines(keepends=True)[: line - 1]) + column


def split_element(html: str, tag: str, cls: str) -> tuple[str, str, str, str]:
    """(before the inner HTML, the inner HTML, the end tag, after it) of the first tag.cls."""
    finder = _ElementFinder(tag, cls)
    finder.feed(html)
    finder.close()
    if finder.inner is None:
        raise ValueError(f"no <{tag} class={cls!r}> element in the page")
    start, end = (_offset(html, position) for position in finder.inner)
    close = html.index(">", end) + 1
    return html[:start], html[start:end], html[end:close], html[close:]


class _RowReader(HTMLParser):
    """The rows of a news list's inner HTML, as the records the listing script builds from."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.source = source
        self.rows: list[dict] = []
        self._field: str | None = None  # the row field the text being read belongs to
        self._ad_start: int | None = None  # offset of an advertisement row's inner HTML

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "li" and sitegen.ROW_CLASSES["ad"] in (attrs.get("class") or "").split():
            self._ad_start = _offset(self.source, self.getpos()) + len(self.get_starttag_text())
        elif self._ad_start is not None:
            return
        elif tag == "li":
            self.rows.append({"href": None, "title": None, "text": "", "time": None})
        elif tag == "a":
            self.rows[-1].update(href=attrs["href"], title=attrs["title"])
        elif tag == "p":
            self._field = "text"
        elif tag == "span":
            self._field, self.rows[-1]["time"] = "time", ""

    def handle_endtag(self, tag):
        if tag == "li" and self._ad_start is not None:
            self.rows.append({"ad": self.source[self._ad_start : _offset(self.source, self.getpos())]})
            self._ad_start = None
        elif tag in ("p", "span"):
            self._field = None

    def handle_data(self, data):
        if self._field is not None:
            self.rows[-1][self._field] += data


def read_rows(list_html: str) -> list[dict]:
    reader = _RowReader(list_html)
    reader.feed(list_html)
    reader.close()
    return reader.rows


def json_script(element_id: str, data: dict) -> str:
    # "</" would end the script element early; "<\/" means the same to JSON.
    blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{blob}</script>'


def listing_to_js(html: str) -> str:
    before, rows, end_tag, after = split_element(html, "ul", "news-list")
    data = json_script("news-data", {"rows": read_rows(rows)})
    return f"{before}{end_tag}\n      {data}\n      {LISTING_SCRIPT}{after}"


def article_to_js(html: str) -> str:
    before, body, end_tag, after = split_element(html, "div", "article__body")
    data = json_script("article-data", {"body": body})
    return f"{before}{end_tag}\n        {data}\n        {ARTICLE_SCRIPT}{after}"


def _insert(html: str, anchor: str, text: str, before: bool) -> str:
    if anchor not in html:
        raise ValueError(f"page has no {anchor!r} to insert its extras at")
    return html.replace(anchor, text + anchor if before else anchor + text, 1)


def page_to_js(html: str, third_party: str = DEFAULT_THIRD_PARTY) -> str:
    """The JS variant of one page of the plain site (a listing or an article page)."""
    html = article_to_js(html) if '<article class="article">' in html else listing_to_js(html)
    head, body = extras(third_party)
    html = _insert(html, "</head>", head, before=True)
    return _insert(html, '<body class="nieuws">\n', body, before=False)


def to_js(site: Path, third_party: str = DEFAULT_THIRD_PARTY) -> None:
    """Turn the plain site in *site* (as sitegen writes it) into its JS variant, in place."""
    for page in sorted(Path(site).glob("nieuws/*.html")):
        html = page.read_text(encoding="utf-8")
        page.write_text(page_to_js(html, third_party), encoding="utf-8", newline="\n")


def generate(outdir, third_party: str = DEFAULT_THIRD_PARTY) -> Path:
    """Write the JS variant of the base site into *outdir*, with the base site's expected feeds."""
    outdir = Path(outdir)
    sitegen.generate(outdir, variant="base")
    to_js(outdir, third_party)
    return outdir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--third-party", default=DEFAULT_THIRD_PARTY, help="origin of the third-party requests")
    args = parser.parse_args(argv)
    generate(args.outdir, args.third_party)
    print(f"{args.outdir}: JS variant of the base site")
    return 0


if __name__ == "__main__":
    sys.exit(main())
