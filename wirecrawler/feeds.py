"""Feed files that appear complete or not at all, named by the run's UTC start.

``AtomicFileFeedStorage`` replaces Scrapy's file storage for every ``file`` feed, the project's
per-kind feeds and a user's ``-O``/``-o`` alike: items are written to a temporary file beside
the target, which is fsynced and renamed over the target when the feed is stored.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from scrapy.extensions.feedexport import FileFeedStorage, ItemFilter
from scrapy.utils.misc import load_object

from wirecrawler.config import WireConfig
from wirecrawler.extensions import SeenStoreExtension
from wirecrawler.runs.run import run_of
from wirecrawler.store.atomicfile import create_exclusively, fsync_dir, temp_path_beside
from wirecrawler.store.faults import crash_point
from wirecrawler.store.feednames import feed_uri_params


def uri_params(params: dict[str, Any], spider) -> dict[str, Any]:
    """``FEED_URI_PARAMS``: ``%(feed_dir)s`` and ``%(run_start)s``, and of Scrapy's parameters only
    those that cannot name a path (``wirecrawler.store.feednames.feed_uri_params``)."""
    run = run_of(spider)
    if run is None:
        raise ValueError(f"the spider {spider.name!r} declares no run (wirecrawler.runs.run.Run) to name its feeds by")
    config = WireConfig.from_settings(spider.settings)
    return feed_uri_params(params, feed_dir=str(config.feed_dir), run_start=run.stamp)


class AtomicFileFeedStorage(FileFeedStorage):
    """A file feed written under a temporary name and published by one rename.

    With ``overwrite`` off (``-o``, and the per-kind feeds), the published file is the old
    content followed by the new items, still replaced in one rename.

    With the seen store on, every step is journaled in it first (``wirecrawler.store.seen``): the
    temporary file before it is created, its (kind, id) pairs before the rename. That is what
    lets the next start settle a crawl killed anywhere in between.
    """

    published = False
    crawler = None

    def __init__(self, uri: str, *, feed_options: dict[str, Any] | None = None):
        super().__init__(uri, feed_options=feed_options)
        self.target = Path(self.path)
        self.keys: list[tuple[str, str]] = []  # (kind, id) of the records written, noted by the journal
        # The same filter the feed exporter gives this feed's slot: which records the file holds.
        self.item_filter: ItemFilter = load_object((feed_options or {}).get("item_filter", ItemFilter))(feed_options)

    @classmethod
    def from_crawler(cls, crawler, uri: str, *, feed_options: dict[str, Any] | None = None):
        storage = cls(uri, feed_options=feed_options)
        storage.crawler = crawler
        return storage

    @cached_property
    def journal(self) -> SeenStoreExtension | None:
        """The seen store's feed journal; None when the store is off (then there is no journal)."""
        extension = self.crawler.get_extension(SeenStoreExtension) if self.crawler is not None else None
        return extension if extension is not None and extension.store is not None else None

    def open(self, spider) -> IO[bytes]:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.temp_path = temp_path_beside(self.target)
        if self.journal is not None:
            self.journal.feed_file_begun(self)
        try:
            file = create_exclusively(self.temp_path)
        except BaseException:
            self._abandon()
            raise
        crash_point("feed_temp_created")
        return file

    def store(self, file: IO[bytes]) -> None:
        target = self.target
        try:
            if self.write_mode == "ab" and target.exists():
                self._prepend(target, file)
            file.flush()
            os.fsync(file.fileno())
            file.close()
            # The journal is about to take the temporary file's existence as proof that the
            # rename did not happen: its name must survive a power cut first.
            fsync_dir(target.parent)
            if self.journal is not None:
                self.journal.feed_file_complete(self)
            crash_point("before_feed_rename")
            os.replace(self.temp_path, target)
        except BaseException:
            file.close()
            self._abandon()
            raise
        self.published = True
        crash_point("after_feed_rename")
        fsync_dir(target.parent)

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
