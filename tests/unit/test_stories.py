"""The story book (``wirecrawler.news.stories``): what one crawl saw of each story, pooled until it ends."""

import gc
import tempfile
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest

from wirecrawler.items import SeenLabel, Sighting
from wirecrawler.news.stories import StoryBook
from wirecrawler.portal.pages import SECTION, Article, ClockRow, Page, Row, belongs_to_section
from wirecrawler.portal.wire import story_key

REF = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LATER = REF + timedelta(minutes=10)
LISTING = "http://127.0.0.1:8000/nieuws/buitenland"
ARTICLE_URL = "http://127.0.0.1:8000/nieuws/een-kop"


def test_a_storys_labels_are_pooled_from_every_page_and_kept_with_the_first_page_to_show_them():
    book = StoryBook()
    row = Row("Een kop", ARTICLE_URL, "PARIJS (ANP) - Tekst.", "2 uur geleden")
    ours = ClockRow("Buitenland", "Een kop", ARTICLE_URL, "8:05")
    other_section = ClockRow("Sport", "Een kop", ARTICLE_URL, "9:00")
    book.add_page(Page(url=LISTING, rows=[row], clock_rows=[ours]), REF)
    book.add_page(Page(url=f"{LISTING}?page=2", rows=[row], clock_rows=[ours]), REF)  # the same labels again
    article = Article("Een kop", ARTICLE_URL, ["PARIJS (ANP) - Tekst."])
    book.add_page(Page(url=ARTICLE_URL, kind="article", article=article, clock_rows=[ours, other_section]), LATER)

    brief, lead = sorted(book.release(), key=lambda sighting: sighting.kind)
    seen = [
        SeenLabel("2 uur geleden", False, REF, LISTING),
        SeenLabel("8:05", True, REF, LISTING),
        SeenLabel("8:05", True, LATER, ARTICLE_URL),
    ]
    assert (brief.kind, brief.source_url, lead.kind) == ("brief", LISTING, "lead")
    assert list(brief.labels) == seen and list(lead.labels) == seen
    assert len(book) == 0


# A small crawl: three listing pages of four stories each, each followed by its stories' articles.

STORIES_PER_LISTING = 4
LISTINGS = 3
STORIES = LISTINGS * STORIES_PER_LISTING


def _headline(n: int) -> str:
    return f"Bericht {n}: overstromingen in Zuid-Europa"


def _url(n: int) -> str:
    return f"http://127.0.0.1:8000/nieuws/bericht-{n}"


def _listing_url(number: int) -> str:
    return LISTING if number == 0 else f"{LISTING}?page={number + 1}"


def _row(n: int) -> Row:
    label = None if n == 3 else f"{n % 3 + 1} uur geleden"  # story 3's rows show no time
    return Row(_headline(n), _url(n), f"PARIJS (ANP) - Korte tekst {n} over het weer in Europa.", label)


def _net_binnen(n: int) -> list[ClockRow]:
    """The Net binnen box: the same rows page after page, of our section and of another."""
    return [
        ClockRow(SECTION, _headline(0), _url(0), "8:05"),
        ClockRow("Sport", _headline(1), _url(1), "9:00"),
        ClockRow(SECTION, _headline(n), _url(n), f"9:{n:02}"),
    ]


def _article_page(n: int) -> Page:
    # Its "Meer uit" rows link to stories of the next listing page, seen here first.
    on_next_listing = [m for m in (n + STORIES_PER_LISTING, n + STORIES_PER_LISTING + 1) if m < STORIES]
    paragraphs = [f"PARIJS (ANP) - Bericht {n}: het water stijgt.", f"Tweede alinea van bericht {n}, met ë en —."]
    return Page(
        url=_url(n),
        kind="article",
        article=Article(_headline(n), _url(n), paragraphs),
        rows=[_row(m) for m in on_next_listing],
        clock_rows=_net_binnen(n),
    )


