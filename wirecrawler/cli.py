"""``python -m wirecrawler``: the project's commands besides ``scrapy crawl``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wirecrawler.store.readers import FeedPlace


def site_problem(site: Path) -> str | None:
    """Why *site* is no saved site to serve, or None."""
    if not site.is_dir():
        return f"no such folder: {site}"
    if not (site / "REF").is_file():
        return f"{site} is not a saved site: it has no REF file (the HTTP Date it is served with)"
    return None


def serve(args: argparse.Namespace) -> int:
    from wirecrawler.local.server import make_server

    site = Path(args.site)
    if problem := site_problem(site):
        print(f"serve: {problem}", file=sys.stderr)
        return 2
    try:
        server = make_server(site, port=args.port, access_log=args.access_log)
    except OSError as exc:
        print(f"serve: cannot listen on 127.0.0.1 port {args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a DELAY file that is not a number
        print(f"serve: {site}: {exc}", file=sys.stderr)
        return 2
    print(server.server_address[1], flush=True)  # the port, alone on the first line: scripts read it
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def demo(args: argparse.Namespace) -> int:
    from wirecrawler.local.demo import run_demo

    if problem := site_problem(Path(args.site)):
        print(f"demo: {problem}", file=sys.stderr)
        return 2
    return run_demo(Path(args.site), Path(args.out))


def shared_demo(args: argparse.Namespace) -> int:
    from wirecrawler.local.shareddemo import run_shared_demo

    if problem := site_problem(Path(args.site)):
        print(f"shared-demo: {problem}", file=sys.stderr)
        return 2
    return run_shared_demo(Path(args.site), Path(args.out))


def backfill(args: argparse.Namespace) -> int:
    from wirecrawler.backfill.driver import run_backfill

    return run_backfill(args)


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:512].lower()
    return head.startswith("<") or "<html" in head


def not_a_news_page(page, html: bool) -> str | None:
    """Why a readable page gives no records, said as the end of one line; None when it gives some.

    HTML gives records when it shows listing rows or an article. Flattened text is read as an
    article whatever it holds (its first line a headline, the rest paragraphs), so it counts only
    when it also shows what the portal's article text has: a "Meer uit <section>" list, or a
    first paragraph that opens with a wire dateline naming an agency ("SEOUL (ANP) - ...").
    """
    from wirecrawler.portal.wire import parse_dateline

    if html:
        if page.rows or page.article:
            return None
        if page.kind == "article":  # the portal's article layout, its article unreadable
            return f"no records: an article page without a readable article ({'; '.join(page.problems)})"
        return "not a news page: HTML that shows no listing rows and no article"
    if page.section is not None:
        return None
    if page.article is not None and parse_dateline(page.article.paragraphs[0]).agencies:
        return None
    return 'not a news page: text with no dateline ("PLACE (ANP) - ...") and no "Meer uit" list'


def parse(args: argparse.Namespace) -> int:
    from wirecrawler.news.records import build_record
    from wirecrawler.news.stories import StoryBook
    from wirecrawler.portal.flattext import parse_flat_text
    from wirecrawler.portal.pages import read_page
    from wirecrawler.portal.timeline import parse_iso

    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"parse: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        now = parse_iso(args.now) if args.now else datetime.now(UTC)
    except ValueError:
        print(f"parse: --now must be an ISO 8601 instant, not {args.now!r}", file=sys.stderr)
        return 2
    source = args.url or path.resolve().as_uri()
    if not body.strip():
        empty = f"holds only white space ({len(body)} bytes)" if body else "is empty"
        print(f"parse: {path}: not a news page: the file {empty}", file=sys.stderr)
        return 1
    if b"\x00" in body:
        print(f"parse: {path}: not a news page: binary data (it holds NUL bytes)", file=sys.stderr)
        return 1
    text = body.decode("utf-8", errors="replace")
    html = looks_like_html(text)
    if html:
        page = read_page(body, source)  # decoded as the crawl decodes a response
    else:
        page = parse_flat_text(text, args.url)
        page.url = source
    if page.fault:
        print(f"parse: {source}: unreadable: {page.fault}", file=sys.stderr)
        return 1
    if no_records := not_a_news_page(page, html):
        print(f"parse: {path}: {no_records}", file=sys.stderr)
        return 1
    for problem in [*page.problems, *page.irregular]:
        print(f"parse: {source}: {problem}", file=sys.stderr)
    book = StoryBook()
    book.add_page(page, now)
    for sighting in book.release():
        built = build_record(sighting)
        for problem in built.problems:
            print(f"parse: {problem}", file=sys.stderr)
        print(json.dumps(asdict(built.record), ensure_ascii=False))
    return 0


OBJECT_SCHEME = "s3://"  # a feed directory in object storage: the shared feed place
SHARED_STORE_SCHEMES = ("postgresql://", "postgres://")  # the URLs wirecrawler.store.pgstore opens


class UsageError(Exception):
    """Options or settings a command cannot work with: exit status 2, as for argparse's own."""


