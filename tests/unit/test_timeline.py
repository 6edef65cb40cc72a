"""Time labels as instants (docs/CONTRACT.md)."""

from datetime import UTC, datetime

import pytest

from wirecrawler.items import SeenLabel, Sighting
from wirecrawler.news.records import build_record
from wirecrawler.portal.timeline import (
    LabelError,
    TimeEvidence,
    clock_evidence,
    finest,
    local_iso,
    parse_http_date,
    relative_evidence,
    retry_after_seconds,
    utc_iso,
)

REF = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)  # 11:00 in Amsterdam (CET, +01:00)


@pytest.mark.parametrize(
    ("label", "published_at", "precision"),
    [
        ("45 seconden geleden", "2026-11-24T10:59:00+01:00", "second"),
        ("1 seconde geleden", "2026-11-24T10:59:00+01:00", "second"),
        ("1 minuut geleden", "2026-11-24T10:59:00+01:00", "minute"),
        ("40 minuten geleden", "2026-11-24T10:20:00+01:00", "minute"),
        ("8 uur geleden", "2026-11-24T03:00:00+01:00", "hour"),
        ("1 dag geleden", "2026-11-23T11:00:00+01:00", "day"),
        ("2 dagen geleden", "2026-11-22T11:00:00+01:00", "day"),
        ("1 week geleden", "2026-11-17T11:00:00+01:00", "week"),
        ("3 weken geleden", "2026-11-03T11:00:00+01:00", "week"),
        ("1 maand geleden", "2026-10-24T12:00:00+02:00", "month"),  # CEST still: the offset of that instant
        ("9 maanden geleden", "2026-02-24T11:00:00+01:00", "month"),
        ("2 jaar geleden", "2024-11-24T11:00:00+01:00", "year"),
    ],
)
def test_every_relative_unit(label, published_at, precision):
    evidence = relative_evidence(label, REF)
    assert (evidence.published_at, evidence.precision, evidence.label) == (published_at, precision, label)
    assert not evidence.absolute


def test_feed_md_dst_example():
    evidence = relative_evidence("3 uur geleden", datetime(2026, 10, 25, 2, 30, tzinfo=UTC))
    assert evidence.instant == datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
    assert evidence.published_at == "2026-10-25T01:30:00+02:00"


def test_truncated_to_the_minute():
    evidence = relative_evidence("10 seconden geleden", datetime(2026, 11, 24, 10, 0, 5, tzinfo=UTC))
    assert evidence.published_at == "2026-11-24T10:59:00+01:00"


def test_calendar_months_from_month_ends():
    assert relative_evidence("1 maand geleden", datetime(2026, 3, 31, 12, tzinfo=UTC)).instant == datetime(
        2026, 2, 28, 12, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "label", ["gisteren", "8 uren geleden", "uur geleden", "-1 uur geleden", "24 november", "999999 jaar geleden", ""]
)
def test_labels_that_are_not_readable(label):
    with pytest.raises(LabelError):
        relative_evidence(label, REF)


@pytest.mark.parametrize(
    ("reference", "label", "published_at"),
    [
        (REF, "9:50", "2026-11-24T09:50:00+01:00"),
        (REF, "10:59", "2026-11-24T10:59:00+01:00"),
        (REF, "11:00", "2026-11-24T11:00:00+01:00"),  # the reference minute itself is not after it
        (REF, "11:01", "2026-11-23T11:01:00+01:00"),  # after the reference: the day before
        # 00:20 in Amsterdam on 25 November: times after it belong to the 24th.
        (datetime(2026, 11, 24, 23, 20, tzinfo=UTC), "0:12", "2026-11-25T00:12:00+01:00"),
        (datetime(2026, 11, 24, 23, 20, tzinfo=UTC), "23:58", "2026-11-24T23:58:00+01:00"),
        (datetime(2026, 11, 24, 23, 20, tzinfo=UTC), "0:21", "2026-11-24T00:21:00+01:00"),
        # The reference's Amsterdam date is the one that counts, not its UTC date.
        (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), "0:05", "2026-11-25T00:05:00+01:00"),
    ],
)
def test_net_binnen_times_around_midnight(reference, label, published_at):
    evidence = clock_evidence(label, reference)
    assert (evidence.published_at, evidence.precision, evidence.label, evidence.absolute) == (
        published_at,
        "minute",
        label,
        True,
    )


