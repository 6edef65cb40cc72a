"""Feed files that appear complete or not at all, named by the run's UTC start, never changed once published.

``FileFeedStorage`` replaces Scrapy's file storage for every ``file`` feed, the project's
per-kind feeds and a user's ``-O``/``-o`` alike: items are written to a temporary file beside
the target, which is fsynced and then published under the target's name in one step.

The project's per-kind feeds (``FEEDS`` entries with the option ``wirecrawler_kind``) are the
publication: each file is read back before it is published, and only a file whose every line is
a complete, valid record is; the (kind, id) pairs it holds are what the seen store commits. It is
published by a hard link, which never replaces a file: a name already taken (two runs in one
second, a clock set back) gives the next free one, ``<stamp>-2.jsonl`` and so on. Then it is
entered in the feed directory's publication log (``wirecrawler.store.publog``). A ``-O``/``-o``
file is Scrapy's: replaced (``-O``) or extended (``-o``) in one rename, and it marks nothing seen.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from scrapy.extensions import feedexport
from scrapy.utils.misc import load_object

from wirecrawler.config import WireConfig
from wirecrawler.extensions import SeenStoreExtension
from wirecrawler.runs.run import run_of
from wirecrawler.store.atomicfile import fsync_dir, temp_path_beside, unclaimed_names
from wirecrawler.store.faults import crash_point
from wirecrawler.store.feedfile import InvalidFeedFile, record_keys
from wirecrawler.store.feednames import feed_uri_params
from wirecrawler.store.publog import PublicationLog
from wirecrawler.store.seen import SeenStoreError

KIND_OPTION = "wirecrawler_kind"  # FEEDS option: this feed publishes the records of that kind
# A published lead makes the next run skip its article, and with it the "Meer uit" briefs that
# only that page shows: so a run publishes its leads only once all its briefs are published
# (FEEDS lists the briefs first, and Scrapy stores feeds in that order).
WAITS_FOR = {"lead": "brief"}


def uri_params(params: dict[str, Any], spider) -> dict[str, Any]:
    """``FEED_URI_PARAMS``: ``%(feed_dir)s`` and ``%(run_start)s``, and of Scrapy's parameters only
    those that cannot name a path (``wirecrawler.store.feednames.feed_uri_params``)."""
    run = run_of(spider)
    if run is None:
        raise ValueError(f"the spider {spider.name!r} declares no run (wirecrawler.runs.run.Run) to name its feeds by")
    config = WireConfig.from_settings(spider.settings)
    return feed_uri_params(params, feed_dir=config.feed_root, run_start=run.stamp)


class HeldBack(RuntimeError):
    """A feed not published because a feed it waits for (``WAITS_FOR``) was not."""


class UnpublishedWithoutTraceback(logging.Filter):
    """Scrapy logs a feed that could not be stored with the exception's traceback. A feed this
    storage refused on purpose (a torn or failed write, held back), or one a store it publishes
    through refused (a lost lease, a server gone: ``SeenStoreError``), is said in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        refused = record.exc_info[1] if record.exc_info else None
        if isinstance(refused, (InvalidFeedFile, HeldBack, SeenStoreError)):
            record.msg, record.args = f"{record.getMessage()}: {refused}", ()
            record.exc_info = record.exc_text = None
        return True


FEED_EXPORT_LOGGER = logging.getLogger(feedexport.__name__)


def say_refusals_in_one_line() -> None:
    """Installs ``UnpublishedWithoutTraceback`` on Scrapy's feed export logger, once."""
    if not any(isinstance(f, UnpublishedWithoutTraceback) for f in FEED_EXPORT_LOGGER.filters):
        FEED_EXPORT_LOGGER.addFilter(UnpublishedWithoutTraceback())


def check_not_held_back(feed: str, kind: str, journal: SeenStoreExtension | None) -> None:
    """Raises ``HeldBack`` when the *kind* feed *feed* waits for a kind (``WAITS_FOR``) that this
    run emitted and did not publish."""
    waits_for = WAITS_FOR.get(kind)
    if waits_for is not None and journal is not None and journal.has_unpublished(waits_for):
        raise HeldBack(
            f"{feed}: not published, because this run's {waits_for} records were not: the next run"
            f" would skip the pages of these {kind} records and the {waits_for} records only they show"
        )


class WatchedFile(io.BufferedRandom):
    """A feed's temporary file that remembers a failed write: Scrapy's feed exporter logs such
    an error and goes on with the next record, so the file may lack a record or hold part of one."""

    failed_write: OSError | None = None

    @classmethod
    def create(cls, path: Path) -> WatchedFile:
        """Creates *path*, which must not exist; its mode follows the umask like any file."""
        return cls(io.FileIO(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666), "r+"))

    def write(self, data) -> int:
        try:
            return super().write(data)
        except OSError as exc:
            self.failed_write = exc
            raise

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            self.failed_write = exc
            raise


