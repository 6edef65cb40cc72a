"""Scrapy settings for wirecrawler. Every one can be overridden with ``-s NAME=VALUE``.

Scrapy's own settings only. The project's settings are named ``WIRECRAWLER_*``; each has its
default in the config object that reads it, and all are listed in ``wirecrawler.config``.
"""

import logging
import time

from wirecrawler.items import FEED_FIELDS

BOT_NAME = "wirecrawler"
SPIDER_MODULES = ["wirecrawler.spiders"]
NEWSPIDER_MODULE = "wirecrawler.spiders"
# Our `crawl` replaces Scrapy's to give the run's outcome as the exit status.
COMMANDS_MODULE = "wirecrawler.commands"

# --- Politeness: one small site, every ten minutes.
USER_AGENT = "wirecrawler/1.0 (ANP Buitenland news feed crawler; scheduled, low rate)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 10.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
RETRY_TIMES = 2
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
COOKIES_ENABLED = False
# Retries wait (wirecrawler.middlewares.RetryPacing): as long as a Retry-After asks, up to
# WIRECRAWLER_RETRY_AFTER_MAX seconds (a longer wait gives the page up for this run), else
# WIRECRAWLER_RETRY_BACKOFF seconds, doubling with each retry.
REDIRECT_MAX_TIMES = 5  # the portal redirects once, if at all: a longer chain is a loop

# --- Safety (wirecrawler.middlewares): requests stay on the start URL's site, and off non-public
# addresses it does not name. SafetyMiddleware replaces Scrapy's OffsiteMiddleware, which
# ignores ports and drops off-site redirects without reporting the page; RetryPacing must sit
# just nearer the downloader than Scrapy's RetryMiddleware (550).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "wirecrawler.middlewares.SafetyMiddleware": 50,
    "wirecrawler.middlewares.RetryPacing": 560,
}

# --- CPU (bench/README.md). Scrapy starts CONCURRENT_ITEMS asyncio tasks for every response's
# callback output, items or not; the callbacks here yield at most a listing page's dozen
# requests (the release, thousands of records, goes through synchronous pipelines one at a
# time anyway), so Scrapy's default of 100 only costs: 16 cut the benchmark crawl's time by a
# third. The garbage collector runs less often (WIRECRAWLER_GC_THRESHOLD; 0 = CPython's default).
CONCURRENT_ITEMS = 16

# --- Things a scheduled crawler does not want.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
# One time zone in the log, stated: UTC, as the wrapper's own lines (deploy/run-crawl) and the run
# reports. Scrapy makes its handler's formatter itself, a plain logging.Formatter, with no setting
# for the zone; so its class converts record times with time.gmtime in every crawl of the project.
LOG_DATEFORMAT = "%Y-%m-%dT%H:%M:%SZ"
logging.Formatter.converter = time.gmtime
LOG_FORMATTER = "wirecrawler.logformatter.ShownOnlyLogFormatter"

# --- The pipeline: sightings -> records -> dedupe -> feeds.
ITEM_PIPELINES = {
    "wirecrawler.pipelines.RecordPipeline": 100,
    "wirecrawler.pipelines.DedupePipeline": 200,
}
EXTENSIONS = {
    # Checks every setting and folder the run needs before the seen store opens: for runspider
    # and CrawlerProcess scripts (scrapy crawl checks them before it builds the crawler).
    "wirecrawler.preflight.Preflight": 50,
    "wirecrawler.extensions.SeenStoreExtension": 100,
    # Prunes feed files older than WIRECRAWLER_FEED_RETENTION_DAYS (off by default) once the run
    # published; before the verdict, so that a failed prune fails the run.
    "wirecrawler.retention.FeedRetention": 105,
    # Runs the end-of-run monitors, decides the verdict and writes the run report.
    "wirecrawler.runs.verdict.RunVerdict": 110,
    # Publish the decided run (on runs.signals.run_decided, before the last line): metrics for
    # node_exporter (WIRECRAWLER_METRICS_DIR, off by default) and <feed dir>/reports/index.html
    # (WIRECRAWLER_STATUS_PAGE, on). A failure to write either is a WARNING, never the run's failure.
    "wirecrawler.metrics.RunMetrics": 120,
    "wirecrawler.statuspage.StatusPage": 130,
    "wirecrawler.extensions.CollectorThreshold": 140,
}

# --- Feeds (docs/CONTRACT.md): one file per kind and run. Scrapy merges -O/-o into FEEDS: they add a file.
# s3: the per-kind feeds of the shared set-up (WIRECRAWLER_FEED_DIR=s3://…); other s3:// feeds stay Scrapy's.
FEED_STORAGES = {
    "file": "wirecrawler.feeds.FileFeedStorage",
    "": "wirecrawler.feeds.FileFeedStorage",
    "s3": "wirecrawler.objectfeeds.ObjectFeedStorage",
}
FEED_URI_PARAMS = "wirecrawler.feeds.uri_params"
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORTERS = {name: "wirecrawler.exporters.RecordLinesExporter" for name in ("jsonlines", "jsonl", "jl")}
FEED_EXPORT_FIELDS = FEED_FIELDS
# A run with nothing new writes no per-kind file ("store_empty": False on each entry below),
# while a -O/-o feed is written as in Scrapy: empty when there is nothing (FEED_STORE_EMPTY,
# Scrapy's default), so that a file from an earlier run never stands for this one.
FEED_STORE_EMPTY = True
# Briefs first: feeds are published (renamed into place) in this order, one after the other.
# A published lead makes the next run skip its article, and with it the "Meer uit" briefs
# that only that page shows; so a run killed between two renames must not have published
# its leads without its briefs (tests/e2e/test_crash_safety.py).
# wirecrawler_kind marks the project's own feeds: published under a free name, never over a
# file, entered in the publication log, and the only feeds that mark records seen.
FEEDS = {
    "%(feed_dir)s/briefs/%(run_start)s.jsonl": {
        "format": "jsonlines",
        "item_classes": ["wirecrawler.items.Brief"],
        "overwrite": False,
        "store_empty": False,
        "wirecrawler_kind": "brief",
    },
    "%(feed_dir)s/leads/%(run_start)s.jsonl": {
        "format": "jsonlines",
        "item_classes": ["wirecrawler.items.Lead"],
        "overwrite": False,
        "store_empty": False,
        "wirecrawler_kind": "lead",
    },
}

# --- Add-ons: old setting names first (wirecrawler.config), then rendering in Chromium
# (wirecrawler.render): tens of times slower and ~12x the memory (bench/render_bench.py), so only
# with -s WIRECRAWLER_RENDER=1; off, the add-on switches itself off.
ADDONS = {
    "wirecrawler.config.RenamedSettings": 0,
    "wirecrawler.render.addon.RenderAddon": 10,
}
