"""A deep archive of the Buitenland section, built page by page on request: for the backfill.

usage: python -m testsites.archive OUTDIR --listing-pages N [--rows R] [--spacing-minutes M] [--new K]

An ``Archive`` is N listing pages of R stories each, newest first, and the article page of every
story, in the sample site's markup (``testsites.sample``'s templates): news-list rows with an
advertisement row, the pager (``?page=N``), Net binnen on every page, "Meer uit Buitenland" on
every article (the seven newest stories). A story is made from its number alone, so nothing is
kept per page: ``serve`` answers each request by building its page, and an archive of 20,000
articles costs neither memory nor disk. (``main`` writes one out as a saved site for
``python -m wirecrawler serve``, for a look at it.)

Story ``s`` (0 the newest) was published ``s`` spacings before the newest; the site's clock
(its HTTP ``Date``) stands one spacing after the newest. With ``new=K`` the same archive is shown
K spacings later: K newer stories (numbers -1 to -K) on top of page 1, every older one K rows
further down, as the live listing shifts when news arrives.

Standard library only, and no import of ``wirecrawler``: what a crawl of the archive must publish
(``expected_keys``, ``expected_label``) is worked out here, independently of the crawler.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import cached_property
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from testsites import sample as sitegen

AMS = ZoneInfo("Europe/Amsterdam")
ROWS_PER_PAGE = 10
AD_ROW_AFTER = 4  # an advertisement row after the fourth story, as on the sample site
MORE_NEWS = 7
NET_BINNEN_STORIES = 5  # our newest stories in Net binnen, when younger than NET_BINNEN_HOURS
NET_BINNEN_HOURS = 20
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
NOT_FOUND = b"<html><body>Niet gevonden</body></html>"

ACTORS = [
    "De regering van {c}", "Het parlement van {c}", "De president van {c}", "De oppositie in {c}",
    "De centrale bank van {c}", "Het leger van {c}", "De premier van {c}", "Vakbonden in {c}",
    "Boeren in {c}", "Studenten in {c}", "De politie in {c}", "Rechters in {c}",
    "Artsen in {c}", "Milieugroepen in {c}", "De minister van Financiën van {c}",
]  # fmt: skip
ACTIONS = [
    "kondigt maatregelen aan tegen", "protesteert tegen", "stemt in met een plan voor",
    "waarschuwt voor", "onderzoekt", "trekt extra geld uit voor", "schort de gesprekken op over",
    "wil duidelijkheid over", "presenteert een voorstel over", "sluit een akkoord over",
    "eist opheldering over", "zet een streep door",
]  # fmt: skip
TOPICS = [
    "de droogte", "de energieprijzen", "het pensioen", "de grensbewaking", "de staalimport",
    "de kieswet", "een kerncentrale", "de visserijquota", "de inflatie", "het medicijntekort",
    "de spoorstaking", "de luchtvervuiling", "de verkiezingsuitslag", "de wapenleveranties",
    "de graanexport", "de bosbranden", "de staatsschuld", "de mijnbouw", "de opvang", "de overstromingen",
]  # fmt: skip
COUNTRIES = [
    ("Chili", ["SANTIAGO"]), ("Kenia", ["NAIROBI"]), ("Polen", ["WARSCHAU"]), ("Japan", ["TOKIO"]),
    ("Canada", ["OTTAWA"]), ("Brazilië", ["BRASILIA"]), ("Oekraïne", ["KYIV"]), ("Egypte", ["CAÏRO"]),
    ("Zweden", ["STOCKHOLM"]), ("Portugal", ["LISSABON"]), ("India", ["NEW DELHI"]), ("Mexico", ["MEXICO-STAD"]),
    ("Ghana", ["ACCRA"]), ("Vietnam", ["HANOI"]), ("Turkije", ["ANKARA"]), ("Peru", ["LIMA"]),
    ("Noorwegen", ["OSLO"]), ("Marokko", ["RABAT"]), ("Australië", ["CANBERRA"]), ("Indonesië", ["JAKARTA"]),
    ("Hongarije", ["BOEDAPEST"]), ("Colombia", ["BOGOTÁ"]), ("Nigeria", ["ABUJA"]), ("Ierland", ["DUBLIN"]),
    ("Zwitserland", ["GENÈVE"]),
]  # fmt: skip
AGENCIES = [["ANP"], ["ANP", "AFP"], ["ANP", "RTR"], ["ANP", "DPA"], ["ANP", "AFP", "RTR"], ["AFP"], ["ANP", "DPA"], []]
SENTENCES = [
    "Volgens waarnemers is de stap een reactie op de onrust van de afgelopen weken.",
    'Een woordvoerder sprak van "constructieve gesprekken", maar wilde niet ingaan op details.',
    "Critici noemen het plan te weinig en te laat.",
    "Eerdere pogingen om tot een oplossing te komen liepen op niets uit.",
    "De kwestie ligt al jaren gevoelig in het land.",
    "Buurlanden volgen de ontwikkelingen op de voet.",
    "Hulporganisaties waarschuwen dat de gevolgen voor de armste inwoners groot zijn.",
    "Het parlement debatteert volgende week over de kwestie.",
]
OTHER_SECTIONS = [
    ("Zeeland", "Nieuwe fietsbrug over het kanaal in Middelburg"),
    ("Sport", "Zeeuwse roeiers winnen brons bij wereldbeker"),
    ("Financieel", "Beurs in Amsterdam opent hoger"),
]
# Headlines are combinations of the lists above, one per story number: a bijection on their
# product (STRIDE and the product are coprime), so every story of an archive has its own.
COMBINATIONS = len(ACTORS) * len(ACTIONS) * len(TOPICS) * len(COUNTRIES)
STRIDE = 7919


def age_label(minutes: int) -> str:
    """The site's label for an age in minutes, rounded down, in Dutch."""
    for unit, one, many in ((525600, "jaar", "jaar"), (43200, "maand", "maanden"), (10080, "week", "weken"),
                            (1440, "dag", "dagen"), (60, "uur", "uur"), (1, "minuut", "minuten")):  # fmt: skip
        if minutes >= unit:
            n = minutes // unit
            return f"{n} {one if n == 1 else many} geleden"
    return "30 seconden geleden"


