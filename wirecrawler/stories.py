"""The story book: what one crawl saw of each story, pooled until the crawl ends.

A record's time comes from every row that links to its story (FEED.md: the finest evidence the
crawl saw), and those rows may come on any page of the run, so sightings are held here and
released together once nothing more can arrive. Plain Python with no Scrapy import.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from wirecrawler.items import SeenLabel, Sighting
from wirecrawler.pages import SECTION, Article, ClockRow, Page, Row, belongs_to_section
from wirecrawler.records import story_key
from wirecrawler.timeline import LabelError, relative_evidence


class StoryBook:
    def __init__(self) -> None:
        self._sightings: dict[tuple[str, str], Sighting] = {}
        self._from_listing: set[tuple[str, str]] = set()
        # (story, label, absolute, reference) -> the first page to show it. One flat dict, not
        # a dict of labels per story: the book holds every story of the run until it ends.
        self._labels: dict[tuple[str, str, bool, datetime], str] = {}

    def __len__(self) -> int:
        return len(self._sightings)

    def _note_label(self, story: str, label: str, absolute: bool, reference: datetime, source_url: str) -> None:
        """The first page to show a label for a story, at a reference, is the one it is kept with."""
        self._labels.setdefault((story, label, absolute, reference), source_url)

    def add_row(self, row: Row, reference: datetime, source_url: str, *, from_listing: bool) -> str:
        """A section listing row or a "Meer uit Buitenland" row: a brief and its time label.

        Returns the story id. A listing row's sighting is preferred to a "Meer uit" one.
        """
        story = story_key(row.headline, [row.teaser])
        if row.label:
            self._note_label(story, row.label, False, reference, source_url)
        key = ("brief", story)
        if key not in self._sightings or (from_listing and key not in self._from_listing):
            self._sightings[key] = Sighting(
                kind="brief",
                story_id=story,
                headline=row.headline,
                url=row.url,
                paragraphs=[row.teaser],
                section=SECTION,
                source_url=source_url,
                scraped_at=reference,
            )
            if from_listing:
                self._from_listing.add(key)
        return story

    def add_clock_row(self, row: ClockRow, reference: datetime, source_url: str) -> None:
        """A Net binnen row: time evidence only, and only for our section's stories."""
        if row.section == SECTION:
            self._note_label(story_key(row.headline, []), row.label, True, reference, source_url)

    def add_article(self, article: Article, reference: datetime, source_url: str) -> str:
        """An article page of our section: the lead. Returns the story id."""
        story = story_key(article.headline, article.paragraphs)
        self._sightings.setdefault(
            ("lead", story),
            Sighting(
                kind="lead",
                story_id=story,
                headline=article.headline,
                url=article.url,
                paragraphs=list(article.paragraphs),
                section=SECTION,
                source_url=source_url,
                scraped_at=reference,
            ),
        )
        return story

    def add_page(self, page: Page, reference: datetime) -> list[tuple[Row, str]]:
        """Everything a page shows; returns its listing rows with their story ids.

        An article page of another section gives nothing but its Net binnen times.
        """
        for clock_row in page.clock_rows:
            self.add_clock_row(clock_row, reference, page.url)
        if page.kind == "listing":
            return [(row, self.add_row(row, reference, page.url, from_listing=True)) for row in page.rows]
        if belongs_to_section(page):
            if page.article is not None:
                self.add_article(page.article, reference, page.url)
            for row in page.rows:
                self.add_row(row, reference, page.url, from_listing=False)
        return []

    def release(self) -> list[Sighting]:
        """Every sighting, each with all the labels seen for its story, and empty the book."""
        labels = defaultdict(list)
        for (story, label, absolute, reference), source_url in self._labels.items():
            labels[story].append(SeenLabel(label, absolute, reference, source_url))
        released = []
        for (_, story), sighting in self._sightings.items():
            sighting.labels = sorted(labels.get(story, ()), key=lambda s: (s.reference, s.label))
            released.append(sighting)
        self._sightings.clear()
        self._from_listing.clear()
        return released


def all_older_than(rows: list[Row], reference: datetime, max_age: timedelta) -> bool:
    """Whether every row of a listing page is surely older than *max_age*.

    A row without a readable label could be of any age, so it keeps the page young.
    """
    if not rows:
        return False
    cutoff = reference - max_age
    for row in rows:
        try:
            if not row.label or relative_evidence(row.label, reference).instant >= cutoff:
                return False
        except LabelError:
            return False
    return True