def test_net_binnen_in_the_autumn_dst_overlap_takes_the_latest_time_not_after_the_reference():
    # 25 Oct 2026: 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
    assert clock_evidence("2:30", datetime(2026, 10, 25, 1, 45, tzinfo=UTC)).instant == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )
    assert clock_evidence("2:30", datetime(2026, 10, 25, 1, 0, tzinfo=UTC)).instant == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("label", ["24:00", "9:60", "9.50", "9:5", ""])
def test_clock_labels_that_are_not_readable(label):
    with pytest.raises(LabelError):
        clock_evidence(label, REF)


def test_finest_evidence_wins():
    hour = relative_evidence("1 uur geleden", REF)
    minute_relative = relative_evidence("40 minuten geleden", REF)
    clock = clock_evidence("10:20", REF)
    assert finest([hour, clock]) is clock
    # Equal precision: a Net binnen time beats a relative label.
    assert finest([minute_relative, clock]) is clock
    # Equal precision, both relative: the tighter (earlier) upper bound.
    eight, nine = relative_evidence("8 uur geleden", REF), relative_evidence("9 uur geleden", REF)
    assert finest([eight, nine]) is nine
    assert finest([]) is None


def test_evidence_rank_orders_precision_first():
    seconds = TimeEvidence(datetime(2026, 1, 1, tzinfo=UTC), "second", "5 seconden geleden", False)
    minute = TimeEvidence(datetime(2025, 1, 1, tzinfo=UTC), "minute", "9:50", True)
    assert finest([minute, seconds]) is seconds


def test_formats():
    assert local_iso(datetime(2026, 7, 1, 10, 0, 59, tzinfo=UTC)) == "2026-07-01T12:00:00+02:00"
    assert utc_iso(datetime(2026, 11, 24, 10, 0, 0, 123, tzinfo=UTC)) == "2026-11-24T10:00:00Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 24 Nov 2026 10:00:00 GMT", REF),
        (b"Tue, 24 Nov 2026 10:00:00 GMT", REF),
        ("Tue, 24 Nov 2026 11:00:00 +0100", REF),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_http_date(value, expected):
    assert parse_http_date(value) == expected


# --- A Date too far in the future or past to read labels against is no Date.

# The newest Date labels can be read against: a day after it is still a time in Amsterdam
# (9999-12-31T23:59:59+01:00); a second later, it is not.
NEWEST_USABLE = "Thu, 30 Dec 9999 22:59:59 GMT"


@pytest.mark.parametrize(
    "value",
    [
        "Fri, 31 Dec 9999 23:59:59 GMT",  # 10000-01-01T00:59:59 in Amsterdam
        b"Fri, 31 Dec 9999 23:59:59 GMT",
        "Fri, 31 Dec 9999 23:59:59 -1200",  # not even a UTC instant
        "Fri, 31 Dec 9999 00:00:00 GMT",  # in Amsterdam still, but not a day after it
        "Thu, 30 Dec 9999 23:00:00 GMT",  # a second after the newest usable Date
        "Mon, 01 Jan 0001 00:00:00 GMT",  # not 2001: a four-digit year means what it says
        "Mon, 01 Jan 0001 00:00:00 +0100",
        "Monday, 01-Jan-0001 00:00:00 GMT",  # RFC 850's layout
        "Mon Jan  1 00:00:00 0001",  # asctime's layout
        "Wed, 01 Jan 0050 12:00:00 GMT",
        "Sat, 01 Jan 0000 00:00:00 GMT",
    ],
)
def test_an_http_date_that_cannot_be_used_is_none(value):
    assert parse_http_date(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (NEWEST_USABLE, datetime(9999, 12, 30, 22, 59, 59, tzinfo=UTC)),
        ("Mon, 01 Jan 0100 00:00:00 GMT", datetime(100, 1, 1, tzinfo=UTC)),
        ("Sunday, 06-Nov-94 08:49:37 GMT", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),  # two digits: 19xx/20xx
        ("Sun Nov  6 08:49:37 1994", datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)),
        ("Tue, 24 Nov 2026 10:00:00 -0000", REF),
    ],
)
def test_http_dates_far_out_but_usable_and_the_older_layouts(value, expected):
    assert parse_http_date(value) == expected