@dataclass(frozen=True)
class Story:
    number: int  # 0 the newest of the archive as first made; -1, -2 ... the ones that came after
    headline: str
    slug: str
    places: list[str]
    agencies: list[str]
    body: list[str]  # paragraphs, the first one the teaser (the dateline is added on the page)
    published: datetime  # UTC

    @property
    def id(self) -> str:
        """The story's id as the feed contract defines it (docs/CONTRACT.md), worked out here."""
        return sitegen.story_id(self.headline)

    def as_sample(self, label: str | None) -> dict:
        """The story in ``testsites.sample``'s form, for its row and page templates."""
        return dict(headline=self.headline, slug=self.slug, places=self.places, agencies=self.agencies,
                    label=label, body=self.body)  # fmt: skip


def make_story(number: int, newest: datetime, spacing: timedelta) -> Story:
    index = (number * STRIDE) % COMBINATIONS
    index, country = divmod(index, len(COUNTRIES))
    index, topic = divmod(index, len(TOPICS))
    actor, action = divmod(index, len(ACTIONS))
    name, places = COUNTRIES[country]
    headline = f"{ACTORS[actor].format(c=name)} {ACTIONS[action]} {TOPICS[topic]}"
    agencies = AGENCIES[number % len(AGENCIES)]
    lead = f"{headline}, zo werd bekend. {SENTENCES[number % len(SENTENCES)]}"
    body = [lead] + [
        " ".join(SENTENCES[(number + step + k) % len(SENTENCES)] for k in range(3)) for step in range(1 + number % 3)
    ]
    return Story(number, headline, sitegen.slugify(headline), places, agencies, body, newest - number * spacing)


