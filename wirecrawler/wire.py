"""The ANP wire grammar as zeelandnet.nl shows it: text repair, slugs and ids, datelines.

Plain Python with no Scrapy import, so that tests and the ``parse`` command call it directly.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

# The ANP feed sometimes carries U+01AB where "ë" belongs ("Israƫl").
_REPAIRS = str.maketrans({"\u01ab": "ë"})
_WHITESPACE = re.compile(r"\s+")

# Letters that Unicode decomposition does not flatten to ASCII.
_TRANSLITERATION = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "þ": "th", "ı": "i"})
_NOT_SLUG = re.compile(r"[^a-z0-9 -]")
_SEPARATORS = re.compile(r"[ -]+")

# A dateline is "PLACE[/PLACE...] (AGENCY[/AGENCY...]) - text", the agencies optional.
_DATELINE = re.compile(r"^(?P<places>[^()]+?)(?: \((?P<agencies>[^()]+)\))? - (?P<text>.*)$", re.DOTALL)
_PLACE = re.compile(r"^'?[^\W\d_]+(?:[ .'’-]+[^\W\d_]+)*\.?$")
_AGENCY = re.compile(r"^[A-Z][A-Z0-9]*$")
MAX_PLACES = 3
MAX_AGENCIES = 4
MAX_PLACE_LENGTH = 40


def repair(text: str) -> str:
    """Undo the wire's known character damage."""
    return text.translate(_REPAIRS)


def clean_text(text: str) -> str:
    """FEED.md's text rule: whitespace runs collapsed to one space, trimmed, repaired."""
    return repair(_WHITESPACE.sub(" ", text).strip())


def slugify(text: str) -> str:
    """SITE.md's slug rule: "Aardbeving met kracht 6,1" -> "aardbeving-met-kracht-61"."""
    lowered = clean_text(text).lower().translate(_TRANSLITERATION)
    flattened = "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c))
    kept = _NOT_SLUG.sub("", flattened)
    return _SEPARATORS.sub("-", kept).strip("-")


def story_id(text: str) -> str:
    """The identity of a story: 32 hex digits of SHA-256 over the slug of its headline."""
    return hashlib.sha256(slugify(text).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Dateline:
    places: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    text: str = ""


def _is_place(name: str) -> bool:
    return len(name) <= MAX_PLACE_LENGTH and name == name.upper() and bool(_PLACE.match(name))


def parse_dateline(text: str) -> Dateline:
    """Split "WASHINGTON/OTTAWA (ANP/AFP) - De ..." into places, agencies and the text after it.

    Text that does not open with a well-formed dateline comes back whole, with no places and
    no agencies: a hyphen in running text ("Noord-Korea heeft - zegt ...") is not a dateline.
    """
    text = clean_text(text)
    match = _DATELINE.match(text)
    if not match:
        return Dateline(text=text)
    places = match["places"].split("/")
    agencies = match["agencies"].split("/") if match["agencies"] else []
    if (
        len(places) > MAX_PLACES
        or len(agencies) > MAX_AGENCIES
        or not all(_is_place(p) for p in places)
        or not all(_AGENCY.match(a) for a in agencies)
    ):
        return Dateline(text=text)
    return Dateline(places=places, agencies=agencies, text=match["text"].strip())
