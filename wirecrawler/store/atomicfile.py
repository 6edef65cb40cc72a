"""Files that appear complete or not at all: written under a temporary name, fsynced, renamed.

Shared by the feed storage (``wirecrawler.feeds``) and the run reports (``wirecrawler.runs.history``).
The temporary file lies beside its target, so the rename never crosses a file system, and
its name starts with a dot, so readers that list the directory skip it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO

TEMP_PREFIX = ".tmp-"  # readers skip names starting with a dot


def temp_path_beside(target: Path) -> Path:
    """A fresh temporary name in *target*'s directory."""
    return target.with_name(f"{TEMP_PREFIX}{target.name}.{secrets.token_hex(4)}")


def create_exclusively(path: Path) -> IO[bytes]:
    """Creates *path*, which must not exist, for reading and writing; its mode follows the umask like any file."""
    return os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666), "w+b")


def fsync_dir(path: Path) -> None:
    """Makes the entries of directory *path* (a new name, a rename) survive a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: Path, data: bytes) -> None:
    """Writes *data* to *target* so that readers see the old file or the whole new one, never a part.

    On any error the temporary file is removed and the error raised: *target* is untouched.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_beside(target)
    try:
        with create_exclusively(temp) as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
