"""Reading a feed place through its publication log (``wirecrawler.store.readers``): a feed directory
on real files; the shared place's path safety and missing objects on in-memory stand-ins for its
store and object storage (its tests against real servers are with ``wirecrawler.store.pgstore``'s)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

import pytest

from wirecrawler.store import publog
from wirecrawler.store.publog import LOG_NAME, PRUNED, PUBLISHED, Entry, PublicationLog
from wirecrawler.store.readers import (
    LogUnreadable,
    SharedFeeds,
    describe,
    follow,
    list_entries,
    prune,
    read_after,
    verify,
)

DAY0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def record(kind: str, n: int) -> dict:
    return {"id": f"{n:032x}", "kind": kind, "headline": f"{kind} nummer {n} — één"}


def publish(feed_dir: Path, kind: str, stamp: str, numbers, monkeypatch, at: datetime = DAY0) -> Entry:
    """Writes a feed file of records *numbers* and enters it in the log as published at *at*."""
    file = feed_dir / f"{kind}s" / f"{stamp}.jsonl"
    file.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(record(kind, n), ensure_ascii=False) + "\n" for n in numbers]
    file.write_text("".join(lines), encoding="utf-8")
    monkeypatch.setattr(publog, "_now", lambda: iso(at))
    return PublicationLog(feed_dir).append_published(file, kind=kind, records=len(lines), run=stamp)


@pytest.fixture
def feeds(tmp_path, monkeypatch):
    """Three runs: day 0 (a brief and a lead file), day 1 (a lead file), day 10 (a brief file)."""
    feed_dir = tmp_path / "feeds"
    made = [
        publish(feed_dir, "brief", "2026-11-01T10-00-00Z", [1, 2], monkeypatch, DAY0),
        publish(feed_dir, "lead", "2026-11-01T10-00-00Z", [3], monkeypatch, DAY0),
        publish(feed_dir, "lead", "2026-11-02T10-00-00Z", [4, 5, 6], monkeypatch, DAY0 + timedelta(days=1)),
        publish(feed_dir, "brief", "2026-11-11T10-00-00Z", [7], monkeypatch, DAY0 + timedelta(days=10)),
    ]
    assert [entry.seq for entry in made] == [1, 2, 3, 4]
    return feed_dir


def headlines(records: list[dict]) -> list[str]:
    return [r["headline"] for r in records]


def numbers(records: list[dict]) -> list[int]:
    return [int(r["id"], 16) for r in records]


# --- list


def test_list_gives_every_entry_with_whether_its_file_was_pruned(feeds):
    size = (feeds / "briefs/2026-11-01T10-00-00Z.jsonl").stat().st_size
    pruning = prune(feeds, 5, DAY0 + timedelta(days=10))
    assert [p.published.seq for p in pruning.pruned] == [1, 2, 3]
    listed = list_entries(feeds)
    assert [(x.entry.seq, x.entry.event, x.pruned_by) for x in listed] == [
        (1, PUBLISHED, 5), (2, PUBLISHED, 6), (3, PUBLISHED, 7), (4, PUBLISHED, None),
        (5, PRUNED, None), (6, PRUNED, None), (7, PRUNED, None),
    ]  # fmt: skip
    first = listed[0].entry
    assert (first.path, first.kind, first.records, first.run, first.at) == (
        "briefs/2026-11-01T10-00-00Z.jsonl", "brief", 2, "2026-11-01T10-00-00Z", "2026-11-01T10:00:00Z",
    )  # fmt: skip
    assert first.bytes == size
    line = describe(listed[0])
    assert "briefs/2026-11-01T10-00-00Z.jsonl" in line and "2 records" in line and "pruned (seq 5)" in line
    assert "pruned" not in describe(listed[3])
    assert "of seq 1" in describe(listed[4])


def test_list_of_a_directory_without_log_is_empty(tmp_path):
    assert list_entries(tmp_path / "nowhere") == []
    assert not (tmp_path / "nowhere").exists()


# --- read after a cursor


def test_read_after_0_gives_every_record_in_seq_order_and_the_last_seq(feeds):
    reading = read_after(feeds, 0)
    assert numbers(reading.records) == [1, 2, 3, 4, 5, 6, 7]
    assert reading.records[0] == record("brief", 1)
    assert [f.entry.seq for f in reading.files] == [1, 2, 3, 4]
    assert reading.cursor == 4 and reading.problems == []


def test_read_after_a_cursor_gives_only_the_later_files(feeds):
    reading = read_after(feeds, 2)
    assert numbers(reading.records) == [4, 5, 6, 7]
    assert reading.cursor == 4


def test_read_after_the_last_seq_gives_nothing_and_keeps_the_cursor(feeds):
    reading = read_after(feeds, 4)
    assert (reading.records, reading.cursor, reading.problems) == ([], 4, [])


def test_read_after_a_pruned_entry_gives_the_files_published_after_it(feeds, monkeypatch):
    prune(feeds, 5, DAY0 + timedelta(days=10))  # seq 5, 6, 7 prune the files of 1, 2, 3
    publish(feeds, "lead", "2026-11-12T10-00-00Z", [8], monkeypatch, DAY0 + timedelta(days=11))  # seq 8
    reading = read_after(feeds, 7)
    assert numbers(reading.records) == [8]
    assert (reading.cursor, reading.problems) == (8, [])


def test_a_file_pruned_after_the_cursor_is_reported_lost_not_skipped(feeds):
    prune(feeds, 5, DAY0 + timedelta(days=10))
    reading = read_after(feeds, 1)
    assert numbers(reading.records) == [7]  # the files still there are given all the same
    assert [(p.seq, p.path) for p in reading.problems] == [
        (2, "leads/2026-11-01T10-00-00Z.jsonl"),
        (3, "leads/2026-11-02T10-00-00Z.jsonl"),
    ]
    assert "pruned (seq 6)" in str(reading.problems[0]) and "lost to this reader" in str(reading.problems[0])
    assert reading.cursor == 7  # past the lost files: they will never come back


def test_a_file_missing_without_a_pruned_entry_is_reported_lost(feeds):
    (feeds / "leads/2026-11-02T10-00-00Z.jsonl").unlink()
    reading = read_after(feeds, 0)
    assert numbers(reading.records) == [1, 2, 3, 7]
    assert [p.seq for p in reading.problems] == [3]
    assert "missing, and no entry says it was pruned" in reading.problems[0].what


def test_a_changed_file_is_not_given_but_reported(feeds):
    path = feeds / "leads/2026-11-01T10-00-00Z.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace("nummer", "Nummer"), encoding="utf-8")
    reading = read_after(feeds, 0)
    assert numbers(reading.records) == [1, 2, 4, 5, 6, 7]
    assert [p.seq for p in reading.problems] == [2]
    assert "sha256" in reading.problems[0].what


def test_a_file_pruned_while_it_is_being_read_is_reported_pruned(feeds):
    cursor, problems, files = follow(feeds, 0)
    first = next(files)
    assert numbers(first.records) == [1, 2]
    prune(feeds, 5, DAY0 + timedelta(days=10))  # now the files of seq 2 and 3 go too
    rest = list(files)
    assert (cursor, problems) == (4, [])
    assert [str(f.problem).split(": ", 1)[1] for f in rest[:2]] == [
        "pruned (seq 6): its records are lost to this reader",
        "pruned (seq 7): its records are lost to this reader",
    ]
    assert numbers(rest[2].records) == [7]


def test_a_cursor_past_the_log_is_a_problem_and_stays(feeds):
    reading = read_after(feeds, 9)
    assert (reading.records, reading.cursor) == ([], 9)
    assert "past the log's last entry (4)" in str(reading.problems[0])


def test_read_without_a_log_keeps_the_cursor(tmp_path):
    reading = read_after(tmp_path / "feeds", 0)
    assert (reading.records, reading.cursor, reading.problems) == ([], 0, [])


def test_a_negative_cursor_is_refused(feeds):
    with pytest.raises(ValueError, match="cursor"):
        read_after(feeds, -1)


def test_files_the_log_does_not_name_are_never_read(feeds):
    (feeds / "leads/.tmp-2026-11-12T10-00-00Z.jsonl.ab12").write_text(json.dumps(record("lead", 99)) + "\n")
    (feeds / "leads/2026-11-12T10-00-00Z.jsonl").write_text(json.dumps(record("lead", 98)) + "\n")
    assert numbers(read_after(feeds, 0).records) == [1, 2, 3, 4, 5, 6, 7]
    assert verify(feeds).checked == 4


# --- verify


def test_verify_finds_nothing_wrong_in_files_as_published(feeds):
    result = verify(feeds)
    assert (result.checked, result.problems) == (4, [])


def test_verify_catches_one_changed_byte(feeds):
    path = feeds / "briefs/2026-11-11T10-00-00Z.jsonl"
    data = bytearray(path.read_bytes())
    data[data.index(b"nummer")] = ord("N")
    path.write_bytes(bytes(data))
    result = verify(feeds)
    assert [(p.seq, p.path) for p in result.problems] == [(4, "briefs/2026-11-11T10-00-00Z.jsonl")]
    assert result.problems[0].what.startswith("sha256 ")  # same size, same lines: only the digest tells


def test_verify_catches_a_missing_file(feeds):
    (feeds / "briefs/2026-11-01T10-00-00Z.jsonl").unlink()
    result = verify(feeds)
    assert [str(p) for p in result.problems] == [
        "seq 1 briefs/2026-11-01T10-00-00Z.jsonl: missing, and no entry says it was pruned"
    ]


def test_verify_catches_a_wrong_record_count(tmp_path, monkeypatch):
    feed_dir = tmp_path / "feeds"
    publish(feed_dir, "lead", "2026-11-01T10-00-00Z", [1, 2], monkeypatch)
    file = feed_dir / "leads/2026-11-01T10-00-00Z.jsonl"
    PublicationLog(feed_dir).append_published(file, kind="lead", records=3, run="2026-11-01T10-00-00Z")
    problems = verify(feed_dir).problems
    assert [(p.seq, p.what) for p in problems] == [(2, "2 lines, the log says 3 records")]


def test_verify_catches_an_invalid_line(tmp_path, monkeypatch):
    feed_dir = tmp_path / "feeds"
    file = feed_dir / "leads/2026-11-01T10-00-00Z.jsonl"
    file.parent.mkdir(parents=True)
    file.write_text(json.dumps(record("lead", 1)) + '\n{"id": "abc", "kind": \n[1, 2]\n', encoding="utf-8")
    PublicationLog(feed_dir).append_published(file, kind="lead", records=3, run="2026-11-01T10-00-00Z")
    problems = verify(feed_dir).problems
    assert [p.what for p in problems] == ["line 2 is not valid JSON", "line 3 is not a JSON object"]
    reading = read_after(feed_dir, 0)  # a reader is not given part of a file
    assert reading.records == [] and "line 2 is not valid JSON" in reading.problems[0].what


def test_verify_catches_a_file_cut_short(feeds):
    path = feeds / "leads/2026-11-02T10-00-00Z.jsonl"
    path.write_bytes(path.read_bytes()[:-20])
    whats = [p.what for p in verify(feeds).problems]
    assert any(w.startswith("size ") for w in whats)
    assert "its last line has no newline" in whats
    assert "line 3 is not valid JSON" in whats


def test_verify_does_not_look_at_pruned_files(feeds):
    prune(feeds, 5, DAY0 + timedelta(days=10))
    result = verify(feeds)
    assert (result.checked, result.problems) == (1, [])


# --- prune


def test_prune_deletes_old_files_keeps_recent_ones_and_enters_each(feeds):
    now = DAY0 + timedelta(days=10, hours=1)
    result = prune(feeds, 5, now)
    assert result.problems == []
    assert [(p.published.seq, p.pruned.seq, p.was_missing) for p in result.pruned] == [
        (1, 5, False), (2, 6, False), (3, 7, False),
    ]  # fmt: skip
    for file in result.pruned:
        assert not (feeds / file.published.path).exists()
    assert (feeds / "briefs/2026-11-11T10-00-00Z.jsonl").exists()
    pruned_entries = [e for e in PublicationLog(feeds).entries() if e.event == PRUNED]
    assert [(e.seq, e.path, e.of_seq) for e in pruned_entries] == [
        (5, "briefs/2026-11-01T10-00-00Z.jsonl", 1),
        (6, "leads/2026-11-01T10-00-00Z.jsonl", 2),
        (7, "leads/2026-11-02T10-00-00Z.jsonl", 3),
    ]


def test_prune_keeps_a_file_exactly_keep_days_old(feeds):
    assert [p.published.seq for p in prune(feeds, 9, DAY0 + timedelta(days=10)).pruned] == [1, 2]


def test_prune_is_idempotent(feeds):
    now = DAY0 + timedelta(days=10)
    assert len(prune(feeds, 5, now).pruned) == 3
    log_before = (feeds / LOG_NAME).read_bytes()
    again = prune(feeds, 5, now)
    assert (again.pruned, again.problems) == ([], [])
    assert (feeds / LOG_NAME).read_bytes() == log_before


def test_prune_enters_a_file_that_was_missing_already(feeds):
    (feeds / "leads/2026-11-01T10-00-00Z.jsonl").unlink()
    result = prune(feeds, 5, DAY0 + timedelta(days=10))
    assert [(p.published.seq, p.was_missing) for p in result.pruned] == [(1, False), (2, True), (3, False)]
    assert verify(feeds).problems == []


def test_two_prunes_at_once_enter_each_file_once(feeds):
    """Another prune deletes and enters a file while this one runs: this one does not enter it again."""
    other = PublicationLog(feeds)

    def meanwhile(done):
        if done.published.seq == 1:
            second = other.entries()[1]
            (feeds / second.path).unlink()
            other.append_pruned(second)

    result = prune(feeds, 5, DAY0 + timedelta(days=10), on_pruned=meanwhile)
    assert [p.published.seq for p in result.pruned] == [1, 3]
    pruned_entries = [(e.seq, e.of_seq) for e in other.entries() if e.event == PRUNED]
    assert pruned_entries == [(5, 1), (6, 2), (7, 3)]


def test_prune_reports_each_file_as_it_goes(feeds):
    seen = []
    result = prune(feeds, 5, DAY0 + timedelta(days=10), on_pruned=lambda p: seen.append(p.published.seq))
    assert seen == [1, 2, 3] == [p.published.seq for p in result.pruned]


def test_prune_deletes_nothing_the_log_does_not_name(feeds):
    stray = feeds / "leads/2026-10-01T10-00-00Z.jsonl"
    temp = feeds / "leads/.tmp-2026-10-01T10-00-00Z.jsonl.ab12"
    report = feeds / "reports/2026-10-01T10-00-00Z.json"
    for path in (stray, temp, report):
        path.parent.mkdir(exist_ok=True)
        path.write_text("{}\n")
    prune(feeds, 0, DAY0 + timedelta(days=100))  # everything the log names
    assert all(path.exists() for path in (stray, temp, report))
    assert (feeds / LOG_NAME).exists()
    assert verify(feeds).checked == 0


def test_prune_refuses_a_path_that_leaves_the_feed_directory(tmp_path):
    feed_dir = tmp_path / "feeds"
    feed_dir.mkdir()
    outside = tmp_path / "precious.jsonl"
    outside.write_text("{}\n")
    forged = [
        Entry(seq=1, event=PUBLISHED, path="../precious.jsonl", at=iso(DAY0), kind="lead", records=1),
        Entry(seq=2, event=PUBLISHED, path=str(outside), at=iso(DAY0), kind="lead", records=1),
        Entry(seq=3, event=PUBLISHED, path=LOG_NAME, at=iso(DAY0), kind="lead", records=1),
    ]
    (feed_dir / LOG_NAME).write_text("".join(e.to_json() + "\n" for e in forged), encoding="utf-8")
    result = prune(feed_dir, 1, DAY0 + timedelta(days=10))
    assert result.pruned == [] and [p.seq for p in result.problems] == [1, 2, 3]
    assert outside.exists() and (feed_dir / LOG_NAME).exists()
    assert [p.seq for p in verify(feed_dir).problems] == [1, 2, 3]
    assert [p.seq for p in read_after(feed_dir, 0).problems] == [1, 2, 3]


def test_prune_without_a_log_prunes_nothing_and_creates_nothing(tmp_path):
    result = prune(tmp_path / "feeds", 1, DAY0)
    assert (result.pruned, result.problems) == ([], [])
    assert not (tmp_path / "feeds").exists()


@pytest.mark.parametrize("days", [-1, float("nan"), float("inf"), "3", True])
def test_prune_refuses_a_keep_days_that_is_no_number_of_days(feeds, days):
    with pytest.raises(ValueError, match="keep_days"):
        prune(feeds, days, DAY0)


# --- the log itself


def test_a_torn_last_line_is_ignored_and_cut_by_the_next_append(feeds):
    log = feeds / LOG_NAME
    with log.open("ab") as file:
        file.write(b'{"seq": 5, "event": "published", "path": "leads/x.js')
    assert [x.entry.seq for x in list_entries(feeds)] == [1, 2, 3, 4]
    reading = read_after(feeds, 0)
    assert (numbers(reading.records), reading.cursor, reading.problems) == ([1, 2, 3, 4, 5, 6, 7], 4, [])
    assert verify(feeds).problems == []
    assert [p.pruned.seq for p in prune(feeds, 5, DAY0 + timedelta(days=10)).pruned] == [5, 6, 7]
    assert log.read_bytes().endswith(b"\n") and b"leads/x.js" not in log.read_bytes()


def test_a_damaged_line_inside_the_log_is_said_so(feeds):
    log = feeds / LOG_NAME
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = "garbage\n"
    log.write_text("".join(lines), encoding="utf-8")
    for read in (list_entries, verify, lambda d: read_after(d, 0), lambda d: prune(d, 1, DAY0)):
        with pytest.raises(LogUnreadable, match=LOG_NAME):
            read(feeds)


# --- the shared place: the log in a PostgreSQL store, the files in object storage


class MemoryStore:
    """``SharedStore`` as ``SharedFeeds`` uses it, its log a list."""

    location = "postgresql://wire@127.0.0.1:5432/wire"

    def __init__(self, log: list[Entry]):
        self.log = log

    def entries(self) -> list[Entry]:
        return list(self.log)

    def last_seq(self) -> int:
        return self.log[-1].seq if self.log else 0

    def append_pruned(self, published: Entry) -> Entry:
        entry = Entry(seq=self.last_seq() + 1, event=PRUNED, path=published.path, at=iso(DAY0), of_seq=published.seq)
        self.log.append(entry)
        return entry


class MemoryObjects:
    """``ObjectFeeds`` as ``SharedFeeds`` uses it: objects by path, and every path it was asked for."""

    url = "s3://wire/feeds"

    def __init__(self, objects: dict[str, bytes]):
        self.objects = objects
        self.asked: list[str] = []

    def read(self, path: str) -> bytes:
        self.asked.append(path)
        if path not in self.objects:
            raise FileNotFoundError(f"{self.url}/{path}: no such object")
        return self.objects[path]

    def exists(self, path: str) -> bool:
        self.asked.append(path)
        return path in self.objects

    def delete(self, path: str) -> None:  # as S3: no error for a missing object
        self.asked.append(path)
        self.objects.pop(path, None)


def shared_feeds(*files: tuple[str, datetime], missing: tuple[str, ...] = ()) -> SharedFeeds:
    """Each (path, at) published in turn, one record each; the objects of *missing* left out."""
    log, objects = [], {}
    for seq, (path, at) in enumerate(files, start=1):
        data = (json.dumps(record("lead", seq)) + "\n").encode("utf-8")
        log.append(
            Entry(seq=seq, event=PUBLISHED, path=path, at=iso(at), kind="lead", records=1, bytes=len(data),
                  sha256=sha256(data).hexdigest(), run=iso(at))
        )  # fmt: skip
        if path not in missing:
            objects[path] = data
    return SharedFeeds(MemoryStore(log), MemoryObjects(objects))


RECENT = "leads/2026-11-11T10-00-00Z.jsonl"


@pytest.mark.parametrize(
    "path",
    [
        "../precious.jsonl", "leads/../../precious.jsonl", "/leads/a.jsonl", "leads\\a.jsonl", "leads/a\0.jsonl", "",
        "leads//a.jsonl", "./leads/a.jsonl", "leads/./a.jsonl", "leads/", LOG_NAME,
    ],  # fmt: skip
)
def test_the_shared_place_asks_the_object_storage_for_no_path_but_a_plain_relative_one(path):
    place = shared_feeds((path, DAY0), (RECENT, DAY0 + timedelta(days=10)))
    reading = read_after(place, 0)
    assert numbers(reading.records) == [2]  # the plain path is read all the same
    assert [(p.seq, "not followed" in p.what) for p in reading.problems] == [(1, True)]
    assert [(p.seq, "not followed" in p.what) for p in verify(place).problems] == [(1, True)]
    pruning = prune(place, 5, DAY0 + timedelta(days=10))
    assert pruning.pruned == [] and [p.seq for p in pruning.problems] == [1]
    assert set(place.objects.asked) == {RECENT} and len(place.store.log) == 2


def test_a_shared_object_missing_without_a_pruned_entry_is_reported_lost():
    place = shared_feeds(("leads/a.jsonl", DAY0), (RECENT, DAY0), missing=("leads/a.jsonl",))
    reading = read_after(place, 0)
    assert numbers(reading.records) == [2]
    assert [(p.seq, p.what) for p in reading.problems] == [
        (1, "missing, and no entry says it was pruned: its records are lost to this reader")
    ]
    assert [str(p) for p in verify(place).problems] == ["seq 1 leads/a.jsonl: missing, and no entry says it was pruned"]


def test_the_shared_prune_enters_an_object_missing_already():
    place = shared_feeds(("leads/a.jsonl", DAY0), ("leads/b.jsonl", DAY0), missing=("leads/b.jsonl",))
    result = prune(place, 5, DAY0 + timedelta(days=10))
    assert [(p.published.seq, p.pruned.seq, p.was_missing) for p in result.pruned] == [(1, 3, False), (2, 4, True)]
    assert place.objects.objects == {}
    assert [(e.seq, e.of_seq) for e in place.store.log if e.event == PRUNED] == [(3, 1), (4, 2)]
    assert verify(place).problems == []


def test_two_shared_prunes_at_once_enter_each_object_once():
    """Another prune deletes and enters an object while this one runs: its last seq tells this one to look again."""
    place = shared_feeds(("leads/a.jsonl", DAY0), ("leads/b.jsonl", DAY0), ("leads/c.jsonl", DAY0))

    def meanwhile(done):
        if done.published.seq == 1:
            second = place.store.log[1]
            place.objects.delete(second.path)
            place.store.append_pruned(second)

    result = prune(place, 5, DAY0 + timedelta(days=10), on_pruned=meanwhile)
    assert [p.published.seq for p in result.pruned] == [1, 3]
    assert [(e.seq, e.of_seq) for e in place.store.log if e.event == PRUNED] == [(4, 1), (5, 2), (6, 3)]
