"""Crash points: where the crash-safety tests kill a crawl, deterministically.

``WIRECRAWLER_CRASH_AT=POINT`` makes the process kill itself with SIGKILL the first time it
passes ``crash_point(POINT)``, and ``POINT@N`` the Nth time: no cleanup, no flushing, no
``finally``, as when the kernel's OOM killer or ``kill -9`` ends a crawl. The variable is read
once, at import; unset (always, outside the tests), a crash point is one comparison.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "WIRECRAWLER_CRASH_AT"

CRASH_POINTS = frozenset(
    {
        "feed_temp_created",  # a temporary feed file exists, journaled as being written, still empty
        "item_scraped",  # an item went through the pipelines into the open feed files
        "before_feed_rename",  # a complete temporary file and its ids are journaled; not renamed yet
        "after_feed_rename",  # a feed file is published; its ids are not committed yet
        "after_seen_commit",  # a published feed's ids are committed
    }
)


def _parse(value: str | None) -> tuple[str, int] | None:
    if not value:
        return None
    point, _, nth = value.partition("@")
    if point not in CRASH_POINTS or (nth and not (nth.isdigit() and int(nth) > 0)):
        raise ValueError(
            f"{CRASH_ENV} must be POINT or POINT@N with POINT one of {sorted(CRASH_POINTS)}, not {value!r}"
        )
    return point, int(nth or 1)


_armed = _parse(os.environ.get(CRASH_ENV))
_passes: dict[str, int] = {}


def crash_point(point: str) -> None:
    """Die here with SIGKILL if ``WIRECRAWLER_CRASH_AT`` names this pass of *point*."""
    if point not in CRASH_POINTS:
        raise ValueError(f"unknown crash point {point!r}")
    if _armed is None or _armed[0] != point:
        return
    _passes[point] = _passes.get(point, 0) + 1
    if _passes[point] == _armed[1]:
        os.kill(os.getpid(), signal.SIGKILL)