def feed_place_of(args: argparse.Namespace) -> FeedPlace:
    """The feed place of ``--feed-dir`` (as typed: a relative path is relative to the working
    directory), or else the crawl's, found as a crawl finds it: the project's settings, a relative
    path relative to the project root.

    A feed directory that is an ``s3://`` URL is the shared place: its files there, its log in the
    PostgreSQL store of ``--store``, or else of the setting ``WIRECRAWLER_SEEN_STORE``. Raises
    ``UsageError`` when that store is no PostgreSQL URL or ``--store`` comes with a local feed
    directory, ``SettingError`` for a setting that cannot be used, and ``SeenStoreError`` when the
    store or the object storage cannot be used.
    """
    from functools import cache

    from scrapy.utils.project import get_project_settings

    from wirecrawler.config import WireConfig
    from wirecrawler.settingvalues import SettingsReader
    from wirecrawler.store.readers import LocalFeeds, SharedFeeds

    settings = cache(get_project_settings)  # read only for what the options leave out
    feed_dir = args.feed_dir or SettingsReader(settings()).text("WIRECRAWLER_FEED_DIR", None)
    if feed_dir is None or not feed_dir.startswith(OBJECT_SCHEME):
        place = LocalFeeds(Path(args.feed_dir) if args.feed_dir else WireConfig.from_settings(settings()).feed_dir)
        if args.store:
            raise UsageError(
                f"--store is for a shared feed place ({OBJECT_SCHEME}bucket/prefix), whose log is in that store: "
                f"the log of {place.name} is {place.log_name}"
            )
        return place
    store_url = args.store or WireConfig.from_settings(settings()).seen_store
    if not store_url.startswith(SHARED_STORE_SCHEMES):
        origin = "--store" if args.store else "the setting WIRECRAWLER_SEEN_STORE"
        scheme, is_url, _ = store_url.partition("://")  # the rest may hold a password: not shown
        raise UsageError(
            f"{feed_dir} is a shared feed place, whose publication log is in a PostgreSQL store: name it with "
            f"--store postgresql://USER@HOST:PORT/DATABASE or the setting WIRECRAWLER_SEEN_STORE "
            f"({origin} is {f'a {scheme}:// URL' if is_url else 'no URL'})"
        )
    from wirecrawler.store.objects import ObjectFeeds
    from wirecrawler.store.pgstore import SharedStore

    store = SharedStore.open(store_url)
    try:
        return SharedFeeds(store, ObjectFeeds.connect(feed_dir))
    except BaseException:
        store.close()
        raise


