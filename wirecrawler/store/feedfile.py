"""What a feed file holds: the (kind, id) of its records, each line checked to be a whole record.

A file is published only when every line is one complete JSON record ending in a newline: a
short write (a full disk) can leave half a record, or glue one to the next. Plain Python with no
Scrapy import.
"""

from __future__ import annotations

import json
from pathlib import Path


class InvalidFeedFile(ValueError):
    """A feed file with a line that is not a complete record: it is not published."""


def record_keys(path: Path) -> list[tuple[str, str]]:
    """The (kind, id) of every record in a JSON Lines feed file; raises ``InvalidFeedFile``
    naming the first line that is not a complete JSON record (a torn or glued write)."""
    keys = []
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            try:
                if not line.endswith(b"\n"):
                    raise ValueError("the line has no end")
                record = json.loads(line)
                key = (record["kind"], record["id"])
                if not all(isinstance(part, str) and part for part in key):
                    raise ValueError("kind or id is not a string")
            except (ValueError, KeyError, TypeError) as exc:
                raise InvalidFeedFile(f"{path}: line {number} is not a complete record ({exc}); not published") from None
            keys.append(key)
    return keys
