"""Reading a feed directory as its publication log tells it: list, read after a cursor, verify, prune.

Every function here finds feed files through the log (``wirecrawler.store.publog``) and never
by listing a directory: a file the log does not name (a temporary file, a report, a stray copy)
is neither read, verified nor deleted. A path in the log that would leave the feed directory
is refused, not followed.

A reader keeps a cursor, the ``seq`` of the last entry it has taken in. ``read_after`` gives it
the records of every file published after its cursor, in ``seq`` order, and the new cursor: the
log's last entry. A file published after the cursor whose file is gone (pruned on purpose, or
missing) or no longer what its entry says is a ``Problem``: its records are lost to that reader,
which is told so rather than left to notice a gap.

Plain Python with no Scrapy import.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path, PurePosixPath

from wirecrawler.store.atomicfile import fsync_dir
from wirecrawler.store.publog import LOG_NAME, PRUNED, PUBLISHED, Entry, PublicationLog


class LogUnreadable(Exception):
    """The publication log has a complete line that is not an entry (a damaged disk, a hand edit)."""


@dataclass(frozen=True)
class Problem:
    """Something wrong with one entry (*seq*, *path*), or with the cursor or the log (both None)."""

    what: str
    seq: int | None = None
    path: str | None = None

    def __str__(self) -> str:
        where = f"seq {self.seq} {self.path}: " if self.seq is not None else ""
        return f"{where}{self.what}"


@dataclass(frozen=True)
class Listed:
    """One entry of the log; for a published file, the seq of the entry that pruned it, if one did."""

    entry: Entry
    pruned_by: int | None = None


@dataclass(frozen=True)
class FileRead:
    """A published file read after the cursor: its lines (one JSON record each), or why it could not be."""

    entry: Entry
    lines: tuple[str, ...] = ()
    problem: Problem | None = None

    @property
    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@dataclass
class Reading:
    """What ``read_after`` found: the files in seq order, the new cursor, and the files lost to the reader."""

    files: list[FileRead]
    cursor: int
    problems: list[Problem]

    @property
    def records(self) -> list[dict]:
        return [record for file in self.files for record in file.records]


@dataclass
class Verification:
    checked: int  # published files not pruned, each compared with its entry
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class PrunedFile:
    published: Entry  # the file's published entry
    pruned: Entry  # the pruned entry appended for it
    was_missing: bool  # the file was gone already; only its entry was appended


@dataclass
class Pruning:
    pruned: list[PrunedFile]
    problems: list[Problem]  # entries old enough that were left alone, and why


def has_log(feed_dir: Path) -> bool:
    return PublicationLog(feed_dir).path.is_file()


def entries(feed_dir: Path) -> list[Entry]:
    """The log's complete entries, in order; none when there is no log. A torn last line is left out."""
    log = PublicationLog(feed_dir)
    try:
        return log.entries()
    except (ValueError, TypeError) as exc:  # a line that is no JSON, or a JSON object that is no entry
        raise LogUnreadable(f"{log.path}: a line is not a publication entry: {exc}") from exc


def pruned_by(log_entries: list[Entry]) -> dict[int, int]:
    """The seq of each published entry whose file was pruned -> the seq of the first pruned entry for it."""
    found: dict[int, int] = {}
    for entry in log_entries:
        if entry.event == PRUNED and entry.of_seq is not None:
            found.setdefault(entry.of_seq, entry.seq)
    return found


class _Prunings:
    """Which published entries a pruned entry names, from a log read once and read again only
    when a file turns out missing and the log has grown since (another prune may be at work)."""

    def __init__(self, feed_dir: Path):
        self.feed_dir = feed_dir
        self.size = self._log_size()  # before reading: an append in between makes a needless re-read, no more
        self.entries = entries(feed_dir)
        self.by_seq = pruned_by(self.entries)

    def _log_size(self) -> int:
        try:
            return PublicationLog(self.feed_dir).path.stat().st_size
        except FileNotFoundError:
            return 0

    def of(self, seq: int, *, fresh: bool = False) -> int | None:
        """The seq of the entry that pruned *seq*'s file; *fresh*: as the log says now."""
        if fresh and seq not in self.by_seq and self._log_size() != self.size:
            self.size = self._log_size()
            self.by_seq = pruned_by(entries(self.feed_dir))
        return self.by_seq.get(seq)

    def appended(self) -> None:
        """This process appended to the log: its growth so far is known."""
        self.size = self._log_size()