def test_a_retry_after_in_year_9999_is_still_a_wait_too_long_to_make():
    """Retry-After is no reference for labels: a date in year 9999 says "not soon", as before."""
    assert retry_after_seconds("Fri, 31 Dec 9999 23:59:59 GMT", REF, now=REF) > 10**11
    unusable_sent_at = parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT")  # None: counted from now
    assert retry_after_seconds("Fri, 31 Dec 9999 23:59:59 GMT", unusable_sent_at, now=REF) > 10**11
    assert retry_after_seconds("Mon, 01 Jan 0001 00:00:00 GMT", REF, now=REF) is None  # not a wait until 2001


# Every label the site can show, and some it cannot: read against the newest and the oldest
# usable Date, none raises; an unreadable one is a problem of its record.
UNITS = ("seconde", "seconden", "minuut", "minuten", "uur", "dag", "dagen", "week", "weken", "maand", "maanden", "jaar", "jaren")
EVERY_LABEL = [
    *(f"{count} {unit} geleden" for unit in UNITS for count in (0, 1, 59, 999, 999999999)),
    *(f"{hour}:{minute:02d}" for hour in range(24) for minute in (0, 1, 30, 59)),
]


# Date headers near the ends of what datetime holds, every hour and the last seconds of a day.
DATES_AT_THE_EDGES = [
    *(f"{day:02d} Dec 9999 {hour:02d}:{minute:02d}:{second:02d} {zone}"
      for day in (29, 30, 31) for hour in range(24) for minute, second in ((0, 0), (59, 59)) for zone in ("GMT", "+0100", "-1200")),
    *(f"{day:02d} Jan {year} {hour:02d}:00:00 GMT" for year in ("0001", "0100") for day in (1, 2, 3) for hour in range(0, 24, 6)),
]


def test_no_label_read_against_any_usable_date_makes_build_record_raise():
    usable = [reference for value in DATES_AT_THE_EDGES if (reference := parse_http_date(value)) is not None]
    assert max(usable) == parse_http_date(NEWEST_USABLE)
    for reference in usable:
        for label in EVERY_LABEL:
            seen = SeenLabel(label, ":" in label, reference, "http://127.0.0.1/nieuws/buitenland")
            built = build_record(sighting_with([seen]))
            assert (built.record.published_label is None) == bool(built.problems), label
            if built.record.published_at is not None:
                assert datetime.fromisoformat(built.record.published_at) <= reference, (label, reference)
        every = build_record(sighting_with([SeenLabel(label, ":" in label, reference, "u") for label in EVERY_LABEL]))
        assert every.record.published_precision == "second"


def test_labels_read_against_the_newest_usable_date():
    reference = parse_http_date(NEWEST_USABLE)  # 9999-12-30T23:59:59+01:00 in Amsterdam
    assert clock_evidence("23:59", reference).published_at == "9999-12-30T23:59:00+01:00"
    assert clock_evidence("0:00", reference).published_at == "9999-12-30T00:00:00+01:00"
    assert relative_evidence("0 seconden geleden", reference).published_at == "9999-12-30T23:59:00+01:00"
    assert relative_evidence("1 jaar geleden", reference).published_at == "9998-12-30T23:59:00+01:00"


def sighting_with(labels: list[SeenLabel]) -> Sighting:
    return Sighting(
        kind="lead",
        story_id="b15828a769adad44479d1a44a89e0487",
        headline="Een kop",
        url="http://127.0.0.1/nieuws/een-kop",
        paragraphs=["PARIJS (ANP) - Tekst."],
        section="Buitenland",
        source_url="http://127.0.0.1/nieuws/buitenland",
        scraped_at=REF,
        labels=labels,
    )
