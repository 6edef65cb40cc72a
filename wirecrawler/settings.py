"""Scrapy settings for wirecrawler. Every one can be overridden with ``-s NAME=VALUE``."""

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

# --- Things a scheduled crawler does not want.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"

# --- The pipeline: sightings -> records -> dedupe -> feeds.
ITEM_PIPELINES = {
    "wirecrawler.pipelines.RecordPipeline": 100,
    "wirecrawler.pipelines.DedupePipeline": 200,
}
EXTENSIONS = {
    "wirecrawler.extensions.SeenStoreExtension": 100,
    "wirecrawler.extensions.RunOutcome": 110,
}

# --- Feeds (FEED.md): one file per kind and run. Scrapy merges -O/-o into FEEDS: they add a file.
FEED_STORAGES = {"file": "wirecrawler.feeds.AtomicFileFeedStorage", "": "wirecrawler.feeds.AtomicFileFeedStorage"}
FEED_URI_PARAMS = "wirecrawler.feeds.uri_params"
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORT_FIELDS = FEED_FIELDS
FEED_STORE_EMPTY = False
FEEDS = {
    "%(feed_dir)s/leads/%(run_start)s.jsonl": {
        "format": "jsonlines",
        "item_classes": ["wirecrawler.items.Lead"],
        "overwrite": False,
    },
    "%(feed_dir)s/briefs/%(run_start)s.jsonl": {
        "format": "jsonlines",
        "item_classes": ["wirecrawler.items.Brief"],
        "overwrite": False,
    },
}

# --- Project settings (wirecrawler.config.WireConfig).
WIRECRAWLER_STATE_DIR = ".wirecrawler"
WIRECRAWLER_FEED_DIR = "feeds"
SEEN_STORE = None  # default: sqlite:///<WIRECRAWLER_STATE_DIR>/seen.sqlite3
