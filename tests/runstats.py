"""Crawler stats as a run leaves them, for the end-of-run monitors and the run's verdict."""

from __future__ import annotations


def healthy_stats(**changes) -> dict:
    """The stats of a healthy first run of the sample site, with *changes* ("a__b" for "a/b";
    None removes a stat)."""
    healthy = {
        "wirecrawler/pages/listing": 3,
        "wirecrawler/rows/listing": 30,
        "wirecrawler/pages/article": 29,
        "wirecrawler/rows/more_news": 203,
        "wirecrawler/records_built/lead": 29,
        "wirecrawler/records_built/brief": 30,
        "wirecrawler/emitted/lead": 29,
        "wirecrawler/emitted/brief": 30,
        "downloader/response_status_count/200": 34,
    }
    for kind, parsed in (("lead", 29), ("brief", 30)):
        for name, missing in (("places", 2), ("agencies", 3), ("text", 0), ("published_at", 1)):
            healthy[f"wirecrawler/fields_filled/{kind}/{name}"] = parsed - missing
    for key, value in changes.items():
        key = key.replace("__", "/")
        if value is None:
            healthy.pop(key, None)
        else:
            healthy[key] = value
    return healthy
