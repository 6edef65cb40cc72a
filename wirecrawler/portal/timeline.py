"""Dutch time labels ("8 uur geleden", Net binnen "9:50") as instants, per the contract (docs/CONTRACT.md).

Plain Python with no Scrapy import. Every label is read against a reference instant, the
``Date`` of the response that showed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# Finest first: a finer label beats a coarser one.
PRECISIONS = ("second", "minute", "hour", "day", "week", "month", "year")

_UNITS = {
    "seconde": "second",
    "seconden": "second",
    "minuut": "minute",
    "minuten": "minute",
    "uur": "hour",
    "dag": "day",
    "dagen": "day",
    "week": "week",
    "weken": "week",
    "maand": "month",
    "maanden": "month",
    "jaar": "year",
    "jaren": "year",
}
_RELATIVE = re.compile(r"^(\d{1,9}) (\w+) geleden$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


class LabelError(ValueError):
    """A time label that is not one the site shows, or that names an impossible instant."""


@dataclass(frozen=True)
class TimeEvidence:
    """What one label says about when a story was published."""

    instant: datetime  # UTC, whole minutes: the latest instant the label allows
    precision: str
    label: str
    absolute: bool  # a Net binnen wall-clock time rather than a relative label

    def rank(self) -> tuple[int, bool, datetime]:
        """Sort key, best first: finer precision, then wall-clock times, then the tighter bound."""
        return PRECISIONS.index(self.precision), not self.absolute, self.instant

    @property
    def published_at(self) -> str:
        return local_iso(self.instant)


def _delta(count: int, precision: str) -> relativedelta:
    return relativedelta(**{f"{precision}s": count})


def _truncate(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def relative_evidence(label: str, reference: datetime) -> TimeEvidence:
    """ "N <unit> geleden": the reference minus N units, in UTC (calendar months and years)."""
    text = " ".join(label.split())
    match = _RELATIVE.match(text.lower())
    if not match or match[2] not in _UNITS:
        raise LabelError(f"not a relative time label: {label!r}")
    precision = _UNITS[match[2]]
    try:
        instant = reference.astimezone(UTC) - _delta(int(match[1]), precision)
    except (OverflowError, ValueError) as exc:
        raise LabelError(f"time label out of range: {label!r}") from exc
    return TimeEvidence(_truncate(instant), precision, text, absolute=False)


def _wall_times(day: date, hour: int, minute: int) -> list[datetime]:
    """The UTC instants of an Amsterdam wall time on *day* (two in the autumn DST overlap)."""
    instants = {
        datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM, fold=fold).astimezone(UTC)
        for fold in (0, 1)
    }
    return sorted(instants)


def clock_evidence(label: str, reference: datetime) -> TimeEvidence:
    """Net binnen "H:MM": that Amsterdam wall time on the reference's Amsterdam date, or the
    day before when that would lie after the reference."""
    text = label.strip()
    match = _CLOCK.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise LabelError(f"not a clock time: {label!r}")
    hour, minute = int(match[1]), int(match[2])
    reference = reference.astimezone(UTC)
    today = reference.astimezone(AMSTERDAM).date()
    for day in (today, today - timedelta(days=1)):
        candidates = [t for t in _wall_times(day, hour, minute) if t <= reference]
        if candidates:
            return TimeEvidence(candidates[-1], "minute", text, absolute=True)
    raise LabelError(f"clock time {label!r} lies after the reference {reference.isoformat()}")


def finest(evidence: Iterable[TimeEvidence]) -> TimeEvidence | None:
    """The best evidence for one story, or None when the crawl saw none."""
    return min(evidence, key=TimeEvidence.rank, default=None)


def local_iso(instant: datetime) -> str:
    """ "2026-11-24T09:50:00+01:00": minute resolution, Amsterdam offset of that instant."""
    if instant.tzinfo is UTC:  # evidence is in UTC, and a run's records share a few hundred instants
        return _local_iso_of_utc(instant)
    return _truncate(instant).astimezone(AMSTERDAM).isoformat(timespec="seconds")


def utc_iso(instant: datetime) -> str:
    """ "2026-11-24T10:00:00Z"."""
    if instant.tzinfo is UTC:  # a run's records share their pages' few Date values
        return _utc_iso_of_utc(instant)
    return instant.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# Only instants in UTC are remembered: two of them are equal exactly when they are the same
# instant written the same way (an aware datetime in another zone compares equal to its UTC
# instant, and the zone's fold would matter), so the cache gives what the function would.
@lru_cache(maxsize=1024)
def _local_iso_of_utc(instant: datetime) -> str:
    return _truncate(instant).astimezone(AMSTERDAM).isoformat(timespec="seconds")


@lru_cache(maxsize=256)
def _utc_iso_of_utc(instant: datetime) -> str:
    return instant.replace(microsecond=0).isoformat().replace("+00:00", "Z")


# How far around a reference instant the labels read against it may reach: a Net binnen clock
# time lies on the reference's Amsterdam day or the day before.
_MARGIN = timedelta(days=1)
_WRITTEN_YEAR = re.compile(r"\d{4,}", re.ASCII)


def _written_year(value: str) -> int | None:
    """The year an HTTP date writes with four or more digits ("Mon, 01 Jan 0001 ..."), if any.

    ``email.utils`` reads any year below 100 as a two-digit one (0001 as 2001); a four-digit
    year means what it says. The time (with colons) and the zone offset (with its sign) are
    no year; "06-Nov-94" (RFC 850) is split at its hyphens.
    """
    for token in re.split(r"[\s,]+", value):
        for part in token.split("-") if any(c.isalpha() for c in token) else [token]:
            if _WRITTEN_YEAR.fullmatch(part):
                return int(part)
    return None


def _usable(instant: datetime) -> bool:
    """Whether labels can be read against *instant*: it and a day's margin either side have an
    Amsterdam time (year 9999's last day has none: it lies in year 10000 there)."""
    try:
        for moment in (instant - _MARGIN, instant, instant + _MARGIN):
            moment.astimezone(AMSTERDAM)
    except (OverflowError, ValueError):
        return False
    return True


def _http_instant(value: str | bytes | None) -> datetime | None:
    """An HTTP date as an aware UTC instant, or None when missing or unparsable."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
        written = _written_year(value)
        if written is not None and written != parsed.year:  # a year below 100, read as 19xx or 20xx
            return None
        if parsed.tzinfo is None:  # "-0000" means UTC with no claim about local time
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@lru_cache(maxsize=64)  # a crawl's responses carry the same few Date values, one per second at most
def parse_http_date(value: str | bytes | None) -> datetime | None:
    """An HTTP ``Date`` header as an aware UTC instant, the reference its page's labels are read
    against; None when missing, unparsable or unusable: an instant too far in the future or past
    to read labels against (``_usable``), such as "Fri, 31 Dec 9999 23:59:59 GMT" or
    "Mon, 01 Jan 0001 00:00:00 GMT"."""
    instant = _http_instant(value)
    return instant if instant is not None and _usable(instant) else None


def parse_iso(value: str) -> datetime:
    """An ISO 8601 instant given by a user (``--now``); naive means UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def retry_after_seconds(value: str | bytes | None, sent_at: datetime | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds, or an HTTP date counted from the
    response's own ``Date`` (the server's clock) when it has one. None when absent or unreadable."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    until = _http_instant(value)  # no label is read against it: a date in year 9999 is a long wait
    if until is None:
        return None
    return max(0.0, (until - (sent_at or now)).total_seconds())