def _small_crawl() -> list[tuple[Page, datetime]]:
    """Pages with their reference instants in a crawl's order: a listing page, then its articles
    (fetched together, so they share a reference). The second listing page repeats a row of the
    first, and an article of another section shows up among them."""
    crawl = []
    for number in range(LISTINGS):
        stories = range(number * STORIES_PER_LISTING, (number + 1) * STORIES_PER_LISTING)
        rows = [_row(n) for n in stories] + ([_row(0)] if number == 1 else [])
        listed_at = REF + timedelta(minutes=10 * number)
        crawl.append((Page(url=_listing_url(number), rows=rows, clock_rows=_net_binnen(stories[0])), listed_at))
        crawl += [(_article_page(n), listed_at + timedelta(minutes=1)) for n in stories]
    sport = Page(
        url=_url(99),
        kind="article",
        section="Sport",
        article=Article("Sport", _url(99), ["Tekst."]),
        rows=[_row(11)],
        clock_rows=_net_binnen(10),
    )
    crawl.insert(3, (sport, REF + timedelta(minutes=1)))
    return crawl


def _released_the_plain_way(crawl: list[tuple[Page, datetime]]) -> list[Sighting]:
    """What the book must release, from a plain dict of whole sightings in memory: a sighting
    replaced by a listing row's keeps its key's place in the dict, and so in the release."""
    sightings: dict[tuple[str, str], Sighting] = {}
    from_listing = set()
    labels: dict[str, dict] = {}

    def note(story, label, absolute, reference, source_url):
        seen = SeenLabel(label, absolute, reference, source_url)
        labels.setdefault(story, {}).setdefault((label, absolute, reference), seen)

    def sighted(kind, headline, url, paragraphs, story, reference, source_url):
        return Sighting(kind, story, headline, url, list(paragraphs), SECTION, source_url, reference)

    def brief(row, reference, source_url, listed):
        story = story_key(row.headline, [row.teaser])
        if row.label:
            note(story, row.label, False, reference, source_url)
        key = ("brief", story)
        if key not in sightings or (listed and key not in from_listing):
            sightings[key] = sighted("brief", row.headline, row.url, [row.teaser], story, reference, source_url)
            if listed:
                from_listing.add(key)

    for page, reference in crawl:
        for clock_row in page.clock_rows:
            if clock_row.section == SECTION:
                note(story_key(clock_row.headline, []), clock_row.label, True, reference, page.url)
        if page.kind == "listing":
            for row in page.rows:
                brief(row, reference, page.url, listed=True)
        elif belongs_to_section(page):
            article = page.article
            story = story_key(article.headline, article.paragraphs)
            if ("lead", story) not in sightings:
                sightings["lead", story] = sighted(
                    "lead", article.headline, article.url, article.paragraphs, story, reference, page.url
                )
            for row in page.rows:
                brief(row, reference, page.url, listed=False)
    for (_, story), sighting in sightings.items():
        sighting.labels = sorted(labels.get(story, {}).values(), key=lambda seen: (seen.reference, seen.label))
    return list(sightings.values())


def test_a_release_gives_what_a_plain_book_in_memory_would_in_the_same_order():
    crawl = _small_crawl()
    book = StoryBook()
    for page, reference in crawl:
        book.add_page(page, reference)

    released = book.release()
    expected = _released_the_plain_way(crawl)
    assert len(released) == len(expected) == 2 * STORIES
    assert list(released) == expected
    # The case the order rests on: story 4's brief was first seen in a "Meer uit" row on story
    # 0's page; its listing row (listing page 2) replaced it there, right after lead 0.
    lead_0 = next(i for i, sighting in enumerate(expected) if sighting.kind == "lead")
    replaced = expected[lead_0 + 1]
    assert (replaced.kind, replaced.headline, replaced.source_url) == ("brief", _headline(4), _listing_url(1))


