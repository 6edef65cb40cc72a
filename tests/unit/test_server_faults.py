"""Server faults (issue #6), pure: the project's settings stay polite, and ``Retry-After`` is read
as the server meant it (``wirecrawler.portal.timeline.retry_after_seconds``).

Crawls against a misbehaving server are in ``tests/e2e/test_server_faults.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wirecrawler import settings as project_settings
from wirecrawler.portal.timeline import retry_after_seconds


def test_the_project_settings_stay_polite():
    assert project_settings.AUTOTHROTTLE_ENABLED is True
    assert project_settings.ROBOTSTXT_OBEY is True
    assert project_settings.CONCURRENT_REQUESTS_PER_DOMAIN <= 4
    assert "wirecrawler" in project_settings.USER_AGENT and "crawler" in project_settings.USER_AGENT
    assert project_settings.RETRY_TIMES <= 3 and project_settings.REDIRECT_MAX_TIMES <= 5
    assert project_settings.DOWNLOADER_MIDDLEWARES["wirecrawler.middlewares.RetryPacing"] > 550  # before RetryMiddleware
    assert project_settings.DOWNLOAD_DELAY > 0  # without one, Scrapy 2.19 does not bound a host's concurrency


# --- Retry-After.

SENT = datetime(2026, 11, 24, 23, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (b" 5 ", 5.0),
        ("Tue, 24 Nov 2026 23:21:30 GMT", 90.0),  # counted from the response's Date, not from now
        ("Tue, 24 Nov 2026 23:00:00 GMT", 0.0),  # already past
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_values(value, seconds):
    assert retry_after_seconds(value, SENT, now=SENT + timedelta(days=2)) == seconds


def test_retry_after_as_a_date_without_a_response_date_counts_from_now():
    assert retry_after_seconds("Tue, 24 Nov 2026 23:21:00 GMT", None, now=SENT) == 60.0