class FileFeedStorage(feedexport.FileFeedStorage):
    """Scrapy's file feed storage, written under a temporary name and published in one step.

    Named as Scrapy's own, so that Scrapy's stats about it (``feedexport/success_count/
    FileFeedStorage``) keep the names users monitor.

    With the seen store on, every step is journaled in it first (``wirecrawler.store.seen``): the
    temporary file before it is created; its (kind, id) pairs and the name it gets before it is
    published. That is what lets the next start settle a crawl killed anywhere in between.
    """

    published = False
    published_path: Path | None = None
    crawler = None

    def __init__(self, uri: str, *, feed_options: dict[str, Any] | None = None):
        super().__init__(uri, feed_options=feed_options)
        options = feed_options or {}
        self.target = Path(self.path)
        self.kind: str | None = options.get(KIND_OPTION)  # a per-kind feed of the project: it publishes
        self.keys: list[tuple[str, str]] = []  # (kind, id) of the records in the file, read back before publishing
        # The same filter the feed exporter gives this feed's slot: which records the file holds.
        self.item_filter = load_object(options.get("item_filter", feedexport.ItemFilter))(feed_options)

    @classmethod
    def from_crawler(cls, crawler, uri: str, *, feed_options: dict[str, Any] | None = None):
        say_refusals_in_one_line()
        storage = cls(uri, feed_options=feed_options)
        storage.crawler = crawler
        return storage

    @cached_property
    def journal(self) -> SeenStoreExtension | None:
        """The seen store's feed journal; None when the store is off (then there is no journal)."""
        extension = self.crawler.get_extension(SeenStoreExtension) if self.crawler is not None else None
        return extension if extension is not None and extension.store is not None else None

    @cached_property
    def log(self) -> PublicationLog | None:
        """The publication log a per-kind feed is entered in; None for other feeds."""
        if self.kind is None or self.crawler is None:
            return None
        return PublicationLog(WireConfig.from_settings(self.crawler.settings).feed_dir)

    def open(self, spider) -> IO[bytes]:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.temp_path = temp_path_beside(self.target)
        run = run_of(spider)
        self.run = run.stamp if run is not None else None
        if self.journal is not None:
            self.journal.feed_file_begun(self)
        try:
            file = self.file = WatchedFile.create(self.temp_path)
        except BaseException:
            self._abandon()
            raise
        crash_point("feed_temp_created")
        return file

    def store(self, file: IO[bytes]) -> None:
        try:
            if self.file.failed_write is not None:
                raise InvalidFeedFile(f"{self.temp_path}: a write failed ({self.file.failed_write}); not published")
            if file.closed:  # a post-processing plugin may close its output itself (Scrapy allows it)
                file = self.temp_path.open("r+b")
            if self.write_mode == "ab" and self.kind is None and self.target.exists():
                self._prepend(self.target, file)
            file.flush()
            os.fsync(file.fileno())
            super().store(file)  # Scrapy's own step: it closes the file
            if self.log is not None:
                check_not_held_back(str(self.target), self.kind, self.journal)
                self.keys = record_keys(self.temp_path)
            # The journal is about to take the temporary file's existence as proof that the
            # feed was not published: its name must survive a power cut first.
            fsync_dir(self.target.parent)
            if self.log is not None:
                published = self._link_unclaimed_name()
            else:
                if self.journal is not None:
                    self.journal.feed_file_complete(self, self.target)
                crash_point("before_feed_rename")
                os.replace(self.temp_path, self.target)
                published = self.target
        except BaseException:
            file.close()
            self._abandon()
            raise
        self.published, self.published_path = True, published
        if self.journal is not None:
            self.journal.feed_file_published(self)
        crash_point("after_feed_rename")
        fsync_dir(self.target.parent)
        if self.log is not None:
            self.log.append_published(published, kind=self.kind, records=len(self.keys), run=self.run)

    def _link_unclaimed_name(self) -> Path:
        """Publishes the temporary file under the first free name; a link never replaces a file."""
        journaled = False
        for name in unclaimed_names(self.target):  # endless: some name is free
            if name.exists():
                continue
            if self.journal is not None:
                self.journal.feed_file_complete(self, name, renamed=journaled)
                journaled = True
            crash_point("before_feed_rename")
            try:
                os.link(self.temp_path, name)
            except FileExistsError:  # another run took it in between
                continue
            self.temp_path.unlink()
            return name

    def _abandon(self) -> None:
        if self.journal is not None:
            self.journal.feed_file_abandoned(self)
        else:
            self.temp_path.unlink(missing_ok=True)

    def _prepend(self, target: Path, file: IO[bytes]) -> None:
        """Old content first, then what this run wrote: the appended feed, in the temporary file."""
        file.seek(0)
        with tempfile.TemporaryFile() as new_items:
            shutil.copyfileobj(file, new_items)
            new_items.seek(0)
            file.seek(0)
            file.truncate()
            with target.open("rb") as old:
                shutil.copyfileobj(old, file)
            shutil.copyfileobj(new_items, file)
