"""Reading a feed place as its publication log tells it: list, read after a cursor, verify, prune.

A feed place is where feed files and their publication log are. There are two kinds, and every
function here works the same on either (``FeedPlace``, what the functions need of a place):

- ``LocalFeeds``, one host's: a feed directory, the files under it and the log in its
  ``publications.log`` (``wirecrawler.store.publog``). A ``Path`` given for a place stands for
  the local place of that directory.
- ``SharedFeeds``, several hosts': the log in the shared PostgreSQL store
  (``wirecrawler.store.pgstore.SharedStore``), the files in S3-compatible object storage under
  one bucket and prefix (``wirecrawler.store.objects.ObjectFeeds``). Its entries are the same
  ``Entry`` objects and name the files by the same relative paths.

Every function here finds feed files through the log and never by listing a directory or a
bucket: a file the log does not name (a temporary file, a report, a stray copy) is neither
read, verified nor deleted. A path in the log that would leave the feed place is refused, not
followed: each place refuses it itself (``UnsafePath``), so no function can forget to.

A reader keeps a cursor, the ``seq`` of the last entry it has taken in. ``read_after`` gives it
the records of every file published after its cursor, in ``seq`` order, and the new cursor: the
log's last entry. A file published after the cursor whose file is gone (pruned on purpose, or
missing) or no longer what its entry says is a ``Problem``: its records are lost to that reader,
which is told so rather than left to notice a gap.

Plain Python with no Scrapy import; the shared place's store and storage are built by the caller,
so nothing here needs psycopg or boto3.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from wirecrawler.store.atomicfile import fsync_dir
from wirecrawler.store.publog import LOG_NAME, PRUNED, PUBLISHED, Entry, PublicationLog

if TYPE_CHECKING:  # the caller builds them: psycopg and boto3 only for the shared place
    from wirecrawler.store.objects import ObjectFeeds
    from wirecrawler.store.pgstore import SharedStore


class LogUnreadable(Exception):
    """The publication log has a complete line that is not an entry (a damaged disk, a hand edit)."""


class UnsafePath(ValueError):
    """A path in the log that a feed place does not follow: it would leave the place, or names the log."""


class FeedPlace(Protocol):
    """Where feed files and their publication log are: what the functions here need of a place."""

    name: str  # the place, for messages: the feed directory, or s3://bucket/prefix
    log_name: str  # its log, for messages: the log file, or the store's location (no password)

    def has_log(self) -> bool:
        """Whether the place has a log (a local one may have a log file with no entry yet)."""
        ...

    def entries(self) -> list[Entry]:
        """The log's complete entries, in seq order; none when there is no log."""
        ...

    def log_mark(self) -> int:
        """A cheap probe that changes whenever the log grows: read before the entries, it tells
        whether they must be read again."""
        ...

    def read(self, path: str) -> bytes:
        """The bytes of the file at *path* (as the log names it). ``FileNotFoundError`` when it is
        not there, ``UnsafePath`` when the place does not follow *path*, ``OSError`` when it
        cannot be read."""
        ...

    def delete(self, path: str) -> None:
        """Deletes the file at *path* for good, before the log may say so. ``FileNotFoundError``
        when it was not there, ``UnsafePath`` and ``OSError`` as ``read``."""
        ...

    def append_pruned(self, published: Entry) -> Entry:
        """Appends the pruned entry of *published*'s file; returns it."""
        ...

    def close(self) -> None:
        """Lets go of what the place holds open (the shared store's connection)."""
        ...


class LocalFeeds:
    """A feed directory: the files under it, its log in ``publications.log`` there."""

    def __init__(self, feed_dir: Path):
        self.feed_dir = Path(feed_dir)
        self.log = PublicationLog(self.feed_dir)
        self.name = str(self.feed_dir)
        self.log_name = str(self.log.path)

    def has_log(self) -> bool:
        return self.log.path.is_file()

    def entries(self) -> list[Entry]:
        """The log's complete entries, in order; none when there is no log. A torn last line is left out."""
        try:
            return self.log.entries()
        except (ValueError, TypeError) as exc:  # a line that is no JSON, or a JSON object that is no entry
            raise LogUnreadable(f"{self.log.path}: a line is not a publication entry: {exc}") from exc

    def log_mark(self) -> int:
        """The log file's size: every append changes it."""
        try:
            return self.log.path.stat().st_size
        except FileNotFoundError:
            return 0

    def file_of(self, path: str) -> Path:
        """The file at *path*; ``UnsafePath`` when *path* would leave the feed directory or names the log."""
        pure = PurePosixPath(path)
        leaves = not path or pure.is_absolute() or ".." in pure.parts or "\\" in path or "\0" in path
        if leaves or pure.parts in ((), (LOG_NAME,)):
            raise UnsafePath("its path leaves the feed directory or names the log")
        return self.feed_dir.joinpath(*pure.parts)

    def read(self, path: str) -> bytes:
        return self.file_of(path).read_bytes()

    def delete(self, path: str) -> None:
        file = self.file_of(path)
        file.unlink()
        fsync_dir(file.parent)  # the file is gone for good before the log says so

    def append_pruned(self, published: Entry) -> Entry:
        return self.log.append_pruned(published)

    def close(self) -> None:
        """Nothing to close: each call opens and closes what it uses."""


