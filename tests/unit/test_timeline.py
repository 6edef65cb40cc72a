"""Time labels as instants (FEED.md, "Time")."""

from datetime import UTC, datetime

import pytest

from wirecrawler.portal.timeline import (
    LabelError,
    TimeEvidence,
    clock_evidence,
    finest,
    local_iso,
    parse_http_date,
    relative_evidence,
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