def feeds(args: argparse.Namespace) -> int:
    from wirecrawler.settingvalues import SettingError
    from wirecrawler.store.readers import LogUnreadable
    from wirecrawler.store.seen import SeenStoreError

    try:
        place = feed_place_of(args)
    except (UsageError, SettingError) as exc:
        print(f"feeds: {exc}", file=sys.stderr)
        return 2
    except SeenStoreError as exc:  # the shared store or the object storage cannot be used
        print(f"feeds: {exc}", file=sys.stderr)
        return 1
    try:
        if not place.has_log():
            print(f"feeds: no publication log at {place.log_name}: nothing was published there yet", file=sys.stderr)
            if args.action == "verify":
                return 1  # nothing there could be verified: a wrong --feed-dir is the likelier cause
            if args.action != "read":
                return 0
            # read: the cursor stays; a cursor above 0 is another feed directory's (exit 1)
        return args.feeds_handler(place, args)
    except (LogUnreadable, SeenStoreError) as exc:  # SeenStoreError: the shared store failed mid-way
        print(f"feeds: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the log itself cannot be read (permissions)
        print(f"feeds: cannot read {exc.filename or place.name}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        place.close()


def feeds_list(place: FeedPlace, args: argparse.Namespace) -> int:
    from wirecrawler.store.readers import describe, list_entries

    for listed in list_entries(place):
        print(describe(listed))
    return 0


def feeds_read(place: FeedPlace, args: argparse.Namespace) -> int:
    from wirecrawler.store.readers import follow

    cursor, problems, files = follow(place, args.after)
    out = sys.stdout.buffer  # the records as published, UTF-8 whatever the locale
    for file in files:
        if file.problem is not None:
            problems.append(file.problem)
        out.write("".join(line + "\n" for line in file.lines).encode("utf-8"))
    out.flush()
    for problem in problems:
        print(f"feeds read: {problem}", file=sys.stderr)
    print(f"cursor: {cursor}", file=sys.stderr)
    return 1 if problems else 0


def feeds_verify(place: FeedPlace, args: argparse.Namespace) -> int:
    from wirecrawler.store.readers import verify

    result = verify(place)
    for problem in result.problems:
        print(problem)
    if result.problems:
        print(f"FAILED: {len(result.problems)} problems in {result.checked} files", file=sys.stderr)
        return 1
    print(f"OK: {result.checked} files")
    return 0


def feeds_prune(place: FeedPlace, args: argparse.Namespace) -> int:
    from wirecrawler.store.readers import prune

    def report(file) -> None:
        entry = file.published
        gone = " (missing already)" if file.was_missing else ""
        print(f"pruned {entry.path}: seq {entry.seq}, {entry.records} records, entered {entry.at}{gone}", flush=True)

    try:
        result = prune(place, args.keep_days, datetime.now(UTC), on_pruned=report)
    except OSError as exc:
        print(f"feeds prune: stopped: {exc.filename or place.name}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for problem in result.problems:
        print(f"feeds prune: {problem}", file=sys.stderr)
    return 1 if result.problems else 0


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0: a free one), not {text!r}")
    return value


def cursor(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"a cursor is a seq, 0 or more, not {text!r}")
    return value


def days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"a number of days above 0, not {text!r}")
    return value


FEEDS_HELP = """\
Read the feed directory through its publication log (publications.log): files are found by
their log entries, never by listing the directory.

A feed directory given as s3://bucket/prefix is a shared feed place, written by crawls on
several hosts: its files are in that object storage, its log in the PostgreSQL store named by
--store or the setting WIRECRAWLER_SEEN_STORE. Every action works the same on it.

exit status:
  list    0; also with no log yet (a message says so)
  read    0 when every file after the cursor was read; 1 when a file after it was pruned,
          is missing or differs from its entry (its records are lost to this reader), or the
          cursor is past the log's end. The new cursor ("cursor: N" on stderr) covers every
          entry read or reported lost; with no log yet, it stays, exit 0 (1 if it is not 0)
  verify  0 when every published, not pruned file matches its entry ("OK: N files");
          1 on any problem, and 1 with no log (nothing there could be verified)
  prune   0, also with no log or nothing old enough; 1 when a file could not be deleted or an
          entry was left alone (one line on stderr each)
  any: 1 when the log cannot be read or has a line that is not an entry, or the shared store or
       object storage cannot be used; 2 on a usage error (also: a shared feed place without a
       postgresql:// store, --store with a local feed directory, a setting that cannot be used)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wirecrawler")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="serve a saved site locally with its fixed Date header")
    serve_cmd.add_argument("site", help="site directory (pages under nieuws/, the Date value in REF)")
    serve_cmd.add_argument(
        "--port", type=port, default=0, help="port on 127.0.0.1 (default: a free one); printed first, alone on its line"
    )
    serve_cmd.add_argument("--access-log", type=Path, help="append one line per request to this file")
    serve_cmd.set_defaults(handler=serve)

    demo_cmd = commands.add_parser("demo", help="crawl a saved site served locally, twice, and show the feeds")
    demo_cmd.add_argument("--site", default="sample_site", help="site directory (default: sample_site)")
    demo_cmd.add_argument(
        "--out",
        default="demo",
        help="state, feeds and logs go here: a new or empty folder, or one an earlier demo made (its own entries "
        "are replaced, nothing else is touched); default: demo",
    )
    demo_cmd.set_defaults(handler=demo)

    shared_demo_cmd = commands.add_parser(
        "shared-demo",
        help="start PostgreSQL and SeaweedFS, crawl a saved site as two hosts sharing them, show the log; stop them",
    )
    shared_demo_cmd.add_argument("--site", default="sample_site", help="site directory (default: sample_site)")
    shared_demo_cmd.add_argument(
        "--out",
        default="shared-demo",
        help="the servers' data and logs, each host's state and the feeds copied out go here: a new or empty folder, "
        "or one an earlier shared demo made (its own entries are replaced, nothing else is touched); default: shared-demo",
    )
    shared_demo_cmd.set_defaults(handler=shared_demo)

    from wirecrawler.backfill.plan import BACKFILL_HELP, add_arguments

    backfill_cmd = commands.add_parser(
        "backfill",
        help="walk the section's archive back to a date or a page, in resumable windows that publish as they go",
        description=BACKFILL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(backfill_cmd)
    backfill_cmd.set_defaults(handler=backfill)

    parse_cmd = commands.add_parser(
        "parse",
        help="print the records of a saved page as JSON Lines",
        description="Print the records of a saved listing or article page, or of flattened page text, as JSON "
        "Lines. Exit 1, with one line saying why, for a file that gives none: binary data, an empty file, HTML "
        "that shows no listing rows and no article, text with neither a dateline nor a 'Meer uit' list.",
    )
    parse_cmd.add_argument("file", help="saved HTML of a listing or article page, or flattened page text")
    parse_cmd.add_argument("--now", help="reference instant for relative times (ISO 8601; default: now)")
    parse_cmd.add_argument("--url", help="the URL the page was saved from (links, source_url, a lead's url)")
    parse_cmd.set_defaults(handler=parse)

    feeds_cmd = commands.add_parser(
        "feeds",
        help="list, read after a cursor, verify or prune published feed files, through the publication log",
        description=FEEDS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    feeds_cmd.add_argument(
        "--feed-dir",
        metavar="DIR",
        help="the feed directory, or s3://bucket/prefix for a shared feed place (default: the crawl's, the setting "
        "WIRECRAWLER_FEED_DIR, else feeds/ in the project root, the folder of the nearest scrapy.cfg above the "
        "working directory)",
    )
    feeds_cmd.add_argument(
        "--store",
        metavar="URL",
        help="with a shared feed place: the PostgreSQL store of its publication log, "
        "postgresql://USER@HOST:PORT/DATABASE (default: the setting WIRECRAWLER_SEEN_STORE)",
    )
    feeds_cmd.set_defaults(handler=feeds)
    actions = feeds_cmd.add_subparsers(dest="action", required=True)
    list_cmd = actions.add_parser("list", help="every log entry, one line each: published files and prunings")
    list_cmd.set_defaults(feeds_handler=feeds_list)
    read_cmd = actions.add_parser(
        "read", help="the records of every file published after a cursor, as JSON Lines; the new cursor on stderr"
    )
    read_cmd.add_argument(
        "--after", type=cursor, default=0, metavar="SEQ", help="the last seq already read (default: 0, from the start)"
    )
    read_cmd.set_defaults(feeds_handler=feeds_read)
    verify_cmd = actions.add_parser("verify", help="check every published file against its entry")
    verify_cmd.set_defaults(feeds_handler=feeds_verify)
    prune_cmd = actions.add_parser("prune", help="delete files entered more than N days ago; log a pruned entry each")
    prune_cmd.add_argument(
        "--keep-days", type=days, required=True, metavar="N", help="days kept (above 0; a fraction allowed)"
    )
    prune_cmd.set_defaults(feeds_handler=feeds_prune)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