class SharedFeeds:
    """The shared place: the log in the shared PostgreSQL store, the files in object storage."""

    def __init__(self, store: SharedStore, objects: ObjectFeeds):
        self.store = store
        self.objects = objects
        self.name = objects.url
        self.log_name = store.location

    def has_log(self) -> bool:
        return self.store.last_seq() > 0

    def entries(self) -> list[Entry]:
        return self.store.entries()

    def log_mark(self) -> int:
        """The log's last seq: each append raises it."""
        return self.store.last_seq()

    @staticmethod
    def key_of(path: str) -> str:
        """*path* itself, once known to be a plain relative key; ``UnsafePath`` otherwise.

        An object key is taken literally, where a file system would resolve ``.``, ``..`` and
        ``//``: such a path could name another object than the file a local feed directory
        would give for it, or one above the prefix, so it is refused. The log's name is
        refused too, so that both places follow the same paths."""
        parts = path.split("/")  # "" splits into [""]: an empty path has an empty part, as has "/abs"
        plain = "\\" not in path and "\0" not in path and all(part not in ("", ".", "..") for part in parts)
        if not plain or path == LOG_NAME:
            raise UnsafePath(
                "its path is no plain relative path (an empty, '.' or '..' part, a backslash, a NUL) or names the log"
            )
        return path

    def read(self, path: str) -> bytes:
        return self.objects.read(self.key_of(path))

    def delete(self, path: str) -> None:
        key = self.key_of(path)
        # ObjectFeeds.delete is silent about a missing object, and prune must know one to enter it as missing.
        if not self.objects.exists(key):
            raise FileNotFoundError(f"{self.name}/{key}: no such object")
        self.objects.delete(key)

    def append_pruned(self, published: Entry) -> Entry:
        return self.store.append_pruned(published)

    def close(self) -> None:
        self.objects.close()
        self.store.close()


def as_place(place: FeedPlace | Path) -> FeedPlace:
    """*place*, or the local place of the feed directory *place* when it is a ``Path``."""
    return LocalFeeds(place) if isinstance(place, Path) else place


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

    def __init__(self, place: FeedPlace):
        self.place = place
        self.mark = place.log_mark()  # before reading: an append in between makes a needless re-read, no more
        self.entries = place.entries()
        self.by_seq = pruned_by(self.entries)

    def of(self, seq: int, *, fresh: bool = False) -> int | None:
        """The seq of the entry that pruned *seq*'s file; *fresh*: as the log says now."""
        if fresh and seq not in self.by_seq and (mark := self.place.log_mark()) != self.mark:
            self.mark = mark
            self.by_seq = pruned_by(self.place.entries())
        return self.by_seq.get(seq)

    def appended(self) -> None:
        """This process appended to the log: its growth so far is known."""
        self.mark = self.place.log_mark()


def list_entries(place: FeedPlace | Path) -> list[Listed]:
    """Every entry of the log, in order, each published one with the seq that pruned its file, if any."""
    log_entries = as_place(place).entries()
    pruned = pruned_by(log_entries)
    return [Listed(entry, pruned.get(entry.seq) if entry.event == PUBLISHED else None) for entry in log_entries]


def _unsafe(entry: Entry, refusal: UnsafePath) -> Problem:
    return Problem(f"{refusal}: not followed", entry.seq, entry.path)


def _why(exc: OSError) -> str:
    """What went wrong: the system's words, or the message of an error raised without them (object storage)."""
    return exc.strerror or str(exc)


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


