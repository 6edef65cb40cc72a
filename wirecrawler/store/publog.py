"""The publication log: what readers follow to find every published feed file, in order.

``<feed dir>/publications.log`` holds one JSON object a line, appended and never rewritten:

- ``{"seq": 12, "event": "published", "path": "briefs/2026-11-24T10-00-00Z.jsonl", "kind":
  "brief", "records": 30, "bytes": 14210, "sha256": "…", "run": "2026-11-24T10-00-00Z",
  "at": "2026-11-24T10:00:03Z"}``: a feed file is in place, complete, and will never change;
- ``{"seq": 13, "event": "pruned", "path": "…", "of_seq": 2, "at": "…"}``: the file of entry
  ``of_seq`` was deleted on purpose (retention), so a reader can tell "pruned" from "missing".

``seq`` counts from 1 without gaps, in the order the entries were appended; ``path`` is relative
to the feed directory. An entry is appended only after its file is in place (and fsynced), and
is itself fsynced: an entry in the log always names a whole file. Writers (crawls sharing a feed
directory, the prune command) take an exclusive ``flock`` on the log for each append, so entries
never interleave and ``seq`` stays unique. A crawl killed mid-append leaves a last line without
its newline; readers ignore it, and the next append cuts it off first.

Plain Python with no Scrapy import.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

LOG_NAME = "publications.log"
PUBLISHED = "published"
PRUNED = "pruned"


@dataclass(frozen=True)
class Entry:
    seq: int
    event: str  # PUBLISHED or PRUNED
    path: str  # relative to the feed directory, "/"-separated
    at: str  # when the entry was appended, UTC ISO 8601
    kind: str | None = None  # published: "lead" or "brief"
    records: int | None = None  # published: its lines, one record each
    bytes: int | None = None  # published: the file's size
    sha256: str | None = None  # published: of the file's bytes
    run: str | None = None  # published: the run's stamp (its UTC start)
    of_seq: int | None = None  # pruned: the entry whose file was deleted

    def to_json(self) -> str:
        return json.dumps({key: value for key, value in asdict(self).items() if value is not None}, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Entry:
        return cls(**json.loads(line))


def file_digest(path: Path) -> tuple[int, str]:
    """A file's size and the SHA-256 of its bytes."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class PublicationLog:
    def __init__(self, feed_dir: Path):
        self.feed_dir = Path(feed_dir)
        self.path = self.feed_dir / LOG_NAME

    def relative(self, file: Path) -> str:
        return Path(os.path.abspath(file)).relative_to(os.path.abspath(self.feed_dir)).as_posix()

    def entries(self) -> list[Entry]:
        """Every complete entry, in order (a torn last line is left out)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        lines = text.split("\n")[:-1]  # what follows the last newline is torn or nothing
        return [Entry.from_json(line) for line in lines if line.strip()]

    def published(self, path: str) -> Entry | None:
        """The published entry of the file at *path* (relative to the feed directory), if any."""
        return next((e for e in self.entries() if e.event == PUBLISHED and e.path == path), None)

    def append_published(self, file: Path, *, kind: str, records: int, run: str) -> Entry:
        """Enter *file*, which is in place and complete, as published; returns its entry."""
        size, sha256 = file_digest(file)
        path = self.relative(file)
        with self._locked() as (last, append):
            return append(
                Entry(seq=last + 1, event=PUBLISHED, path=path, at=_now(), kind=kind, records=records,
                      bytes=size, sha256=sha256, run=run)
            )  # fmt: skip

    def append_pruned(self, published: Entry) -> Entry:
        """Enter the deletion of *published*'s file; returns the new entry."""
        with self._locked() as (last, append):
            return append(Entry(seq=last + 1, event=PRUNED, path=published.path, at=_now(), of_seq=published.seq))

    @contextmanager
    def _locked(self) -> Iterator[tuple[int, Callable[[Entry], Entry]]]:
        """The log under an exclusive lock: its last seq, and a function appending one entry."""
        self.feed_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = self._cut_torn_line(fd)

            def append(entry: Entry) -> Entry:
                data = (entry.to_json() + "\n").encode("utf-8")
                os.lseek(fd, 0, os.SEEK_END)
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(f"short write to {self.path}: {written} of {len(data)} bytes")
                os.fsync(fd)
                return entry

            yield last, append
        finally:
            os.close(fd)  # releases the lock

    def _cut_torn_line(self, fd: int) -> int:
        """Cuts off a last line left without its newline; returns the last complete entry's seq."""
        size = os.fstat(fd).st_size
        if size == 0:
            return 0
        tail_start = max(0, size - 65536)
        tail = os.pread(fd, size - tail_start, tail_start)
        end = tail.rfind(b"\n")
        if end == -1 and tail_start == 0:
            os.ftruncate(fd, 0)  # a single torn line
            os.fsync(fd)
            return 0
        if end != len(tail) - 1:
            os.ftruncate(fd, tail_start + end + 1)
            os.fsync(fd)
        complete = tail[: end + 1]
        previous = complete.rstrip(b"\n").rfind(b"\n")
        if previous == -1 and tail_start > 0:
            # An entry longer than the window: read the whole log (entries are a few hundred bytes).
            return self._last_seq_of_whole_log()
        return json.loads(complete[previous + 1 :].decode("utf-8"))["seq"]

    def _last_seq_of_whole_log(self) -> int:
        entries = self.entries()
        return entries[-1].seq if entries else 0
