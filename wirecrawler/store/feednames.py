"""Feed file names: a run's stamp, and the URI template parameters that cannot leave the feed directory.

Plain Python with no Scrapy import.
"""

from __future__ import annotations

from datetime import datetime


def run_stamp(started: datetime) -> str:
    """ "2026-11-24T10-00-00Z": a run's UTC start, safe in a file name."""
    return started.strftime("%Y-%m-%dT%H-%M-%SZ")


# The feed URI parameters a template may use besides the feed directory. Scrapy also offers
# every spider attribute; those are left out, so no spider argument or state reaches a path.
FEED_URI_PARAMS = ("name", "time", "batch_time", "batch_id")


def feed_uri_params(scrapy_params: dict, *, feed_dir: str, run_start: str) -> dict:
    """The values for a feed URI template: ``%(feed_dir)s`` (a path the user chose), and names
    that cannot leave it: ``%(run_start)s`` and Scrapy's own ``name``, ``time``, ``batch_time``
    and ``batch_id``, each checked to be one plain file-name part."""
    names = {key: scrapy_params[key] for key in FEED_URI_PARAMS if key in scrapy_params}
    names["run_start"] = run_start
    for key, value in names.items():
        text = str(value)
        if not text or text in (".", "..") or any(c in text for c in "/\\\0"):
            raise ValueError(f"feed URI parameter %({key})s is not a plain file name: {text!r}")
    return {**names, "feed_dir": feed_dir}


def kind_folders(feeds: dict) -> list[str]:
    """The folders, relative to the feed directory, of the per-kind feeds in *feeds* (``FEEDS``
    entries with a ``wirecrawler_kind`` under ``%(feed_dir)s``)."""
    prefix = "%(feed_dir)s/"
    folders = set()
    for uri, options in feeds.items():
        uri = str(uri)
        if (options or {}).get("wirecrawler_kind") and uri.startswith(prefix) and "/" in uri[len(prefix) :]:
            folders.add(uri[len(prefix) :].rsplit("/", 1)[0])
    return sorted(folders)
