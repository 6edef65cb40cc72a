"""From a sighting to a feed record: dateline and time (docs/CONTRACT.md).

A sighting holds clean text and its story's id already (``wirecrawler.portal``). Plain Python
with no Scrapy import; the record pipeline and the ``parse`` command share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from wirecrawler.items import Brief, Lead, Record, SeenLabel, Sighting
from wirecrawler.portal.timeline import LabelError, TimeEvidence, clock_evidence, finest, relative_evidence, utc_iso
from wirecrawler.portal.wire import parse_dateline

RECORD_CLASSES: dict[str, type[Record]] = {"lead": Lead, "brief": Brief}


def evidence_of(seen: SeenLabel) -> TimeEvidence:
    return _evidence(seen.label, seen.absolute, seen.reference)


# Stories share their labels ("2 uur geleden", a Net binnen time) and pages share their Date,
# so a run reads each (label, reference) once rather than once per record. An unreadable
# label raises each time: lru_cache keeps results only.
@lru_cache(maxsize=4096)
def _evidence(label: str, absolute: bool, reference: datetime) -> TimeEvidence:
    read = clock_evidence if absolute else relative_evidence
    return read(label, reference)


@dataclass
class Built:
    record: Record
    problems: list[str] = field(default_factory=list)  # labels that could not be read, with where


def build_record(sighting: Sighting) -> Built:
    paragraphs = sighting.paragraphs
    dateline = parse_dateline(paragraphs[0]) if paragraphs else parse_dateline("")
    body = [dateline.text, *paragraphs[1:]]
    problems, evidence = [], []
    for seen in sighting.labels:
        try:
            evidence.append(evidence_of(seen))
        except LabelError as exc:
            problems.append(f"{exc} on {seen.source_url}")
    best = finest(evidence)
    record = RECORD_CLASSES[sighting.kind](
        id=sighting.story_id,
        kind=sighting.kind,
        headline=sighting.headline,
        url=sighting.url,
        section=sighting.section,
        places=dateline.places,
        agencies=dateline.agencies,
        text="\n\n".join(p for p in body if p),
        published_at=best.published_at if best else None,
        published_precision=best.precision if best else None,
        published_label=best.label if best else None,
        scraped_at=utc_iso(sighting.scraped_at),
        source_url=sighting.source_url,
    )
    return Built(record, problems)