def list_entries(feed_dir: Path) -> list[Listed]:
    """Every entry of the log, in order, each published one with the seq that pruned its file, if any."""
    log_entries = entries(feed_dir)
    pruned = pruned_by(log_entries)
    return [Listed(entry, pruned.get(entry.seq) if entry.event == PUBLISHED else None) for entry in log_entries]


def file_of(feed_dir: Path, entry: Entry) -> Path | None:
    """The file an entry names, or None when its path would leave the feed directory or names the log."""
    path = PurePosixPath(entry.path)
    if not entry.path or path.is_absolute() or ".." in path.parts or "\\" in entry.path or "\0" in entry.path:
        return None
    if path.parts in ((), (LOG_NAME,)):
        return None
    return Path(feed_dir).joinpath(*path.parts)


def _unsafe(entry: Entry) -> Problem:
    return Problem("its path leaves the feed directory or names the log: not followed", entry.seq, entry.path)


def check_content(entry: Entry, data: bytes) -> tuple[tuple[str, ...], list[Problem]]:
    """The lines of a published file's bytes, and every way they differ from its entry (empty: none)."""
    problems: list[Problem] = []

    def problem(what: str) -> None:
        problems.append(Problem(what, entry.seq, entry.path))

    if entry.bytes is not None and len(data) != entry.bytes:
        problem(f"size {len(data)} bytes, the log says {entry.bytes}")
    if entry.sha256 is not None:
        digest = sha256(data).hexdigest()
        if digest != entry.sha256:
            problem(f"sha256 {digest}, the log says {entry.sha256}")
    pieces = data.split(b"\n")
    if pieces[-1]:
        problem("its last line has no newline")
    else:
        pieces.pop()
    if entry.records is not None and len(pieces) != entry.records:
        problem(f"{len(pieces)} lines, the log says {entry.records} records")
    lines = []
    for number, piece in enumerate(pieces, start=1):
        try:
            line = piece.decode("utf-8")
            if not isinstance(json.loads(line), dict):
                problem(f"line {number} is not a JSON object")
                continue
        except ValueError:  # UnicodeDecodeError and JSONDecodeError both are
            problem(f"line {number} is not valid JSON")
            continue
        lines.append(line)
    return tuple(lines), problems


def _lost(entry: Entry, why: str) -> Problem:
    return Problem(f"{why}: its records are lost to this reader", entry.seq, entry.path)


def _read_file(feed_dir: Path, entry: Entry, prunings: _Prunings) -> FileRead:
    if (by := prunings.of(entry.seq)) is not None:
        return FileRead(entry, problem=_lost(entry, f"pruned (seq {by})"))
    file = file_of(feed_dir, entry)
    if file is None:
        return FileRead(entry, problem=_unsafe(entry))
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        # Pruned since the log was read? A prune appends its entry once the file is gone.
        by = prunings.of(entry.seq, fresh=True)
        what = f"pruned (seq {by})" if by is not None else "missing, and no entry says it was pruned"
        return FileRead(entry, problem=_lost(entry, what))
    except OSError as exc:
        return FileRead(entry, problem=Problem(f"cannot be read: {exc.strerror}", entry.seq, entry.path))
    lines, problems = check_content(entry, data)
    if problems:
        return FileRead(entry, problem=_lost(entry, "not the file published: " + "; ".join(p.what for p in problems)))
    return FileRead(entry, lines)


def follow(feed_dir: Path, after: int) -> tuple[int, list[Problem], Iterator[FileRead]]:
    """The new cursor, the cursor's own problem (if any), and the published files after *after*,
    read one by one as the iterator is taken (so a long log is not held in memory at once).

    The new cursor is the log's last entry as it was read here: every file up to it is either
    given or reported lost. With no entry after *after* it is *after* itself. A cursor past the
    log's last entry (a log replaced, a cursor of another feed directory) is a problem, and stays.
    """
    if after < 0:
        raise ValueError(f"a cursor is a seq, 0 or more, not {after}")
    prunings = _Prunings(feed_dir)
    last = prunings.entries[-1].seq if prunings.entries else 0
    if after > last:
        problem = Problem(f"cursor {after} is past the log's last entry ({last}): a cursor of another feed directory?")
        return after, [problem], iter(())
    files = (
        _read_file(feed_dir, entry, prunings)
        for entry in prunings.entries
        if entry.seq > after and entry.event == PUBLISHED
    )  # fmt: skip
    return last, [], files


def read_after(feed_dir: Path, after: int) -> Reading:
    """The records of every file published after the cursor *after*, in seq order, and the new cursor."""
    cursor, problems, files = follow(feed_dir, after)
    read = []
    for file in files:
        if file.problem is not None:
            problems.append(file.problem)
        else:
            read.append(file)
    return Reading(read, cursor, problems)