def _read_file(place: FeedPlace, entry: Entry, prunings: _Prunings) -> FileRead:
    if (by := prunings.of(entry.seq)) is not None:
        return FileRead(entry, problem=_lost(entry, f"pruned (seq {by})"))
    try:
        data = place.read(entry.path)
    except UnsafePath as refusal:
        return FileRead(entry, problem=_unsafe(entry, refusal))
    except FileNotFoundError:
        # Pruned since the log was read? A prune appends its entry once the file is gone.
        by = prunings.of(entry.seq, fresh=True)
        what = f"pruned (seq {by})" if by is not None else "missing, and no entry says it was pruned"
        return FileRead(entry, problem=_lost(entry, what))
    except OSError as exc:
        return FileRead(entry, problem=Problem(f"cannot be read: {_why(exc)}", entry.seq, entry.path))
    lines, problems = check_content(entry, data)
    if problems:
        return FileRead(entry, problem=_lost(entry, "not the file published: " + "; ".join(p.what for p in problems)))
    return FileRead(entry, lines)


def follow(place: FeedPlace | Path, after: int) -> tuple[int, list[Problem], Iterator[FileRead]]:
    """The new cursor, the cursor's own problem (if any), and the published files after *after*,
    read one by one as the iterator is taken (so a long log is not held in memory at once).

    The new cursor is the log's last entry as it was read here: every file up to it is either
    given or reported lost. With no entry after *after* it is *after* itself. A cursor past the
    log's last entry (a log replaced, a cursor of another feed directory) is a problem, and stays.
    """
    if after < 0:
        raise ValueError(f"a cursor is a seq, 0 or more, not {after}")
    place = as_place(place)
    prunings = _Prunings(place)
    last = prunings.entries[-1].seq if prunings.entries else 0
    if after > last:
        problem = Problem(f"cursor {after} is past the log's last entry ({last}): a cursor of another feed directory?")
        return after, [problem], iter(())
    files = (
        _read_file(place, entry, prunings)
        for entry in prunings.entries
        if entry.seq > after and entry.event == PUBLISHED
    )  # fmt: skip
    return last, [], files


def read_after(place: FeedPlace | Path, after: int) -> Reading:
    """The records of every file published after the cursor *after*, in seq order, and the new cursor."""
    cursor, problems, files = follow(place, after)
    read = []
    for file in files:
        if file.problem is not None:
            problems.append(file.problem)
        else:
            read.append(file)
    return Reading(read, cursor, problems)


def verify(place: FeedPlace | Path) -> Verification:
    """Every published file not pruned, against its entry: there, same size and sha256, one line
    a record, each line a JSON object. Pruned files are not looked at."""
    place = as_place(place)
    log_entries = place.entries()
    pruned = pruned_by(log_entries)
    result = Verification(checked=0)
    for entry in log_entries:
        if entry.event != PUBLISHED or entry.seq in pruned:
            continue
        result.checked += 1
        try:
            data = place.read(entry.path)
        except UnsafePath as refusal:
            result.problems.append(_unsafe(entry, refusal))
            continue
        except FileNotFoundError:
            result.problems.append(Problem("missing, and no entry says it was pruned", entry.seq, entry.path))
            continue
        except OSError as exc:
            result.problems.append(Problem(f"cannot be read: {_why(exc)}", entry.seq, entry.path))
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
    place: FeedPlace | Path,
    keep_days: float,
    now: datetime,
    on_pruned: Callable[[PrunedFile], None] | None = None,
) -> Pruning:
    """Deletes the file of every published entry, not pruned yet, whose ``at`` is more than
    *keep_days* before *now*, and appends a pruned entry for each once its file is gone (a file
    missing already gets its entry too). Nothing the log does not name is deleted.

    *on_pruned* is called after each file's entry is appended. An ``OSError`` (a file that
    cannot be deleted, a log that cannot be appended to), or the shared store's own error, stops
    the prune and is raised, with the files pruned before it reported already; a file deleted
    without its entry is found missing and entered by the next prune. Running it again prunes
    nothing more.
    """
    if now.tzinfo is None:
        raise ValueError(f"now must be an aware datetime, not {now!r}")
    cutoff = now - timedelta(days=check_keep_days(keep_days))
    place = as_place(place)
    prunings = _Prunings(place)
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
        if live.get(entry.path, entry.seq) != entry.seq:
            what = f"a later entry (seq {live[entry.path]}) names the same file: kept"
            result.problems.append(Problem(what, entry.seq, entry.path))
            continue
        missing = False
        try:
            place.delete(entry.path)
        except UnsafePath as refusal:
            result.problems.append(_unsafe(entry, refusal))
            continue
        except FileNotFoundError:
            if prunings.of(entry.seq, fresh=True) is not None:
                continue  # another prune got there first and entered it
            missing = True
        done = PrunedFile(entry, place.append_pruned(entry), missing)
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
