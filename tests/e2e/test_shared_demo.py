"""``python -m wirecrawler shared-demo`` as a person runs it: real PostgreSQL and SeaweedFS, two hosts.

The whole demo runs once (about 15 s): both hosts start at the same moment, one publishes and
the other exits 75; the one that lost runs again and publishes nothing; the publication log is
listed, the feeds copied out, and the servers are gone when it returns.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from tests.crawling import ROOT, SAMPLE_SITE

TIMEOUT = 120
HOST_LINE = re.compile(
    r"^  (?P<host>host [AB]): exit status (?P<status>\d+) in [\d.]+ s, "
    r"(?:published (?P<files>\d+) files|published nothing): (?P<verdict>.*)$"
)
LISTED = re.compile(r"^\s+\d+  published  (?P<path>\S+)  \w+  (?P<records>\d+) records  (?P<bytes>\d+) bytes  ")


def shared_demo(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wirecrawler", "shared-demo", *args],
        cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def section(lines: list[str], heading: str) -> list[str]:
    """The lines after *heading* (matched at its start) up to the next blank line."""
    start = next(n for n, line in enumerate(lines) if line.startswith(heading)) + 1
    end = next((n for n in range(start, len(lines)) if not lines[n].strip()), len(lines))
    return lines[start:end]


def hosts(lines: list[str]) -> dict[str, re.Match]:
    return {match["host"]: match for line in lines if (match := HOST_LINE.match(line))}


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_two_hosts_at_once_one_publishes_the_other_is_busy_and_publishes_nothing_after(tmp_path):
    # A relative --out, from elsewhere than the project: the servers and the crawls run in
    # folders of their own, and must all find it.
    out = tmp_path / "shared-demo"
    done = shared_demo("--site", str(SAMPLE_SITE), "--out", "shared-demo", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()

    at_once = hosts(section(lines, "Both hosts start at the same moment:"))
    assert sorted(int(match["status"]) for match in at_once.values()) == [0, 75]
    (winner,) = [match for match in at_once.values() if match["status"] == "0"]
    (loser,) = [match for match in at_once.values() if match["status"] == "75"]
    assert (winner["files"], winner["verdict"]) == ("2", "Run succeeded")
    assert loser["files"] is None
    assert re.fullmatch(
        r"Run failed: not started: the shared store postgresql://wire@127\.0\.0\.1:\d+/wirecrawler is in use by"
        r" another crawl \(.+, lease epoch 1, \d+ s left unless it renews\)",
        loser["verdict"],
    )

    again = hosts(section(lines, f"{loser['host']} again, after {winner['host']} finished:"))
    assert list(again) == [loser["host"]]
    assert (again[loser["host"]]["status"], again[loser["host"]]["files"]) == ("0", None)
    assert again[loser["host"]]["verdict"] == "Run succeeded"

    (log_heading,) = [line for line in lines if line.startswith("Publication log (")]
    assert re.fullmatch(
        r"Publication log \(python -m wirecrawler feeds --feed-dir s3://wirecrawler/feeds"
        r" --store postgresql://wire@127\.0\.0\.1:\d+/wirecrawler list\):",
        log_heading,
    )
    listed = [match for line in section(lines, "Publication log (") if (match := LISTED.match(line))]
    assert sorted(match["path"].split("/")[0] for match in listed) == ["briefs", "leads"]
    # The feeds copied out of the object storage are the files the log enters.
    for match in listed:
        copy = out / "feeds" / match["path"]
        assert copy.stat().st_size == int(match["bytes"])
        assert len(copy.read_text(encoding="utf-8").splitlines()) == int(match["records"])
    assert f"copied to {out / 'feeds'}/" in done.stdout

    # Each host's state is in its folder: a run report for each of its crawls.
    for host in ("host-a", "host-b"):
        reports = list((out / host / "state" / "feeds" / "reports").glob("*.json"))
        assert len(reports) == len(list((out / host).glob("crawl-*.log")))
    assert sorted(entry.name for entry in out.iterdir()) == [
        ".wirecrawler-shared-demo", "feeds", "host-a", "host-b", "postgresql", "seaweedfs",
    ]  # fmt: skip
    assert lines[-1] == "Stopping PostgreSQL and SeaweedFS"
    (postgres_port,) = re.findall(r"^PostgreSQL: postgresql://wire@127\.0\.0\.1:(\d+)/", done.stdout, re.MULTILINE)
    (s3_port,) = re.findall(r"^SeaweedFS: S3 at http://127\.0\.0\.1:(\d+),", done.stdout, re.MULTILINE)
    assert refuses_connections(int(postgres_port)) and refuses_connections(int(s3_port))


def test_refuses_a_folder_it_did_not_make_before_starting_anything(tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "todo.txt").write_text("mine\n")
    done = shared_demo("--out", str(out))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"shared-demo: {out} is not empty (todo.txt) and the shared demo did not make it"
        " (no .wirecrawler-shared-demo in it): name a new or empty folder with --out\n"
    )
    assert [entry.name for entry in out.iterdir()] == ["todo.txt"]