@dataclass
class Archive:
    listing_pages: int  # of the archive as first made (new=0); new stories add rows on top
    rows: int = ROWS_PER_PAGE
    spacing: timedelta = timedelta(hours=2)  # between one story and the next older one
    new: int = 0  # stories published since the archive was first made (the site's clock moved on as much)
    first_ref: datetime = sitegen.REF_UTC  # the site's clock when the archive was first made

    def __post_init__(self) -> None:
        if self.listing_pages * self.rows + self.new > COMBINATIONS:
            raise ValueError(f"at most {COMBINATIONS} stories")

    @property
    def ref(self) -> datetime:
        """The site's clock: its HTTP ``Date``. One spacing after the newest story."""
        return self.first_ref + self.new * self.spacing

    @property
    def date_header(self) -> str:
        return format_datetime(self.ref.astimezone(timezone.utc), usegmt=True)

    @property
    def newest(self) -> datetime:
        """When story 0 was published."""
        return self.first_ref - self.spacing

    @property
    def count(self) -> int:
        return self.listing_pages * self.rows + self.new

    @property
    def last_page(self) -> int:
        return math.ceil(self.count / self.rows)

    def story(self, number: int) -> Story:
        return make_story(number, self.newest, self.spacing)

    def numbers(self) -> range:
        """Every story's number, newest first: -new ... -1, 0, 1 ..."""
        return range(-self.new, self.count - self.new)

    def on_page(self, page: int) -> list[int]:
        """The story numbers a listing page shows, newest first."""
        first = (page - 1) * self.rows - self.new
        return [n for n in range(first, first + self.rows) if n < self.count - self.new]

    def page_of(self, number: int) -> int:
        return (number + self.new) // self.rows + 1

    def age_minutes(self, story: Story) -> int:
        return int((self.ref - story.published).total_seconds() // 60)

    def label(self, story: Story) -> str:
        return age_label(self.age_minutes(story))

    @cached_property
    def _by_slug(self) -> dict[str, int]:
        return {self.story(number).slug: number for number in self.numbers()}

    def clock_label(self, story: Story) -> str | None:
        """The story's Net binnen time ("H:MM", Amsterdam), when Net binnen shows it."""
        if story.number >= -self.new + NET_BINNEN_STORIES or self.age_minutes(story) >= NET_BINNEN_HOURS * 60:
            return None
        local = story.published.astimezone(AMS)
        return f"{local.hour}:{local.minute:02d}"

    def expected_label(self, number: int) -> tuple[str, str]:
        """(label, precision) a record of the story must carry after a crawl of the archive as it
        is now: its Net binnen time when shown (minute), else its listing label."""
        story = self.story(number)
        if clock := self.clock_label(story):
            return clock, "minute"
        unit = self.label(story).split()[1]
        precision = {"jaar": "year", "maand": "month", "maanden": "month", "week": "week", "weken": "week",
                     "dag": "day", "dagen": "day", "uur": "hour", "minuut": "minute", "minuten": "minute"}  # fmt: skip
        return self.label(story), precision.get(unit, "second")

    def expected_keys(self, numbers: range | list[int] | None = None) -> set[tuple[str, str]]:
        """(kind, id) of every record a crawl of these stories (default: all) publishes: a brief
        and a lead each."""
        numbers = self.numbers() if numbers is None else numbers
        return {(kind, self.story(number).id) for number in numbers for kind in ("brief", "lead")}

    # --- pages

    @cached_property
    def _net_binnen(self) -> str:
        """Net binnen: our newest stories (the young ones) and three of other sections, newest first."""
        rows = []
        for number in range(-self.new, -self.new + NET_BINNEN_STORIES):
            story = self.story(number)
            if self.clock_label(story):
                rows.append((story.published, "Buitenland", story.slug, story.headline))
        for position, (section, title) in enumerate(OTHER_SECTIONS):
            rows.append((self.ref - timedelta(minutes=7 + 97 * position), section, sitegen.slugify(title), title))
        lines = []
        for published, section, slug, title in sorted(rows, reverse=True):
            local = published.astimezone(AMS)
            lines.append(
                f'        <li><a href="/nieuws/{slug}"><span class="net-binnen__cat">{section}</span> '
                f'<span class="net-binnen__time">{local.hour}:{local.minute:02d}</span> '
                f'<span class="net-binnen__title">{escape(title)}</span></a></li>'
            )
        return "\n".join(lines)

    def _row(self, number: int) -> str:
        story = self.story(number)
        return sitegen.news_row(story.as_sample(self.label(story)), self.label(story))

    def listing_html(self, page: int) -> str | None:
        if not 1 <= page <= self.last_page:
            return None
        rows = [self._row(number) for number in self.on_page(page)]
        rows.insert(min(AD_ROW_AFTER, len(rows)), sitegen.ad_row())
        main = sitegen.LISTING_MAIN.format(rows="\n".join(rows), pager=sitegen.pager_html(page, self.last_page))
        return sitegen.PAGE.format(title="Buitenland", head="", main=main, net_binnen=self._net_binnen)

    @cached_property
    def _more_news(self) -> list[int]:
        return list(range(-self.new, -self.new + MORE_NEWS + 1))

    def article_html(self, slug: str) -> str | None:
        number = self._by_slug.get(slug)
        if number is None:
            return None
        story = self.story(number)
        more = [n for n in self._more_news if n != number][:MORE_NEWS]
        main = sitegen.ARTICLE_MAIN.format(
            section="Buitenland", section_path="buitenland", headline=escape(story.headline), figure="",
            body=sitegen.body_html(story.as_sample(None)), rows="\n".join(self._row(n) for n in more),
        )  # fmt: skip
        head = sitegen.ARTICLE_HEAD.format(headline=escape(story.headline), host=sitegen.HOST, slug=story.slug)
        return sitegen.PAGE.format(title=escape(story.headline), head=head, main=main, net_binnen=self._net_binnen)

    def respond(self, target: str) -> tuple[int, bytes, str]:
        """(status, body, content type) for a request target such as ``/nieuws/buitenland?page=3``."""
        url = urlsplit(target)
        if url.path == "/robots.txt":
            return 200, ROBOTS_TXT, "text/plain"
        html = None
        if url.path == "/nieuws/buitenland":
            page = parse_qs(url.query).get("page", ["1"])[0]
            html = self.listing_html(int(page)) if page.isdigit() else None
        elif url.path.startswith("/nieuws/"):
            html = self.article_html(url.path[len("/nieuws/") :])
        if html is None:
            return 404, NOT_FOUND, "text/html; charset=utf-8"
        return 200, html.encode("utf-8"), "text/html; charset=utf-8"

    def files(self) -> dict[str, str]:
        """The archive as a saved site (``python -m wirecrawler serve``): relative path -> content."""
        files = {"REF": self.date_header + "\n"}
        for page in range(1, self.last_page + 1):
            name = "buitenland.html" if page == 1 else f"buitenland@page={page}.html"
            files[f"nieuws/{name}"] = self.listing_html(page)
        for number in self.numbers():
            slug = self.story(number).slug
            files[f"nieuws/{slug}.html"] = self.article_html(slug)
        return files


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        server: ArchiveServer = self.server  # type: ignore[assignment]
        archive = server.archive
        status, body, content_type = archive.respond(self.path)
        if server.delay and status == 200 and self.path != "/robots.txt":
            time.sleep(server.delay)
        with server.lock:
            server.requests[self.path] += 1
        self.send_response_only(status)
        self.send_header("Date", archive.date_header)
        self.send_header("Server", "nginx")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's signature)
        pass


class ArchiveServer(ThreadingHTTPServer):
    """Serves ``archive`` (replace it to change the site under a crawl), counts the requests,
    and can be slowed down (``delay``)."""

    daemon_threads = True

    def __init__(self, archive: Archive, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.archive = archive
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()  # request target -> how many times asked
        self.delay = 0.0  # seconds every page takes: a slower site, for a crawl that lasts

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def article_requests(self) -> Counter[str]:
        with self.lock:
            return Counter({t: n for t, n in self.requests.items() if t.startswith("/nieuws/") and "buitenland" not in t})


@contextmanager
def serve(archive: Archive, port: int = 0):
    """Serves *archive* on 127.0.0.1 from a thread of this process; yields the ``ArchiveServer``."""
    server = ArchiveServer(archive, port)
    thread = threading.Thread(target=server.serve_forever, name="archive-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--listing-pages", type=int, required=True)
    parser.add_argument("--rows", type=int, default=ROWS_PER_PAGE)
    parser.add_argument("--spacing-minutes", type=float, default=120)
    parser.add_argument("--new", type=int, default=0)
    args = parser.parse_args(argv)
    archive = Archive(args.listing_pages, args.rows, timedelta(minutes=args.spacing_minutes), args.new)
    for rel, content in archive.files().items():
        (args.outdir / rel).parent.mkdir(parents=True, exist_ok=True)
        (args.outdir / rel).write_text(content, encoding="utf-8")
    print(f"{args.outdir}: {archive.last_page} listing pages, {archive.count} articles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
