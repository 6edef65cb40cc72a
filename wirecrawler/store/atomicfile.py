"""Files that appear complete or not at all: written under a temporary name, fsynced, then published.

Shared by the feed storage (``wirecrawler.feeds``) and the run reports (``wirecrawler.runs.history``),
which are published by a hard link: a file is never replaced, a name already taken gives the
next free one (``unclaimed_names``). The temporary file lies beside its target, so the rename never crosses a file system, and
its name starts with a dot, so readers that list the directory skip it.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
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


def replace_whole(target: Path, data: bytes, mode: int | None = None) -> Path:
    """Replaces *target* with *data*, so that readers see the old file or the whole new one: for
    files that are rewritten on purpose (metrics, the status page), never for published ones.
    *mode*: the file's permission bits whatever the umask. On any error the temporary file is
    removed, *target* is left as it was, and the error is raised."""
    temp = temp_path_beside(target)
    try:
        with create_exclusively(temp) as file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
    return target


def unclaimed_names(path: Path) -> Iterator[Path]:
    """*path*, then ``<stem>-2<suffix>``, ``<stem>-3<suffix>`` and so on, without end: the names a
    file is published under when the ones before are taken (two runs in one second, a clock set back)."""
    yield path
    for number in itertools.count(2):
        yield path.with_name(f"{path.stem}-{number}{path.suffix}")


def write_new(target: Path, data: bytes) -> Path:
    """Writes *data* to a new file: *target*, or the first free name after it (``unclaimed_names``).

    Readers see the whole file or none; an existing file is never replaced. Returns the name
    written. On any error nothing is left, neither the temporary file nor the new one, and the
    error is raised.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_beside(target)
    published: Path | None = None
    try:
        with create_exclusively(temp) as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        for name in unclaimed_names(target):  # endless: some name is free
            try:
                os.link(temp, name)
            except FileExistsError:
                continue
            published = name
            break
        temp.unlink()
        fsync_dir(target.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        if published is not None:
            published.unlink(missing_ok=True)
        raise
    return published
