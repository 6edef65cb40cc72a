"""The backfill's pure parts: the walk's windows and stops, the state file, the progress figures;
the spider's ``first_page``; the archive generator the backfill is tested and measured on."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from testsites.archive import Archive
from wirecrawler.backfill import plan, progress
from wirecrawler.backfill.driver import BackfillBusy, DirectoryLock, store_lock_holder
from wirecrawler.backfill.plan import PlanError, Walk, Window
from wirecrawler.backfill.state import BackfillState, StateError, load, save
from wirecrawler.cli import build_parser
from wirecrawler.spiders.buitenland import BuitenlandSpider, listing_page_url

URL = "https://www.zeelandnet.nl/nieuws/buitenland"
NOW = datetime(2026, 11, 24, 23, 20, tzinfo=UTC)


# --- the walk


def windows_of(walk: Walk, size: int, pages_in_archive: int) -> list[tuple[int, int]]:
    """The (first, last) listing pages each window reads, the archive having that many pages."""
    read, next_page, done = [], walk.from_page, 0
    while (window := plan.next_window(walk, next_page, done, size)) is not None:
        got = min(window.last, pages_in_archive) - window.first + 1
        read.append((window.first, window.first + got - 1))
        end = plan.after_window(walk, window, got)
        done, next_page = done + 1, end.next_page
        if end.finished:
            break
    return read


def test_each_window_starts_at_the_last_page_of_the_one_before():
    assert windows_of(Walk(URL), 4, 12) == [(1, 4), (4, 7), (7, 10), (10, 12)]
    assert windows_of(Walk(URL), 4, 10) == [(1, 4), (4, 7), (7, 10), (10, 10)]  # the last window reads one page


def test_pages_end_the_walk_and_bound_the_last_window():
    assert windows_of(Walk(URL, pages=9), 4, 100) == [(1, 4), (4, 7), (7, 9)]
    assert windows_of(Walk(URL, pages=7), 4, 100) == [(1, 4), (4, 7)]
    assert windows_of(Walk(URL, pages=1), 4, 100) == [(1, 1)]
    assert windows_of(Walk(URL, from_page=50, pages=5), 3, 100) == [(50, 52), (52, 54)]


def test_a_window_that_reads_fewer_pages_than_it_could_ends_the_walk_and_says_why():
    window = Window(number=3, first=7, pages=4)
    end = plan.after_window(Walk(URL), window, 2, "listing page 8 is the archive's last")
    assert end == plan.WindowEnd("listing page 8 is the archive's last", 8)
    assert plan.after_window(Walk(URL), window, 4) == plan.WindowEnd(None, 10)


def test_a_window_is_two_pages_at_least():
    with pytest.raises(PlanError, match="2 listing pages at least"):
        plan.next_window(Walk(URL), 1, 0, 1)


def test_until_is_the_start_of_that_day_on_the_sites_calendar():
    walk = Walk(URL, until=date(2026, 11, 20))
    assert walk.until_instant() == datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # midnight in Amsterdam (CET)
    assert walk.max_age_hours(NOW) == pytest.approx(5 * 24 + 20 / 60)
    assert Walk(URL).max_age_hours(NOW) == plan.NO_AGE_LIMIT_HOURS
    with pytest.raises(PlanError, match="not in the past"):
        Walk(URL, until=date(2026, 11, 25)).max_age_hours(NOW - timedelta(minutes=21))


def test_a_windows_crawl_starts_at_its_first_page_and_reads_its_pages():
    arguments = plan.crawl_arguments(Walk(URL, until=date(2026, 11, 20)), Window(2, 20, 20), NOW)
    assert arguments == [
        "-a", f"start_url={URL}", "-a", "first_page=20", "-a", "max_pages=20", "-a", "max_age_hours=120.333333",
    ]  # fmt: skip


def test_the_rate_can_only_be_lowered():
    assert plan.rate_settings(None, 0.25, 10.0) == []
    assert plan.rate_settings(60, 0.25, 10.0) == ["-s", "DOWNLOAD_DELAY=1"]
    assert plan.rate_settings(3, 0.25, 10.0) == ["-s", "DOWNLOAD_DELAY=20", "-s", "AUTOTHROTTLE_MAX_DELAY=20"]
    assert plan.rate_settings(1000, 0.0, 10.0) == ["-s", "DOWNLOAD_DELAY=0.06"]  # no delay set: any rate lowers it
    with pytest.raises(PlanError, match="only lower.*240 pages a minute"):
        plan.rate_settings(240, 0.25, 10.0)


def test_the_schedules_starts_are_on_the_clock():
    assert plan.next_tick(datetime(2026, 11, 24, 10, 3, 20, tzinfo=UTC), 10) == datetime(2026, 11, 24, 10, 10, tzinfo=UTC)
    assert plan.next_tick(datetime(2026, 11, 24, 10, 10, tzinfo=UTC), 10) == datetime(2026, 11, 24, 10, 20, tzinfo=UTC)
    assert plan.next_tick(datetime(2026, 11, 24, 23, 55, tzinfo=UTC), 10) == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def test_a_window_that_would_run_into_the_scheduled_crawl_waits_for_it():
    at = datetime(2026, 11, 24, 10, 7, 0, tzinfo=UTC)
    tick = datetime(2026, 11, 24, 10, 10, tzinfo=UTC)
    assert plan.tick_to_yield_to(at, 100, 10) is None  # 100 s and a margin end before 10:10
    assert plan.tick_to_yield_to(at, 175, 10) == tick
    assert plan.tick_to_yield_to(at, None, 10) is None  # the first window: its length is unknown
    assert plan.tick_to_yield_to(at, 175, 0) is None  # --yield-every 0
    assert plan.tick_to_yield_to(at, 560, 10) is None  # windows too long to fit between two runs: go ahead


def test_the_command_line_refuses_bad_options():
    parser = build_parser()
    args = parser.parse_args(["backfill", "--until", "2024-01-01", "--window", "5", "-s", "A=1", "-s", "B=2=3"])
    assert (args.until, args.window, args.settings, args.yield_every) == (date(2024, 1, 1), 5, ["A=1", "B=2=3"], 10.0)
    for bad in (["--window", "1"], ["--pages", "0"], ["--until", "2024-13-01"], ["--max-rate", "-3"], ["-s", "X"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["backfill", *bad])


# --- the state file


def test_the_state_file_is_read_back_as_written(tmp_path):
    path = tmp_path / "state" / "backfill.json"
    assert load(path) is None
    state = BackfillState.new(Walk(URL, pages=30, until=date(2024, 1, 1)), "2026-11-24T10:00:00Z")
    state.next_page, state.records["lead"], state.in_flight = 20, 12, {"window": 2, "started": "x", "log_offset": 5}
    save(path, state)
    assert load(path) == state
    assert [p.name for p in path.parent.iterdir()] == ["backfill.json"]  # no temporary file left
    assert load(path).walk == Walk(URL, pages=30, until=date(2024, 1, 1))


@pytest.mark.parametrize("text", ["", "{", "[]", '{"version": 9}', '{"version": 1, "start_url": "x"}'])
def test_a_state_file_that_is_not_one_is_refused_in_one_line(tmp_path, text):
    path = tmp_path / "backfill.json"
    path.write_text(text)
    with pytest.raises(StateError, match="is not a backfill state.*--restart"):
        load(path)


def test_a_walk_with_other_options_is_told_apart_from_the_one_in_progress():
    state = BackfillState.new(Walk(URL, pages=30), "2026-11-24T10:00:00Z")
    assert state.differs_from(Walk(URL, pages=30)) is None
    assert state.differs_from(Walk(URL, pages=40, until=date(2024, 1, 1))) == (
        "--pages 40 (in progress: 30), --until 2024-01-01 (in progress: (none))"
    )


# --- what a window did


LOG = """\
2026-11-24T10:00:00Z [scrapy.extensions.logstats] INFO: Crawled 0 pages (at 0 pages/min), scraped 0 items (at 0 items/min)
2026-11-24T10:00:05Z [scrapy.extensions.logstats] INFO: Crawled 37 pages (at 444 pages/min), scraped 0 items (at 0 items/min)
2026-11-24T10:00:06Z [wirecrawler.spiders.buitenland] INFO: Listing page 12 (http://x/nieuws/buitenland?page=12) has no next page
2026-11-24T10:00:07Z [wirecrawler.runs.verdict] INFO: Run report {report} written (exit status 0); 0 older reports removed, 50 kept at most
2026-11-24T10:00:07Z [wirecrawler.runs.verdict] INFO: Run succeeded
"""


def test_a_windows_log_gives_its_progress_its_report_and_why_it_stopped_short(tmp_path):
    report = tmp_path / "reports" / "2026-11-24T10-00-00Z.json"
    report.parent.mkdir()
    report.write_text(json.dumps({
        "exit_status": 0, "pages": {"listing": 3, "article": 25},
        "feeds": [
            {"uri": str(tmp_path / "briefs/2026-11-24T10-00-00Z.jsonl"), "records": 30, "published": True},
            {"uri": str(tmp_path / "leads/2026-11-24T10-00-00Z.jsonl"), "records": 25, "published": True},
            {"uri": str(tmp_path / "out.jsonl"), "records": 55, "published": False},
        ],
    }))  # fmt: skip
    log = LOG.format(report=report)
    assert progress.crawled_so_far(log) == 37
    assert progress.crawled_so_far("nothing yet") is None
    assert progress.why_short(log) == "listing page 12 is the archive's last"
    assert progress.last_line(log) == "Run succeeded"
    result = progress.read_result(log)
    assert (result.exit_status, result.listing_pages, result.article_pages) == (0, 3, 25)
    assert result.records == {"brief": 30, "lead": 25}
    assert progress.read_result("no report") is None
    older = "[x] INFO: Stopping at listing page 40: every row is older than 10 days, 0:00:00"
    assert progress.why_short(older) == "listing page 40 shows only stories older than --until"


def entry(seq: int, kind: str, run: str, records: int) -> str:
    return json.dumps({"seq": seq, "event": "published", "path": f"{kind}s/{run}.jsonl", "kind": kind,
                       "records": records, "run": run}) + "\n"  # fmt: skip


def test_what_a_window_published_is_read_from_the_publication_log_after_where_it_ended(tmp_path):
    log = tmp_path / "publications.log"
    assert progress.log_end(log) == 0
    assert progress.published_since(log, 0, "x") is None  # no log here: the shared set-up
    log.write_text(entry(1, "brief", "2026-11-24T09-50-00Z", 7) + '{"seq": 2, "ev')  # a torn last line
    offset = progress.log_end(log)
    assert offset == len(entry(1, "brief", "2026-11-24T09-50-00Z", 7))
    # The next append cuts the torn line off, then the window's entries; a scheduled run that held
    # the store before the window started appends too, with an earlier stamp.
    log.write_text(
        entry(1, "brief", "2026-11-24T09-50-00Z", 7) + entry(2, "brief", "2026-11-24T09-59-58Z", 3)
        + entry(3, "brief", "2026-11-24T10-00-01Z", 30) + entry(4, "lead", "2026-11-24T10-00-01Z", 25)
    )  # fmt: skip
    published = progress.published_since(log, offset, "2026-11-24T10-00-00Z")
    assert published.records == {"brief": 30, "lead": 25}
    assert published.files == [str(tmp_path / "briefs/2026-11-24T10-00-01Z.jsonl"), str(tmp_path / "leads/2026-11-24T10-00-01Z.jsonl")]


def test_the_oldest_story_published_is_how_far_back_the_walk_has_come(tmp_path):
    feed = tmp_path / "briefs.jsonl"
    times = ["2026-03-02T10:00:00+01:00", None, "2026-02-27T23:30:00+01:00", "2026-04-01T08:00:00+02:00"]
    feed.write_text("".join(json.dumps({"published_at": t}) + "\n" for t in times))
    assert progress.oldest_published([str(feed), str(tmp_path / "gone.jsonl"), "s3://bucket/x.jsonl"]) == times[2]
    assert progress.older("2026-03-02T10:00:00+01:00", None) == "2026-03-02T10:00:00+01:00"
    assert progress.older("2026-03-02T10:00:00+01:00", "2026-03-02T09:30:00+00:00") == "2026-03-02T10:00:00+01:00"


def state_after(walk: Walk, **done) -> BackfillState:
    state = BackfillState.new(walk, "2026-11-24T10:00:00Z")
    for key, value in done.items():
        setattr(state, key, value)
    return state


def test_with_pages_the_pages_to_come_are_the_listing_pages_left_with_their_articles():
    state = state_after(
        Walk(URL, pages=100), last_page=20, listing_pages=21, article_pages=210, work_seconds=60.0,
        records={"brief": 200, "lead": 200},
    )  # fmt: skip
    figures = progress.figures(state, NOW)
    assert (figures.pages_fetched, figures.pages_left, figures.total) == (231, 880, 1111)
    assert figures.pages_per_minute == pytest.approx(231)
    assert figures.seconds_left == pytest.approx(60 * 880 / 231)
    assert progress.describe(figures) == (
        "231 pages fetched, about 880 to come; listing page 20 of 100; 400 records published; 231 pages/min; about 3 min left"
    )
    assert progress.postfix(figures) == "231 pages/min, 3 min left, listing 20/100, 400 records"
    running = progress.figures(state, NOW, running_pages=40, running_seconds=10)
    assert (running.pages_fetched, running.pages_left) == (271, 840)


def test_with_until_the_pages_to_come_follow_from_how_far_back_the_walk_has_come():
    walk = Walk(URL, until=date(2025, 11, 24))
    # A quarter of the year back to that day walked in 10 listing pages: 30 more to go.
    state = state_after(walk, last_page=10, listing_pages=10, article_pages=90, work_seconds=50.0, reached="2026-08-25T10:00:00+02:00")
    figures = progress.figures(state, NOW)
    assert figures.fraction == pytest.approx(0.25, abs=0.01)
    assert figures.pages_left == pytest.approx(300, abs=5)
    assert figures.reached == "2026-08-25"
    assert "back to 2026-08-25" in progress.describe(figures)
    unknown = progress.figures(state_after(Walk(URL), last_page=3, listing_pages=3, work_seconds=5.0), NOW)
    assert (unknown.pages_left, unknown.total, unknown.seconds_left) == (None, None, None)
    done = progress.figures(state_after(Walk(URL), last_page=3, listing_pages=3, finished="x", work_seconds=5.0), NOW)
    assert done.pages_left == 0 and progress.describe(done).endswith("; done")


def test_durations_are_said_in_words():
    assert [progress.duration(s) for s in (0, 59.9, 60, 3599, 3600, 11100)] == ["0 s", "59 s", "1 min", "59 min", "1 h 00 min", "3 h 05 min"]


# --- the locks


def test_one_backfill_per_state_directory(tmp_path):
    lock = DirectoryLock(tmp_path / "backfill.lock")
    try:
        with pytest.raises(BackfillBusy, match=f"another backfill runs with {tmp_path} \\(pid {os.getpid()}\\)"):
            DirectoryLock(tmp_path / "backfill.lock")
    finally:
        lock.release()
    DirectoryLock(tmp_path / "backfill.lock").release()


def test_the_seen_stores_holder_is_the_live_process_its_lock_file_names(tmp_path):
    lock = tmp_path / "seen.sqlite3.lock"
    assert store_lock_holder(None) is None
    assert store_lock_holder(lock) is None
    lock.write_text("")
    assert store_lock_holder(lock) is None  # emptied: released cleanly
    lock.write_text(f"{os.getpid()}\n")
    assert store_lock_holder(lock) == os.getpid()
    no_such_process = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    lock.write_text(f"{no_such_process}\n")
    assert store_lock_holder(lock) is None  # a killed crawl's pid


# --- the spider's first page


def test_the_spider_starts_at_its_first_page():
    assert listing_page_url(URL, 1) == URL
    assert listing_page_url(URL, 7) == f"{URL}?page=7"
    assert listing_page_url(f"{URL}?page=3&x=1", 5) == f"{URL}?x=1&page=5"
    spider = BuitenlandSpider(start_url=URL, first_page="40", max_pages="20")
    assert (spider.first_page, spider.max_pages, spider.run.start_url) == (40, 20, URL)


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_the_spider_refuses_a_bad_first_page(value):
    with pytest.raises(ValueError, match="first_page must be a positive number"):
        BuitenlandSpider(first_page=value)


# --- the archive generator


def test_the_archive_lists_every_story_once_and_shifts_down_as_news_arrives():
    archive = Archive(5, spacing=timedelta(hours=6))
    assert [len(archive.on_page(page)) for page in range(1, 6)] == [10] * 5
    assert sorted(n for page in range(1, 6) for n in archive.on_page(page)) == list(range(50))
    assert len({archive.story(n).id for n in archive.numbers()}) == 50
    later = Archive(5, spacing=timedelta(hours=6), new=3)
    assert later.on_page(1) == [-3, -2, -1, 0, 1, 2, 3, 4, 5, 6] and later.last_page == 6
    assert later.on_page(6) == [47, 48, 49]
    assert later.story(5) == archive.story(5)  # the same story, three spacings older
    assert archive.label(archive.story(5)) == "1 dag geleden" and later.label(later.story(5)) == "2 dagen geleden"
    assert archive.listing_html(6) is None and archive.article_html("no-such-story") is None
    assert archive.respond("/nieuws/buitenland?page=2")[0] == 200 and archive.respond("/nieuws/buitenland?page=x")[0] == 404


# --- making way for the scheduled crawl


@pytest.fixture
def waiting_backfill(tmp_path, monkeypatch):
    """A backfill whose windows take 175 s, at 10:07 on a clock that moves only as it waits; each
    wait first runs the scenario's events due by then. Returns (backfill, clock, events)."""
    from argparse import Namespace

    from wirecrawler.backfill import driver

    clock = {"now": datetime(2026, 11, 24, 10, 7, tzinfo=UTC)}
    events: list[tuple[datetime, object]] = []
    setup = driver.Setup(
        state_dir=tmp_path, reports_dir=tmp_path / "reports", publication_log=tmp_path / "publications.log",
        store_lock=tmp_path / "seen.sqlite3.lock", download_delay=0.25, autothrottle_max_delay=10.0,
        default_start_url=URL,
    )  # fmt: skip
    args = Namespace(yield_every=10.0, window=20, progress="lines", settings=[])
    backfill = driver.Backfill(args, setup, Walk(URL), [])
    backfill.window_seconds = [175.0]

    def wait(seconds: float) -> bool:
        clock["now"] += timedelta(seconds=seconds)
        while events and events[0][0] <= clock["now"]:
            events.pop(0)[1]()
        return False

    monkeypatch.setattr(backfill, "wait", wait)
    monkeypatch.setattr(driver, "_utc_now", lambda: clock["now"])
    return backfill, clock, events


TICK = datetime(2026, 11, 24, 10, 10, tzinfo=UTC)


def test_with_no_scheduled_crawl_showing_up_the_backfill_waits_a_little_past_the_start(waiting_backfill):
    backfill, clock, _ = waiting_backfill
    assert backfill.yield_to_schedule(Window(3, 40, 20)) is False
    assert TICK + timedelta(seconds=45) < clock["now"] <= TICK + timedelta(seconds=47)


def test_the_backfill_waits_while_the_scheduled_crawl_holds_the_store(waiting_backfill, tmp_path):
    backfill, clock, events = waiting_backfill
    lock = tmp_path / "seen.sqlite3.lock"
    events += [
        (TICK + timedelta(seconds=3), lambda: lock.write_text(f"{os.getpid()}\n")),
        (TICK + timedelta(seconds=90), lambda: lock.write_text("")),  # longer than the 45 s grace
    ]
    assert backfill.yield_to_schedule(Window(3, 40, 20)) is False
    assert TICK + timedelta(seconds=90) <= clock["now"] <= TICK + timedelta(seconds=92)


def test_a_report_written_since_the_start_ends_the_wait(waiting_backfill, tmp_path):
    backfill, clock, events = waiting_backfill
    report = tmp_path / "reports" / "2026-11-24T10-10-00Z.json"

    def write_report() -> None:
        report.parent.mkdir()
        report.write_text("{}")
        os.utime(report, (clock["now"].timestamp(),) * 2)

    events.append((TICK + timedelta(seconds=20), write_report))
    assert backfill.yield_to_schedule(Window(3, 40, 20)) is False
    assert TICK + timedelta(seconds=20) <= clock["now"] <= TICK + timedelta(seconds=21)


def test_a_window_that_ends_before_the_scheduled_start_does_not_wait(waiting_backfill):
    backfill, clock, _ = waiting_backfill
    backfill.window_seconds = [60.0]
    assert backfill.yield_to_schedule(Window(3, 40, 20)) is False
    assert clock["now"] == datetime(2026, 11, 24, 10, 7, tzinfo=UTC)
