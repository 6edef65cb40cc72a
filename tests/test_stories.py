"""The story book (``wirecrawler.stories``): what one crawl saw of each story, pooled until it ends."""

from datetime import UTC, datetime, timedelta

from wirecrawler.items import SeenLabel
from wirecrawler.pages import Article, ClockRow, Page, Row
from wirecrawler.stories import StoryBook

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
