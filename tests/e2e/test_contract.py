"""End to end: every record a real crawl of the sample site publishes, in the per-kind feeds (found
through the publication log too) and in an ``-O`` file, is valid against the contract's JSON
Schema (docs/record.schema.json)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft7Validator, FormatChecker

from tests.crawling import ROOT, crawl, read_jsonl

SCHEMA = json.loads((ROOT / "docs" / "record.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft7Validator(SCHEMA, format_checker=FormatChecker())
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="module")
def run(site_url, tmp_path_factory):
    state = tmp_path_factory.mktemp("contract")
    done = crawl(site_url, state, output=state / "out.jsonl")
    assert done.returncode == 0, done.log[-3000:]
    return done


def errors_of(record: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(record)'}: {e.message}" for e in VALIDATOR.iter_errors(record)]


def feed_records(run) -> dict[str, list[dict]]:
    return {kind: [r for path in paths for r in read_jsonl(path)] for kind, paths in run.files.items()}


def story_key(record: dict) -> tuple[str, str]:
    return record["kind"], record["id"]


def check(record: dict) -> None:
    assert errors_of(record) == [], record
    assert list(record) == list(SCHEMA["properties"]), "fields out of the contract's order"
    # Beyond the schema: the offset is Amsterdam's at that instant (+01:00 in winter, +02:00 in summer).
    if record["published_at"] is not None:
        published = datetime.fromisoformat(record["published_at"])
        assert published.utcoffset() == published.astimezone(AMSTERDAM).utcoffset(), record["published_at"]


def test_every_record_of_the_per_kind_feeds_is_valid(run):
    published = feed_records(run)
    for kind, records in published.items():
        assert records, f"no {kind} published"
        for record in records:
            assert record["kind"] == kind
            check(record)


def test_every_record_of_the_extra_output_file_is_valid(run):
    records = read_jsonl(run.output)
    assert {r["kind"] for r in records} == {"lead", "brief"}
    for record in records:
        check(record)
    # The -O file holds the records the per-kind feeds published, no others.
    in_feeds = [r for records in feed_records(run).values() for r in records]
    assert sorted(records, key=story_key) == sorted(in_feeds, key=story_key)


def test_a_lead_and_the_brief_of_its_story_share_id_and_time(run):
    published = feed_records(run)
    briefs = {r["id"]: r for r in published["brief"]}
    paired = [(lead, briefs[lead["id"]]) for lead in published["lead"] if lead["id"] in briefs]
    assert paired
    for lead, brief in paired:
        times = ("published_at", "published_precision", "published_label")
        assert [lead[t] for t in times] == [brief[t] for t in times], lead["headline"]


def test_the_publication_log_names_every_feed_file_and_its_records_are_valid(run):
    """Read as a reader reads (docs/CONTRACT.md, "The cursor protocol"): files found through the log alone."""
    text = (run.feed_dir / "publications.log").read_text(encoding="utf-8")
    entries = [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert {e["event"] for e in entries} == {"published"}
    files = sorted(path for paths in run.files.values() for path in paths)
    assert sorted(run.feed_dir / e["path"] for e in entries) == files
    for entry in entries:
        data = (run.feed_dir / entry["path"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"])
        records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
        assert len(records) == entry["records"]
        for record in records:
            assert record["kind"] == entry["kind"]
            check(record)
