"""Feed files that appear complete or not at all, named by the run's UTC start.

``AtomicFileFeedStorage`` replaces Scrapy's file storage for every ``file`` feed, the project's
per-kind feeds and a user's ``-O``/``-o`` alike: items are written to a temporary file beside
the target, which is fsynced and renamed over the target when the feed is stored.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

from scrapy.extensions.feedexport import FileFeedStorage

from wirecrawler.config import WireConfig

logger = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"  # readers skip names starting with a dot


def run_stamp(started) -> str:
    """ "2026-11-24T10-00-00Z": a run's UTC start, safe in a file name."""
    return started.strftime("%Y-%m-%dT%H-%M-%SZ")


def uri_params(params: dict[str, Any], spider) -> dict[str, Any]:
    """``FEED_URI_PARAMS``: adds ``%(feed_dir)s`` and ``%(run_start)s`` to the feed URI parameters."""
    config = WireConfig.from_settings(spider.settings)
    return {**params, "feed_dir": str(config.feed_dir), "run_start": run_stamp(spider.run_started)}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class AtomicFileFeedStorage(FileFeedStorage):
    """A file feed written under a temporary name and published by one rename.

    With ``overwrite`` off (``-o``, and the per-kind feeds), the published file is the old
    content followed by the new items, still replaced in one rename.
    """

    published = False

    def open(self, spider) -> IO[bytes]:
        target = Path(self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{target.name}.", dir=target.parent)
        self.temp_path = Path(temp)
        return os.fdopen(fd, "w+b")

    def store(self, file: IO[bytes]) -> None:
        target = Path(self.path)
        try:
            if self.write_mode == "ab" and target.exists():
                self._prepend(target, file)
            file.flush()
            os.fsync(file.fileno())
            file.close()
            os.replace(self.temp_path, target)
            _fsync_dir(target.parent)
        except BaseException:
            file.close()
            self.temp_path.unlink(missing_ok=True)
            raise
        self.published = True

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
