"""The ANP wire grammar as zeelandnet.nl shows it: slugs and ids, datelines.

Every function takes clean text (``wirecrawler.portal.text``), as the page readers give it.
Plain Python with no Scrapy import, so that tests and the ``parse`` command call it directly.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

_NOT_SLUG = re.compile(r"[^a-z0-9 -]")
_SEPARATORS = re.compile(r"[ -]+")

# A dateline is "PLACE[/PLACE...] (AGENCY[/AGENCY...]) - text", the agencies optional.
_DATELINE = re.compile(r"^(?P<places>[^()]+?)(?: \((?P<agencies>[^()]+)\))? - (?P<text>.*)$", re.DOTALL)
_PLACE = re.compile(r"^'?[^\W\d_]+(?:[ .'’-]+[^\W\d_]+)*\.?$")
_AGENCY = re.compile(r"^[A-Z][A-Z0-9]*$")
MAX_PLACES = 3
MAX_AGENCIES = 4


def slugify(text: str) -> str:
    """the slug rule (docs/CONTRACT.md): "Aardbeving met kracht 6,1" -> "aardbeving-met-kracht-61".

    Lower case, then accents flattened: NFKD decomposition with the combining marks dropped.
    A letter that does not decompose to a-z (ß, æ, œ, ø, ł, đ, þ, ı) is not transliterated: it
    is deleted like punctuation, so "Straße in Łódź" gives "strae-in-odz".
    """
    lowered = text.lower()
    flattened = "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c))
    kept = _NOT_SLUG.sub("", flattened)
    return _SEPARATORS.sub("-", kept).strip("-")


# A crawl meets the same headlines page after page (Net binnen, "Meer uit"), and a listing row's
# headline again soon after on its article page: those are hashed once. Other headlines are met
# once or twice in a run, so a larger cache would only grow the memory of a long crawl.
@lru_cache(maxsize=1024)
def story_id(text: str) -> str:
    """The identity of a story: 32 hex digits of SHA-256 over the slug of its headline."""
    return hashlib.sha256(slugify(text).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Dateline:
    places: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    text: str = ""


def _is_place(name: str) -> bool:
    """Upper case, of any length, with spaces, hyphens and accents: "BANDAR SERI BEGAWAN", "CAÏRO"."""
    return name == name.upper() and bool(_PLACE.match(name))


def parse_dateline(text: str) -> Dateline:
    """Split "WASHINGTON/OTTAWA (ANP/AFP) - De ..." into places, agencies and the text after it.

    Text that does not open with a well-formed dateline comes back whole, with no places and
    no agencies: a hyphen in running text ("Noord-Korea heeft - zegt ...") is not a dateline.
    """
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


# Text that opens like a dateline: a head (places) and maybe "(agencies)", then a dash, with
# any spacing. Only used to explain why such an opening is not a dateline (dateline_doubt).
_LOOKALIKE = re.compile(
    r"^(?P<places>[^()]*?)(?:\s*\((?P<agencies>[^()]*)\))?"
    r"(?P<dash>\s[-–—]\s|\s?[–—]\s?|[-–—]\s|\s[-–—])(?P<text>\S.*)$",
    re.DOTALL,
)
# Wire agencies, to tell "(anp)" from "(VVD)" in running text; parse_dateline accepts any code.
_KNOWN_AGENCIES = {"ANP", "AFP", "AP", "RTR", "REUTERS", "DPA", "BLOOMBERG", "BELGA", "EFE", "ANSA", "AAP", "PA"}


def _shouts(text: str) -> bool:
    """Upper case with at least one letter: how a dateline's places are written."""
    return any(c.isalpha() for c in text) and text == text.upper()


def dateline_doubt(text: str) -> str | None:
    """Why an opening that looks like a dateline is not read as one; None when it is a
    dateline or does not look like one.

    ``parse_dateline`` keeps such text whole, which loses nothing; this says why, so a change
    in how the wire writes datelines shows in the log instead of as empty ``places``.
    "Noord-Korea heeft - zegt ..." does not look like one: its head is not upper case and
    names no agency.
    """
    if parse_dateline(text).places:
        return None
    match = _LOOKALIKE.match(text)
    if not match:
        return None
    places = match["places"].split("/") if match["places"] else []
    agencies = match["agencies"].split("/") if match["agencies"] else []
    if not (_shouts(match["places"]) or any(a.strip().upper() in _KNOWN_AGENCIES for a in agencies)):
        return None
    if match["dash"].strip() != "-":
        reason = f"a {match['dash'].strip()!r} where the dateline has ' - '"
    elif match["dash"] != " - ":
        reason = "no space on both sides of its hyphen"
    elif not places:
        reason = "no place before the agencies"
    elif len(places) > MAX_PLACES:
        reason = f"{len(places)} places, more than {MAX_PLACES}"
    elif len(agencies) > MAX_AGENCIES:
        reason = f"{len(agencies)} agencies, more than {MAX_AGENCIES}"
    elif bad := next((p for p in places if not _is_place(p)), None):
        reason = f"{bad!r} is not an upper-case place name"
    elif bad := next((a for a in agencies if not _AGENCY.match(a)), None):
        reason = f"{bad!r} is not an upper-case agency code"
    else:  # e.g. nothing after the dash
        reason = "no text after the dateline"
    return f"opens like a dateline but is not one ({reason}); kept as text"


def story_key(headline: str | None, paragraphs: list[str]) -> str:
    """A story's id: from its headline, or from its text (dateline removed) when the headline is unknown."""
    if headline:
        return story_id(headline)
    return story_id(parse_dateline(paragraphs[0]).text if paragraphs else "")
