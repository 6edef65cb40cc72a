"""The backfill's state file: where the walk is, and what it has done so far.

Plain Python with no Scrapy import. ``<state dir>/backfill.json`` is rewritten after every
window, whole or not at all (``wirecrawler.store.atomicfile.replace_whole``: a temporary file,
fsynced, renamed over the old one), so a kill at any moment leaves the state of the last window
that ended. A window that was running when the backfill died is simply run again: its listing
pages are read again, and of its articles only those whose leads were not published yet are
fetched (the crawl skips a lead the seen store holds).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from pathlib import Path

from wirecrawler.backfill.plan import Walk
from wirecrawler.store.atomicfile import replace_whole

STATE_NAME = "backfill.json"
LOG_NAME = "backfill.log"  # the windows' crawl logs, one after the other
LOCK_NAME = "backfill.lock"  # one backfill at a time per state directory
VERSION = 1


class StateError(ValueError):
    """A state file that cannot be read: said in one line."""


@dataclass
class BackfillState:
    start_url: str
    from_page: int
    pages: int | None
    until: str | None  # YYYY-MM-DD
    started: str  # when the walk began, UTC ISO
    next_page: int  # the first listing page of the next window
    windows_done: int = 0
    listing_pages: int = 0  # listing pages fetched, counting those read twice (window overlaps, windows run again)
    article_pages: int = 0  # article pages fetched
    records: dict[str, int] = field(default_factory=lambda: {"brief": 0, "lead": 0})  # published, per kind
    work_seconds: float = 0.0  # time spent running windows: the rate's denominator
    reached: str | None = None  # the oldest published_at of the briefs published so far
    last_page: int = 0  # the deepest listing page a window has read
    finished: str | None = None  # why the walk is over; None while it goes on
    # The window running now, written before it starts: its number, its start (UTC ISO) and
    # where the publication log ended then. A backfill killed mid-window finds here, when it
    # resumes, what that window published before it died (``progress.published_since``).
    in_flight: dict | None = None
    updated: str | None = None  # when this file was last written, UTC ISO
    version: int = VERSION

    @classmethod
    def new(cls, walk: Walk, now: str) -> BackfillState:
        return cls(
            start_url=walk.start_url,
            from_page=walk.from_page,
            pages=walk.pages,
            until=walk.until.isoformat() if walk.until else None,
            started=now,
            next_page=walk.from_page,
        )

    @property
    def walk(self) -> Walk:
        return Walk(
            start_url=self.start_url,
            from_page=self.from_page,
            pages=self.pages,
            until=date.fromisoformat(self.until) if self.until else None,
        )

    @property
    def pages_fetched(self) -> int:
        return self.listing_pages + self.article_pages

    @property
    def records_published(self) -> int:
        return sum(self.records.values())

    def differs_from(self, walk: Walk) -> str | None:
        """How *walk* differs from the walk this state belongs to, or None when it is the same."""
        mine = self.walk
        changed = [
            f"{option} {theirs if theirs is not None else '(none)'} (in progress: {ours if ours is not None else '(none)'})"
            for option, ours, theirs in (
                ("--start-url", mine.start_url, walk.start_url),
                ("--from-page", mine.from_page, walk.from_page),
                ("--pages", mine.pages, walk.pages),
                ("--until", mine.until, walk.until),
            )
            if ours != theirs
        ]
        return ", ".join(changed) or None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> BackfillState:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}, this backfill writes version {VERSION}")
        known = {f.name for f in fields(cls)}
        state = cls(**{key: value for key, value in data.items() if key in known})
        if not isinstance(state.next_page, int) or state.next_page < 1 or not isinstance(state.records, dict):
            raise ValueError("next_page or records is not what a backfill writes")
        return state


def load(path: Path) -> BackfillState | None:
    """The state in *path*, or None when there is none. Raises StateError when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return BackfillState.from_json(text)
    except (ValueError, TypeError) as exc:
        raise StateError(f"{path} is not a backfill state ({exc}): move it away, or start anew with --restart") from None


def save(path: Path, state: BackfillState) -> None:
    """Replaces the state file with *state*, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_whole(path, state.to_json().encode("utf-8"))
