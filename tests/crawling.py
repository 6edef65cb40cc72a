"""End-to-end helpers: ``scrapy crawl`` runs, each a real subprocess, and what they published.

The local site server is ``wirecrawler.local.server.served``.

Crawls run as subprocesses because Scrapy's reactor cannot be restarted inside pytest.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from wirecrawler.local.demo import local_crawl_command
from wirecrawler.local.server import PROJECT_ROOT as ROOT

SAMPLE_SITE = ROOT / "sample_site"
CRAWL_TIMEOUT = 120


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Crawl:
    returncode: int
    log: str
    feed_dir: Path
    output: Path | None = None
    files: dict[str, list[Path]] = field(default_factory=dict)

    def records(self) -> list[dict]:
        """Every record the run published: its -O file, or its per-kind feed files."""
        if self.output is not None:
            return read_jsonl(self.output) if self.output.exists() else []
        return [r for paths in self.files.values() for path in paths for r in read_jsonl(path)]


def crawl(
    base_url: str,
    state: Path,
    *args: str,
    output: Path | None = None,
    env: dict | None = None,
    prefix: tuple[str, ...] = (),
) -> Crawl:
    """One ``scrapy crawl buitenland`` run against *base_url* with its state and feeds under *state*.

    Feed files of earlier runs in the same *state* are not reported again.
    """
    feed_dir = state / "feeds"
    before = set(feed_dir.rglob("*.jsonl")) if feed_dir.exists() else set()
    command = local_crawl_command(base_url, state / "state", feed_dir, *args)
    if output is not None:
        command += ["-O", str(output)]
    done = subprocess.run(
        [*prefix, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CRAWL_TIMEOUT,
        env={**os.environ, **(env or {})},
    )
    new = sorted(set(feed_dir.rglob("*.jsonl")) - before) if feed_dir.exists() else []
    files = {kind: [p for p in new if p.parent.name == f"{kind}s"] for kind in ("lead", "brief")}
    return Crawl(done.returncode, done.stderr, feed_dir, output, files)


def copy_site(site: Path, into: Path) -> Path:
    shutil.copytree(site, into)
    return into


def by_key(records: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["kind"], r["id"]): r for r in records}


def url_path(url: str | None) -> str | None:
    return "/" + url.split("/", 3)[3] if url and url.count("/") >= 3 else url


CONTRACT_FIELDS = [
    "headline", "url", "section", "places", "agencies", "text",
    "published_at", "published_precision", "published_label",
]  # fmt: skip


def feed_keys(where: str, data: bytes, kind: str) -> list[tuple[str, str]]:
    """The (kind, id) of every line of a feed file, each parsed as JSON; fails on any invalid line."""
    assert data.endswith(b"\n"), f"{where}: the last line has no end (a torn write): ...{data[-80:]!r}"
    keys = []
    for number, line in enumerate(data.split(b"\n")[:-1], start=1):
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"{where} line {number} is not valid JSON ({exc}): {line[:120]!r}...") from None
        assert isinstance(record, dict), f"{where} line {number} is not a JSON object"
        assert record.get("kind") == kind, f"{where} line {number}: kind {record.get('kind')!r} in the {kind}s folder"
        assert re.fullmatch(r"[0-9a-f]{32}", str(record.get("id"))), f"{where} line {number}: id {record.get('id')!r}"
        missing = [name for name in CONTRACT_FIELDS if name not in record]
        assert not missing, f"{where} line {number} lacks {missing}"
        keys.append((kind, record["id"]))
    return keys


def differences(got: list[dict], expected: list[dict]) -> list[str]:
    """Every way *got* differs from *expected*, record by record (URLs compared by path)."""
    problems = []
    have, want = by_key(got), by_key(expected)
    if len(have) != len(got):
        problems.append(f"{len(got) - len(have)} records emitted more than once")
    for key, record in want.items():
        if key not in have:
            problems.append(f"missing {key[0]} {record['headline']!r}")
            continue
        for name in CONTRACT_FIELDS:
            mine, theirs = have[key].get(name), record[name]
            if name == "url":
                mine, theirs = url_path(mine), url_path(theirs)
            if mine != theirs:
                problems.append(f"{key[0]} {record['headline']!r}: {name} is {mine!r}, expected {theirs!r}")
    problems += [f"extra {key[0]} {have[key]['headline']!r}" for key in have if key not in want]
    return problems


def stats_of(log: str) -> dict[str, int]:
    """The counters of the stats Scrapy dumps at the end of the log."""
    dump = log[log.rindex("Dumping Scrapy stats") :]
    return {key: int(value) for key, value in re.findall(r"'([^']+)': (\d+)\b", dump)}


def logged(log: str, level: str, url: str, reason: str) -> list[str]:
    """The log lines at *level* that name *url* (not a longer URL) and give *reason*."""
    names_url = re.compile(re.escape(url) + r"(?![\w/-])")
    return [line for line in log.splitlines() if f"] {level}: " in line and names_url.search(line) and reason in line]
