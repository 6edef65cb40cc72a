"""``python -m wirecrawler``: the project's commands besides ``scrapy crawl``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def serve(args: argparse.Namespace) -> int:
    from wirecrawler.localsite import make_server

    server = make_server(Path(args.site), port=args.port)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wirecrawler")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="serve a saved site locally with its fixed Date header")
    serve_cmd.add_argument("site", help="site directory (pages under nieuws/, the Date value in REF)")
    serve_cmd.add_argument("--port", type=int, default=0, help="port (default: a free one, printed first)")
    serve_cmd.set_defaults(handler=serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
