"""The project's own settings, read once into a small object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WireConfig:
    state_dir: Path  # the seen store and run state live here
    feed_dir: Path  # feeds/leads/ and feeds/briefs/ go here
    seen_store: str  # sqlite:///path

    @classmethod
    def from_settings(cls, settings) -> WireConfig:
        state_dir = Path(settings.get("WIRECRAWLER_STATE_DIR") or ".wirecrawler")
        return cls(
            state_dir=state_dir,
            feed_dir=Path(settings.get("WIRECRAWLER_FEED_DIR") or "feeds"),
            seen_store=settings.get("SEEN_STORE") or f"sqlite:///{state_dir / 'seen.sqlite3'}",
        )