def verify(feed_dir: Path) -> Verification:
    """Every published file not pruned, against its entry: there, same size and sha256, one line
    a record, each line a JSON object. Pruned files are not looked at."""
    log_entries = entries(feed_dir)
    pruned = pruned_by(log_entries)
    result = Verification(checked=0)
    for entry in log_entries:
        if entry.event != PUBLISHED or entry.seq in pruned:
            continue
        result.checked += 1
        file = file_of(feed_dir, entry)
        if file is None:
            result.problems.append(_unsafe(entry))
            continue
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            result.problems.append(Problem("missing, and no entry says it was pruned", entry.seq, entry.path))
            continue
        except OSError as exc:
            result.problems.append(Problem(f"cannot be read: {exc.strerror}", entry.seq, entry.path))
            continue
        result.problems += check_content(entry, data)[1]
    return result


def parse_at(text: str) -> datetime:
    """An entry's ``at`` (UTC ISO 8601, ``Z`` or an offset) as an aware datetime."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a string")
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return at


def check_keep_days(keep_days: float) -> float:
    number = isinstance(keep_days, int | float) and not isinstance(keep_days, bool)
    if not number or not math.isfinite(keep_days) or keep_days < 0:
        raise ValueError(f"keep_days must be a number of days, 0 or more, not {keep_days!r}")
    return float(keep_days)


def prune(
    feed_dir: Path,
    keep_days: float,
    now: datetime,
    on_pruned: Callable[[PrunedFile], None] | None = None,
) -> Pruning:
    """Deletes the file of every published entry, not pruned yet, whose ``at`` is more than
    *keep_days* before *now*, and appends a pruned entry for each once its file is gone (a file
    missing already gets its entry too). Nothing the log does not name is deleted.

    *on_pruned* is called after each file's entry is appended. An ``OSError`` (a file that
    cannot be deleted, a log that cannot be appended to) stops the prune and is raised, with the
    files pruned before it reported already; a file deleted without its entry is found missing
    and entered by the next prune. Running it again prunes nothing more.
    """
    if now.tzinfo is None:
        raise ValueError(f"now must be an aware datetime, not {now!r}")
    cutoff = now - timedelta(days=check_keep_days(keep_days))
    log = PublicationLog(feed_dir)
    prunings = _Prunings(feed_dir)
    live = {e.path: e.seq for e in prunings.entries if e.event == PUBLISHED and prunings.of(e.seq) is None}
    result = Pruning([], [])
    for entry in prunings.entries:
        if entry.event != PUBLISHED or prunings.of(entry.seq) is not None:
            continue
        try:
            old = parse_at(entry.at) < cutoff
        except ValueError:
            what = f"its time {entry.at!r} is not an ISO 8601 instant: kept"
            result.problems.append(Problem(what, entry.seq, entry.path))
            continue
        if not old:
            continue
        file = file_of(feed_dir, entry)
        if file is None:
            result.problems.append(_unsafe(entry))
            continue
        if live.get(entry.path, entry.seq) != entry.seq:
            what = f"a later entry (seq {live[entry.path]}) names the same file: kept"
            result.problems.append(Problem(what, entry.seq, entry.path))
            continue
        missing = False
        try:
            file.unlink()
        except FileNotFoundError:
            if prunings.of(entry.seq, fresh=True) is not None:
                continue  # another prune got there first and entered it
            missing = True
        else:
            fsync_dir(file.parent)  # the file is gone for good before the log says so
        done = PrunedFile(entry, log.append_pruned(entry), missing)
        prunings.appended()
        result.pruned.append(done)
        if on_pruned is not None:
            on_pruned(done)
    return result


def describe(listed: Listed) -> str:
    """One human-readable line for an entry of the log."""
    entry = listed.entry
    if entry.event == PUBLISHED:
        pruned = f"  pruned (seq {listed.pruned_by})" if listed.pruned_by is not None else ""
        return (
            f"{entry.seq:>6}  published  {entry.path}  {entry.kind}  {entry.records} records  "
            f"{entry.bytes} bytes  run {entry.run}  at {entry.at}{pruned}"
        )
    if entry.event == PRUNED:
        return f"{entry.seq:>6}  pruned     {entry.path}  (of seq {entry.of_seq})  at {entry.at}"
    return f"{entry.seq:>6}  {entry.event}  {entry.path}  at {entry.at}"
