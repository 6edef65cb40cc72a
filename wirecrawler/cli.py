"""``python -m wirecrawler``: the project's commands besides ``scrapy crawl``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path


def serve(args: argparse.Namespace) -> int:
    from wirecrawler.local.server import make_server

    server = make_server(Path(args.site), port=args.port, access_log=args.access_log)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def demo(args: argparse.Namespace) -> int:
    from wirecrawler.local.demo import run_demo

    return run_demo(Path(args.site), Path(args.out))


def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:512].lower()
    return head.startswith("<") or "<html" in head


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
    text = body.decode("utf-8", errors="replace")
    if looks_like_html(text):
        page = read_page(body, source)  # decoded as the crawl decodes a response
    else:
        page = parse_flat_text(text, args.url)
        page.url = source
    if page.fault:
        print(f"parse: {source}: unreadable: {page.fault}", file=sys.stderr)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wirecrawler")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="serve a saved site locally with its fixed Date header")
    serve_cmd.add_argument("site", help="site directory (pages under nieuws/, the Date value in REF)")
    serve_cmd.add_argument("--port", type=int, default=0, help="port (default: a free one, printed first)")
    serve_cmd.add_argument("--access-log", type=Path, help="append one line per request to this file")
    serve_cmd.set_defaults(handler=serve)

    demo_cmd = commands.add_parser("demo", help="crawl a saved site served locally, twice, and show the feeds")
    demo_cmd.add_argument("--site", default="sample_site", help="site directory (default: sample_site)")
    demo_cmd.add_argument("--out", default="demo", help="state and feeds go here; emptied first (default: demo)")
    demo_cmd.set_defaults(handler=demo)

    parse_cmd = commands.add_parser("parse", help="print the records of a saved page as JSON Lines")
    parse_cmd.add_argument("file", help="saved HTML of a listing or article page, or flattened page text")
    parse_cmd.add_argument("--now", help="reference instant for relative times (ISO 8601; default: now)")
    parse_cmd.add_argument("--url", help="the URL the page was saved from (links, source_url, a lead's url)")
    parse_cmd.set_defaults(handler=parse)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
