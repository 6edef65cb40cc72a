"""The bad-input corpus (issue #6): broken pages the crawler must count, log and survive.

``manifest.json`` names every page: its fault, what the crawler must log for it (level, and a
reason given with the page's URL), what it must count (stats) and what it must still publish.
``build_site`` serves the corpus inside a copy of the sample site, so that a real crawl meets
it among good pages: each article page is linked from a row appended to listing page 1, and
each broken row is appended there too. A broken listing page needs a crawl of its own
(``build_listing_site``): it is served as listing page 2.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from tests.crawling import SAMPLE_SITE
from tests.faultserver import Fault, Header

CORPUS = Path(__file__).resolve().parent
LISTING_PATH = "/nieuws/buitenland"
SERVED_AS = "text/html; charset=utf-8"  # the fault server's Content-Type unless a page names another
ROW_LABEL = "1 uur geleden"
ROW_TEASER = "Corpus: {fault}."

PAGE = """<!doctype html>
<html lang="nl">
<head>
  <meta charset="utf-8">
  <title>{headline} | ZeelandNet</title>
</head>
<body class="nieuws">
  <main class="content">
    <nav class="breadcrumb"><a href="/">Home</a> &rsaquo; <a href="/nieuws">Nieuws</a> &rsaquo; <a href="/nieuws/buitenland">Buitenland</a></nav>
    <article class="article">
      <h1 class="article__title">{headline}</h1>
      <div class="article__body">
        <p>{text}</p>
      </div>
    </article>
  </main>
</body>
</html>
"""
PLAIN_TEXT = "Een gewoon artikel achter een rij met een fout."

ROW = """        <li class="news-list__item">
          <a class="news-list__link" href="{href}" title="{headline}">
          <p class="news-list__text">{teaser}</p>
          <span class="news-list__time">{label}</span>
          </a>
        </li>
"""


@dataclass(frozen=True)
class Entry:
    name: str
    group: str  # "article", "row" or "listing"
    fault: str
    log: str  # the reason the crawler must log, on one line with the page's URL
    level: str  # the level of that line: WARNING, or ERROR for what fails the run
    stats: dict[str, int]  # what the crawler must count for it
    file: str | None = None  # under tests/corpus; None for a page written when the site is built
    generated_size: int | None = None  # bytes of such a page
    content_type: str = SERVED_AS
    headline: str | None = None  # article: its listing row's headline, and the page's own
    lead: dict | None = None  # article: the lead it must still give (fields), None for none
    briefs: list[str] = field(default_factory=list)  # row: headlines of the briefs it must give
    leads: list[str] = field(default_factory=list)  # row: headlines of the leads it must give
    plain_articles: list[dict] = field(default_factory=list)  # row: good pages its links lead to
    log_url: str = "page"  # where the line names: "page", "listing", or a path

    @property
    def path(self) -> str:
        """Where the crawl meets an article page."""
        return f"/nieuws/corpus-{self.name}"

    def logged_url(self, base_url: str) -> str:
        where = {"page": self.path, "listing": LISTING_PATH}.get(self.log_url, self.log_url)
        return base_url + where

    def content(self) -> bytes:
        if self.file is not None:
            return (CORPUS / self.file).read_bytes()
        text = "Een artikel van twintig megabyte. " * (self.generated_size // 34 + 1)
        return PAGE.format(headline=escape(self.headline), text=text).encode()


def entries(group: str | None = None) -> list[Entry]:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    every = [Entry(**entry) for entry in manifest["entries"]]
    return [entry for entry in every if group in (None, entry.group)]


def _content_type_faults(path: str, content_type: str) -> dict[str, list[Fault]]:
    if content_type == SERVED_AS:
        return {}
    return {path: [Header(name="Content-Type", value=content_type, times=None)]}


def build_site(into: Path) -> dict[str, list[Fault]]:
    """The sample site with the corpus's article pages and rows; returns the faults its server
    must play (the Content-Type of pages served as something else)."""
    shutil.copytree(SAMPLE_SITE, into)
    pages = into / "nieuws"
    rows, faults = [], {}
    for entry in entries("article"):
        (pages / f"{entry.path.rsplit('/', 1)[1]}.html").write_bytes(entry.content())
        teaser = escape(ROW_TEASER.format(fault=entry.fault))
        rows.append(ROW.format(href=entry.path, headline=escape(entry.headline), teaser=teaser, label=ROW_LABEL))
        faults |= _content_type_faults(entry.path, entry.content_type)
    for entry in entries("row"):
        rows.append(entry.content().decode("utf-8"))
        for article in entry.plain_articles:
            page = PAGE.format(headline=escape(article["headline"]), text=PLAIN_TEXT)
            (pages / f"{article['path'].rsplit('/', 1)[1]}.html").write_text(page, encoding="utf-8")
    listing = pages / "buitenland.html"
    html = listing.read_text(encoding="utf-8")
    start = html.index('<ul class="news-list">')
    end = re.compile(r"^\s*</ul>", re.MULTILINE).search(html, start).start()
    listing.write_text(html[:end] + "".join(rows) + html[end:], encoding="utf-8")
    return faults


def build_listing_site(entry: Entry, into: Path) -> dict[str, list[Fault]]:
    """The sample site with *entry*, a broken listing page, as listing page 2."""
    shutil.copytree(SAMPLE_SITE, into)
    (into / "nieuws" / "buitenland@page=2.html").write_bytes(entry.content())
    return _content_type_faults(f"{LISTING_PATH}?page=2", entry.content_type)
