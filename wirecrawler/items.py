"""Items: what the spider hands to the pipelines, and the records the feeds hold (docs/CONTRACT.md)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class SeenLabel:
    """A time label as one page showed it, with that page's reference instant."""

    label: str
    absolute: bool  # Net binnen "H:MM" rather than "N <unit> geleden"
    reference: datetime
    source_url: str


@dataclass
class Sighting:
    """A story as the crawl saw it, before normalisation: one per (kind, story) and run."""

    kind: str  # "lead" or "brief"
    story_id: str
    headline: str | None
    url: str | None
    paragraphs: list[str]
    section: str
    source_url: str
    scraped_at: datetime
    # Every label the crawl saw for the story, set on release; until then the empty tuple all
    # sightings share rather than an empty list each (a run holds thousands of sightings).
    labels: Sequence[SeenLabel] = ()


@runtime_checkable
class HoldsSightings(Protocol):
    """A spider that holds its sightings until the run ends, and releases them on request."""

    def holds_sightings(self) -> bool:
        """Whether any sighting is held."""

    def release(self) -> Collection[Sighting]:
        """Every sighting held, each with all the labels seen for its story; nothing is held after."""


@dataclass
class Record:
    """One feed line. Field order is the contract's."""

    id: str
    kind: str
    headline: str | None
    url: str | None
    section: str
    places: list[str]
    agencies: list[str]
    text: str
    published_at: str | None
    published_precision: str | None
    published_label: str | None
    scraped_at: str
    source_url: str


class Lead(Record):
    """A story's article page with its full body."""


class Brief(Record):
    """A story's teaser in a listing or a "Meer uit Buitenland" list."""


FEED_FIELDS = [f for f in Record.__dataclass_fields__]
