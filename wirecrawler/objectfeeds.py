"""The per-kind feeds of the shared set-up: published to object storage through the shared store's log.

``FEED_STORAGES["s3"]``. With ``WIRECRAWLER_FEED_DIR=s3://bucket/prefix`` the project's
per-kind feeds (``FEEDS`` entries with ``wirecrawler_kind``) get ``ObjectFeedStorage``; any
other ``s3://`` feed (a user's ``-o s3://…``) gets Scrapy's own ``S3FeedStorage``, unchanged.

A per-kind feed is written to a local temporary file (``WireConfig.spool_dir``), read back
as the file feeds are (``wirecrawler.feeds``), and published in the steps of
``wirecrawler.store.pgstore``: its name and ids recorded as a pending upload, the upload with
"if none match" (a name taken gives the next free one, ``<stamp>-2.jsonl``), then one fenced
commit of its log entry and its ids. The steps run on the reactor's thread, as the file feeds'
do: the store's connection is the one the pipelines use, and feeds are stored once a run (a
few hundred KB), so the pause is short.
"""

from __future__ import annotations

import logging
import uuid
from functools import cached_property
from pathlib import PurePosixPath
from typing import IO, Any

from scrapy.extensions import feedexport

from wirecrawler.config import WireConfig
from wirecrawler.extensions import SeenStoreExtension
from wirecrawler.feeds import KIND_OPTION, WatchedFile, check_not_held_back, say_refusals_in_one_line
from wirecrawler.runs.run import run_of
from wirecrawler.store.atomicfile import unclaimed_names
from wirecrawler.store.faults import crash_point
from wirecrawler.store.feedfile import InvalidFeedFile, record_keys
from wirecrawler.store.objects import ObjectStoreUnavailable
from wirecrawler.store.publog import file_digest
from wirecrawler.store.seen import SeenStoreError

logger = logging.getLogger(__name__)

class ObjectFeedStorage:
    """A per-kind feed published to object storage (module docstring)."""

    published = False
    published_path: str | None = None
    # Its ids are committed with its log entry, when it is published: not when its slot closes.
    committed_when_published = True

    def __init__(self, uri: str, crawler, *, feed_options: dict[str, Any]):
        self.crawler = crawler
        self.kind: str = feed_options[KIND_OPTION]
        self.config = WireConfig.from_settings(crawler.settings)
        root = self.config.feed_root.rstrip("/") + "/"
        if not uri.startswith(root):
            raise ValueError(f"the {self.kind} feed {uri} is not under WIRECRAWLER_FEED_DIR={self.config.feed_root}")
        self.path = uri[len(root) :]  # relative to the feed root, as the log names it
        self.keys: list[tuple[str, str]] = []

    @classmethod
    def from_crawler(cls, crawler, uri: str, *, feed_options: dict[str, Any] | None = None):
        if not (feed_options or {}).get(KIND_OPTION):
            return feedexport.S3FeedStorage.from_crawler(crawler, uri, feed_options=feed_options)
        say_refusals_in_one_line()
        return cls(uri, crawler, feed_options=feed_options)

    @cached_property
    def journal(self) -> SeenStoreExtension:
        extension = self.crawler.get_extension(SeenStoreExtension)
        if extension is None or extension.objects is None:
            raise SeenStoreError(
                f"the {self.kind} feed goes to object storage, which needs the shared store: WIRECRAWLER_SEEN_STORE_ENABLED is off"
            )
        return extension

    def open(self, spider) -> IO[bytes]:
        run = run_of(spider)
        self.run = run.stamp if run is not None else None
        self.journal  # noqa: B018 - refuse now, before the crawl writes a record, if there is no store
        spool = self.config.spool_dir
        spool.mkdir(parents=True, exist_ok=True)
        self.temp_path = spool / f".tmp-{self.kind}-{uuid.uuid4().hex}.jsonl"
        self.file = WatchedFile.create(self.temp_path)
        crash_point("feed_temp_created")
        return self.file

    def store(self, file: IO[bytes]) -> None:
        try:
            if self.file.failed_write is not None:
                raise InvalidFeedFile(f"{self.temp_path}: a write failed ({self.file.failed_write}); not published")
            if not file.closed:
                file.close()
            check_not_held_back(self.path, self.kind, self.journal)
            self.keys = record_keys(self.temp_path)
            size, sha256 = file_digest(self.temp_path)
            self.published_path, added = self._publish(size, sha256)
        finally:
            file.close()
            self.temp_path.unlink(missing_ok=True)
        self.published = True
        self.journal.feed_file_published(self)
        self.crawler.stats.inc_value("wirecrawler/seen_committed", added)
        logger.info(
            "Published %s/%s (%d records); shared store %s: %d new ids committed",
            self.journal.objects.url, self.published_path, len(self.keys), self.journal.store.location, added,
        )  # fmt: skip

    def _publish(self, size: int, sha256: str) -> tuple[str, int]:
        """Under the first free name: record it as pending, upload, commit; the name and the ids new."""
        store, objects = self.journal.store, self.journal.objects
        for candidate in unclaimed_names(PurePosixPath(self.path)):  # endless: some name is free
            name = candidate.as_posix()
            if not store.claim_upload(name, self.keys, kind=self.kind, run=self.run):
                continue  # published already, or another crawl's upload
            crash_point("before_feed_rename")
            try:
                uploaded = objects.put_new(name, self.temp_path)
            except OSError as failed:
                self._withdraw(name, uploaded=True)  # it may have landed before the error
                raise ObjectStoreUnavailable(f"{failed}; not published") from failed
            if not uploaded:  # an object no entry names (garbage of a fenced-off crawl): not ours
                self._withdraw(name, uploaded=False)
                continue
            crash_point("after_feed_rename")
            try:
                entry, added = store.publish_upload(name, size=size, sha256=sha256)
            except SeenStoreError:
                self._withdraw(name, uploaded=True)
                raise
            crash_point("after_seen_commit")
            return entry.path, added

    def _withdraw(self, name: str, *, uploaded: bool) -> None:
        """An upload that was not published: drop its pending record, then its object. If the store
        cannot be reached (or the lease is lost), both stay for the next crawl's recovery."""
        store, objects = self.journal.store, self.journal.objects
        try:
            if store.drop_upload(name) and uploaded:
                objects.delete(name)
        except (SeenStoreError, OSError) as exc:
            logger.warning("Left %s/%s for the next crawl to delete: %s", objects.url, name, exc)

