"""The story book: what one crawl saw of each story, pooled until the crawl ends.

A record's time comes from every row that links to its story (the contract, docs/CONTRACT.md: the finest evidence the
crawl saw), and those rows may come on any page of the run, so sightings are held here and
released together once nothing more can arrive. Plain Python with no Scrapy import.

Held sightings carry the articles' whole text, and a run holds thousands of them, so the book
keeps their text in an anonymous temporary file and only a small index in memory (some 250
bytes a sighting, against 1.5 KB held whole); the release reads them back one at a time.
"""

from __future__ import annotations

import pickle
import tempfile
import weakref
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import NamedTuple

from wirecrawler.items import SeenLabel, Sighting
from wirecrawler.portal.pages import SECTION, Article, ClockRow, Page, Row, belongs_to_section
from wirecrawler.portal.timeline import LabelError, relative_evidence
from wirecrawler.portal.wire import story_key

StoryKey = tuple[str, str]  # (kind, story id): one sighting per key and run
LabelKey = tuple[str, str, bool, datetime]  # (story id, label, absolute, reference)


# A sighting pickles to under 1 KB (750 bytes on average on the big benchmark site): a larger
# buffer than io's 8 KiB, fewer write calls to the system, nearly halves the cost of an append.
_SPILL_BUFFER = 64 * 1024


class _SpillFile:
    """An anonymous temporary file: a book's sightings' text, appended, then read back.

    It has no name on disk (``tempfile.TemporaryFile``), so nothing is left behind even when
    the crawl is killed. Every append comes before the first read: the book hands its file
    over with the release and starts a new one.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(buffering=_SPILL_BUFFER)
        self._end = 0
        # However its owner ends (released, abandoned mid-release, dropped unreleased), the file
        # is closed rather than left to the garbage collector's ResourceWarning.
        self._closer = weakref.finalize(self, self._file.close)

    def append(self, data: bytes) -> tuple[int, int]:
        """Writes *data* at the end; returns its offset and length."""
        offset = self._end
        self._file.write(data)
        self._end += len(data)
        return offset, len(data)

    def read(self, offset: int, length: int) -> bytes:
        self._file.seek(offset)
        return self._file.read(length)

    def close(self) -> None:
        self._closer()


class _Held(NamedTuple):
    """What the book keeps in memory of a sighting: where its text is, and what is not text."""

    offset: int
    length: int
    # Pages share their reference instant, and a datetime costs more to pickle than a whole article.
    scraped_at: datetime
    from_listing: bool


def _sighting_from(key: StoryKey, held: _Held, text: bytes, labels: list[SeenLabel]) -> Sighting:
    """A held sighting made whole again (the book holds our section's stories only)."""
    headline, url, paragraphs, source_url = pickle.loads(text)
    kind, story = key
    return Sighting(
        kind=kind,
        story_id=story,
        headline=headline,
        url=url,
        paragraphs=paragraphs,
        section=SECTION,
        source_url=source_url,
        scraped_at=held.scraped_at,
        labels=labels,
    )


def _label_order(seen: SeenLabel) -> tuple[datetime, str]:
    return seen.reference, seen.label


class ReleasedSightings:
    """A book's sightings on their way out, in the order their keys were first seen.

    Sized, and read back from the spill file one at a time as they are iterated, so a release
    never holds the run's text in memory at once. It is iterated once: when the iteration ends,
    or is abandoned, the spill file is closed and nothing is left to release.
    """

    def __init__(self, held: dict[StoryKey, _Held], labels: dict[str, list[SeenLabel]], spill: _SpillFile | None):
        self._held = held
        self._labels = labels
        self._spill = spill

    def __len__(self) -> int:
        return len(self._held)

    def __iter__(self) -> Iterator[Sighting]:
        try:
            for key, held in self._held.items():
                labels = sorted(self._labels.get(key[1], ()), key=_label_order)
                yield _sighting_from(key, held, self._spill.read(held.offset, held.length), labels)
        finally:
            self._held = {}
            if self._spill is not None:
                self._spill.close()


class StoryBook:
    def __init__(self) -> None:
        self._empty()

    def _empty(self) -> None:
        # Insertion order is the release order: a listing row that replaces a "Meer uit"
        # sighting takes over its entry, and so its place.
        self._held: dict[StoryKey, _Held] = {}
        # A label seen for a story -> the first page to show it. One flat dict, not a dict of
        # labels per story: the book holds every story of the run until it ends.
        self._labels: dict[LabelKey, str] = {}
        self._spill: _SpillFile | None = None  # opened with the first sighting

    def __len__(self) -> int:
        return len(self._held)

    def _note_label(self, story: str, label: str, absolute: bool, reference: datetime, source_url: str) -> None:
        """The first page to show a label for a story, at a reference, is the one it is kept with."""
        self._labels.setdefault((story, label, absolute, reference), source_url)

    def _hold(
        self,
        key: StoryKey,
        reference: datetime,
        *,
        headline: str | None,
        url: str | None,
        paragraphs: list[str],
        source_url: str,
        from_listing: bool,
    ) -> None:
        """A sighting for *key*: its text to the spill file, the rest to the index.

        No ``Sighting`` is built until the release: one would add half again to the spilling's cost.
        """
        if self._spill is None:
            self._spill = _SpillFile()
        text = pickle.dumps((headline, url, paragraphs, source_url), protocol=5)
        offset, length = self._spill.append(text)
        self._held[key] = _Held(offset, length, reference, from_listing)

    def add_row(self, row: Row, reference: datetime, source_url: str, *, from_listing: bool) -> str:
        """A section listing row or a "Meer uit Buitenland" row: a brief and its time label.

        Returns the story id. A listing row's sighting is preferred to a "Meer uit" one.
        """
        story = story_key(row.headline, [row.teaser])
        if row.label:
            self._note_label(story, row.label, False, reference, source_url)
        key = ("brief", story)
        held = self._held.get(key)
        if held is None or (from_listing and not held.from_listing):
            self._hold(
                key,
                reference,
                headline=row.headline,
                url=row.url,
                paragraphs=[row.teaser],
                source_url=source_url,
                from_listing=from_listing,
            )
        return story

    def add_clock_row(self, row: ClockRow, reference: datetime, source_url: str) -> None:
        """A Net binnen row: time evidence only, and only for our section's stories."""
        if row.section == SECTION:
            self._note_label(story_key(row.headline, []), row.label, True, reference, source_url)

    def add_article(self, article: Article, reference: datetime, source_url: str) -> str:
        """An article page of our section: the lead. Returns the story id."""
        story = story_key(article.headline, article.paragraphs)
        key = ("lead", story)
        if key not in self._held:
            self._hold(
                key,
                reference,
                headline=article.headline,
                url=article.url,
                paragraphs=article.paragraphs,
                source_url=source_url,
                from_listing=False,
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

    def _labels_by_story(self) -> dict[str, list[SeenLabel]]:
        labels = defaultdict(list)
        for (story, label, absolute, reference), source_url in self._labels.items():
            labels[story].append(SeenLabel(label, absolute, reference, source_url))
        return labels

    def release(self) -> ReleasedSightings:
        """Every sighting, each with all the labels seen for its story, and empty the book.

        The sightings are read back as the result is iterated; the book is empty at once and
        takes new sightings into a new spill file.
        """
        released = ReleasedSightings(self._held, self._labels_by_story(), self._spill)
        self._empty()
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
