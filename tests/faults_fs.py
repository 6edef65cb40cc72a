"""Real file-system faults for end-to-end tests: a small tmpfs, filled up, freed while a crawl runs.

Linux and root only (``mount -t tmpfs``), as in CI. A helper that cannot mount raises
``FaultSetupError`` with the reason: the test then fails, it is never skipped.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from wirecrawler.store.atomicfile import TEMP_PREFIX

PAGE = 4096  # tmpfs allocates whole pages


class FaultSetupError(RuntimeError):
    """The fault could not be set up (no root, no mount): the test must fail, not pass or skip."""


@contextmanager
def tmpfs(mount_point: Path, size: int) -> Iterator[Path]:
    """A tmpfs of *size* bytes mounted at *mount_point* (created if missing), unmounted after."""
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        raise FaultSetupError(
            f"cannot mount a tmpfs at {mount_point} (these tests need root on Linux, as in CI): "
            f"{mounted.stderr.strip() or mounted.returncode}"
        )
    try:
        yield mount_point
    finally:
        done = subprocess.run(["umount", str(mount_point)], capture_output=True, text=True)
        if done.returncode != 0:  # something still open in it: detach it rather than leak the mount
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, text=True)


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(file_system: Path, leave: int = 0) -> Path:
    """Fills the file system of *file_system* with one file until writes fail, then gives back
    *leave* bytes (a multiple of the page size); returns the filler's path."""
    if leave % PAGE:
        raise ValueError(f"leave must be a multiple of {PAGE}, not {leave}")
    filler = file_system / "filler"
    chunk = b"\0" * (1 << 16)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        while True:
            try:
                if os.write(fd, chunk) < len(chunk):
                    continue  # the last pages: the next write fails
            except OSError as exc:
                if exc.errno != 28:  # ENOSPC
                    raise
                break
        if leave:
            os.ftruncate(fd, os.fstat(fd).st_size - leave)
    finally:
        os.close(fd)
    if free_bytes(file_system) != leave:
        raise FaultSetupError(f"{file_system} has {free_bytes(file_system)} bytes free, not {leave}")
    return filler


def temp_files(feed_dir: Path) -> list[Path]:
    """The temporary feed files in *feed_dir* and its folders (one level down)."""
    found = []
    for folder in (feed_dir, *(p for p in _entries(feed_dir) if p.is_dir())):
        found += [p for p in _entries(folder) if p.name.startswith(TEMP_PREFIX)]
    return found


def _entries(folder: Path) -> list[Path]:
    try:
        return [Path(entry.path) for entry in os.scandir(folder)]
    except (FileNotFoundError, NotADirectoryError):
        return []


class Watcher(threading.Thread):
    """A background thread that waits for *condition* (polled every half millisecond), waits
    *delay* seconds more, then calls *action* once. ``fired_at`` is the monotonic time of the action."""

    def __init__(self, condition: Callable[[], bool], action: Callable[[], None], *, delay: float, timeout: float):
        super().__init__(daemon=True)
        self.condition, self.action, self.delay, self.timeout = condition, action, delay, timeout
        self.seen_at: float | None = None
        self.fired_at: float | None = None
        self.error: BaseException | None = None
        self._cancel = threading.Event()

    def run(self) -> None:
        try:
            deadline = time.monotonic() + self.timeout
            while not self.condition():
                if self._cancel.is_set() or time.monotonic() > deadline:
                    return
                time.sleep(0.0005)
            self.seen_at = time.monotonic()
            time.sleep(self.delay)
            self.action()
            self.fired_at = time.monotonic()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def stop(self) -> None:
        self._cancel.set()
        self.join(timeout=10)