def _long_articles(count: int):
    """Article pages of ~2 KB of text each, made one at a time, so only the book keeps them."""
    sentence = "Een zin van het persbureau over wat er gebeurde, met een komma en een punt. "
    for n in range(count):
        paragraphs = [f"PARIJS (ANP) - Bericht {n}. {sentence * 9}", f"{sentence * 9}{n}", f"{n}{sentence * 9}"]
        yield Page(url=_url(n), kind="article", article=Article(_headline(n), _url(n), paragraphs))


def test_the_book_keeps_its_sightings_text_out_of_memory_and_releases_it_one_sighting_at_a_time():
    count = 5_000
    for n in range(count):
        story_key(_headline(n), [])  # story ids are cached outside the book: not the book's to count
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        book, text_weight = StoryBook(), 0
        for page in _long_articles(count):
            book.add_page(page, REF)
            text_weight += sum(map(len, page.article.paragraphs))  # ASCII: a byte a character
        del page
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - start
        tracemalloc.reset_peak()
        released = sum(1 for _ in book.release())
        release_peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()

    assert released == count
    assert text_weight > 10_000_000
    # Held whole, the sightings took 1.4 times the weight of their text; the index takes a tenth.
    assert held < text_weight / 4
    # Read back whole at once, the release alone would take more than the text.
    assert release_peak - held < text_weight / 20


@pytest.fixture
def spill_files(monkeypatch, tmp_path):
    """The temporary files the book opens, in a temporary directory of the test's own."""
    opened = []
    temporary_file = tempfile.TemporaryFile

    def recorded(*args, **kwargs):
        opened.append(temporary_file(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(tempfile, "TemporaryFile", recorded)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return opened


def _listing_of(*stories: int) -> Page:
    return Page(url=LISTING, rows=[_row(n) for n in stories])


def test_the_spill_file_has_no_name_on_disk_and_is_closed_once_released(spill_files, tmp_path):
    book = StoryBook()
    book.add_page(_listing_of(0, 1), REF)
    assert len(spill_files) == 1 and not spill_files[0].closed
    assert list(tmp_path.iterdir()) == []  # nothing a killed crawl could leave behind

    released = book.release()
    assert len(book) == 0 and len(released) == 2
    assert [sighting.headline for sighting in released] == [_headline(0), _headline(1)]
    assert spill_files[0].closed
    assert len(released) == 0 and list(released) == []  # released once


def test_a_book_takes_new_sightings_after_a_release(spill_files):
    book = StoryBook()
    book.add_page(_listing_of(0, 1), REF)
    first = list(book.release())
    book.add_page(_listing_of(1, 2), LATER)
    second = list(book.release())

    assert [sighting.headline for sighting in first] == [_headline(0), _headline(1)]
    assert [(sighting.headline, sighting.scraped_at) for sighting in second] == [(_headline(n), LATER) for n in (1, 2)]
    # A release takes the labels too: the second one starts from nothing.
    assert [list(sighting.labels) for sighting in second] == [
        [SeenLabel(_row(n).label, False, LATER, LISTING)] for n in (1, 2)
    ]
    assert len(spill_files) == 2 and all(spill.closed for spill in spill_files)


def test_the_spill_file_is_closed_when_a_release_is_abandoned_or_the_book_dropped(spill_files):
    book = StoryBook()
    book.add_page(_listing_of(0, 1), REF)
    sightings = iter(book.release())
    next(sightings)
    sightings.close()  # as when the spider closes halfway through the release
    assert spill_files[0].closed

    book.add_page(_listing_of(2), REF)
    del book  # a crawl that ended without a release
    gc.collect()
    assert spill_files[1].closed


def test_an_empty_book_opens_no_file_and_releases_nothing(spill_files):
    book = StoryBook()
    book.add_page(Page(url=LISTING, clock_rows=_net_binnen(0)), REF)  # time evidence alone is no sighting
    assert len(book) == 0 and list(book.release()) == []
    assert spill_files == []
