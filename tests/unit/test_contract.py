"""The feed contract's JSON Schema (docs/record.schema.json): valid draft 07, true to the code and
to the sample site's expected feeds, and strict: each of its rules rejects what breaks it."""

from __future__ import annotations

import copy
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, FormatChecker

from wirecrawler.cli import main as wirecrawler_main
from wirecrawler.items import FEED_FIELDS
from wirecrawler.portal.timeline import PRECISIONS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "record.schema.json").read_text(encoding="utf-8"))
CONTRACT = (ROOT / "docs" / "CONTRACT.md").read_text(encoding="utf-8")
VALIDATOR = Draft7Validator(SCHEMA, format_checker=FormatChecker())

# The expected feeds are an oracle of what the site shows; they leave out the two fields that
# depend on where and when the crawl ran (tests/crawling.py compares CONTRACT_FIELDS only).
ORACLE_OMITS = {"scraped_at", "source_url"}
ORACLE_VALIDATOR = Draft7Validator(
    {**SCHEMA, "required": [name for name in SCHEMA["required"] if name not in ORACLE_OMITS]},
    format_checker=FormatChecker(),
)

VALID = {
    "id": "86de876a9e9974fe0cd15fb3a1742ca6",
    "kind": "brief",
    "headline": 'Canadese premier: "Akkoord met VS & Mexico over staal binnen handbereik"',
    "url": "https://www.zeelandnet.nl/nieuws/canadese-premier-akkoord-met-vs-mexico-over-staal-binnen-handbereik",
    "section": "Buitenland",
    "places": ["WASHINGTON", "OTTAWA"],
    "agencies": ["ANP", "AFP"],
    "text": "De Canadese premier verwacht dat zijn land, de Verenigde Staten en Mexico een akkoord sluiten.",
    "published_at": "2026-11-25T00:19:00+01:00",
    "published_precision": "second",
    "published_label": "45 seconden geleden",
    "scraped_at": "2026-11-24T23:20:00Z",
    "source_url": "https://www.zeelandnet.nl/nieuws/buitenland",
}


def changed(**fields) -> dict:
    record = copy.deepcopy(VALID)
    record.update(fields)
    return record


def without(name: str) -> dict:
    record = copy.deepcopy(VALID)
    del record[name]
    return record


def errors_of(record: dict, validator: Draft7Validator = VALIDATOR) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(record)'}: {e.message}" for e in validator.iter_errors(record)]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_schema_is_valid_draft_07():
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(SCHEMA)


def test_the_schema_has_the_records_fields_in_order_every_one_required():
    assert list(SCHEMA["properties"]) == FEED_FIELDS
    assert SCHEMA["required"] == FEED_FIELDS
    assert SCHEMA["additionalProperties"] is False


def test_the_schemas_precisions_are_the_codes():
    assert SCHEMA["properties"]["published_precision"]["enum"] == [*PRECISIONS, None]


def test_the_contract_document_names_every_field_and_the_schema():
    for name in FEED_FIELDS:
        assert f"`{name}`" in CONTRACT, name
    assert "record.schema.json" in CONTRACT


def test_the_example_record_is_valid():
    assert errors_of(VALID) == []


@pytest.mark.parametrize("name", ["expected-feed.jsonl", "expected-feed-full.jsonl"])
def test_the_sample_sites_expected_feeds_validate(name):
    records = read_jsonl(ROOT / "sample_site" / name)
    assert {r["kind"] for r in records} == {"lead", "brief"}
    for record in records:
        assert set(record) == set(FEED_FIELDS) - ORACLE_OMITS
        assert errors_of(record, ORACLE_VALIDATOR) == [], record["headline"]
        # ...and with the two fields a crawl adds, the whole schema.
        full = {**record, "scraped_at": "2026-11-24T23:20:00Z", "source_url": record["url"]}
        assert errors_of(full) == [], record["headline"]


def parse_command(*args: str) -> list[dict]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        assert wirecrawler_main(["parse", *args]) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("url", [[], ["--url", "https://www.zeelandnet.nl/nieuws/zuid-korea"]], ids=["no-url", "url"])
def test_the_parse_commands_records_of_flattened_text_validate(url):
    records = parse_command(str(ROOT / "tests" / "fixtures" / "seed-article.txt"), "--now", "2026-11-24T10:00:00Z", *url)
    assert {r["kind"] for r in records} == {"lead", "brief"}
    # Flattened text loses the links: its briefs have neither headline nor url.
    assert any(r["headline"] is None and r["url"] is None for r in records)
    for record in records:
        assert errors_of(record) == [], record


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(changed(published_at=None, published_precision=None, published_label=None), id="no-time"),
        pytest.param(changed(published_at="2026-07-01T09:50:00+02:00", published_precision="minute", published_label="9:50"), id="summer-time"),
        pytest.param(changed(headline=None, url=None), id="brief-from-flattened-text"),
        pytest.param(changed(kind="lead", url=None), id="lead-without-url"),
        pytest.param(changed(agencies=[]), id="places-without-agencies"),
        pytest.param(changed(places=[], agencies=[]), id="no-dateline"),
        pytest.param(changed(text=""), id="brief-without-teaser"),
        pytest.param(changed(text="Eerste alinea.\n\nTweede alinea."), id="paragraphs"),
    ],
)  # fmt: skip
def test_records_the_code_can_make_are_valid(record):
    assert errors_of(record) == []


INVALID = [
    # (id, record, the keyword that must reject it, the field it must name)
    ("extra-field", changed(summary="x"), "additionalProperties", ""),
    *[(f"missing-{name}", without(name), "required", "") for name in FEED_FIELDS],
    ("id-upper-case", changed(id="86DE876A9E9974FE0CD15FB3A1742CA6"), "pattern", "id"),
    ("id-too-short", changed(id="86de876a9e9974fe0cd15fb3a1742ca"), "pattern", "id"),
    ("id-full-sha256", changed(id="86de876a9e9974fe0cd15fb3a1742ca6" * 2), "pattern", "id"),
    ("id-trailing-newline", changed(id="86de876a9e9974fe0cd15fb3a1742ca6\n"), "maxLength", "id"),
    ("id-null", changed(id=None), "type", "id"),
    ("kind-unknown", changed(kind="article"), "enum", "kind"),
    ("kind-plural", changed(kind="briefs"), "enum", "kind"),
    ("headline-empty", changed(headline=""), "minLength", "headline"),
    ("lead-without-headline", changed(kind="lead", headline=None, url=None), "type", "headline"),
    ("url-without-headline", changed(headline=None), "type", "url"),
    ("section-empty", changed(section=""), "minLength", "section"),
    ("section-null", changed(section=None), "type", "section"),
    ("places-a-string", changed(places="WASHINGTON"), "type", "places"),
    ("places-empty-name", changed(places=[""]), "minLength", "places/0"),
    ("agencies-empty-code", changed(agencies=["ANP", ""]), "minLength", "agencies/1"),
    ("agencies-without-places", changed(places=[]), "maxItems", "agencies"),
    ("text-null", changed(text=None), "type", "text"),
    ("published-at-seconds", changed(published_at="2026-11-25T00:19:15+01:00"), "pattern", "published_at"),
    ("published-at-fraction", changed(published_at="2026-11-25T00:19:00.000+01:00"), "pattern", "published_at"),
    ("published-at-no-seconds", changed(published_at="2026-11-25T00:19+01:00"), "pattern", "published_at"),
    ("published-at-utc", changed(published_at="2026-11-24T23:19:00Z"), "pattern", "published_at"),
    ("published-at-zero-offset", changed(published_at="2026-11-24T23:19:00+00:00"), "pattern", "published_at"),
    ("published-at-naive", changed(published_at="2026-11-25T00:19:00"), "pattern", "published_at"),
    ("published-at-date-only", changed(published_at="2026-11-25"), "pattern", "published_at"),
    ("published-at-month-13", changed(published_at="2026-13-25T00:19:00+01:00"), "pattern", "published_at"),
    ("published-at-newline", changed(published_at="2026-11-25T00:19:00+01:00\n"), "maxLength", "published_at"),
    ("precision-unknown", changed(published_precision="minutes"), "enum", "published_precision"),
    ("precision-dutch", changed(published_precision="uur"), "enum", "published_precision"),
    ("precision-without-published-at", changed(published_at=None, published_label=None), "type", "published_precision"),
    ("label-without-published-at", changed(published_at=None, published_precision=None), "type", "published_label"),
    ("published-at-without-precision", changed(published_precision=None), "type", "published_precision"),
    ("published-at-without-label", changed(published_label=None), "type", "published_label"),
    ("label-empty", changed(published_label=""), "minLength", "published_label"),
    ("scraped-at-offset", changed(scraped_at="2026-11-24T23:20:00+00:00"), "pattern", "scraped_at"),
    ("scraped-at-local", changed(scraped_at="2026-11-25T00:20:00+01:00"), "pattern", "scraped_at"),
    ("scraped-at-fraction", changed(scraped_at="2026-11-24T23:20:00.5Z"), "pattern", "scraped_at"),
    ("scraped-at-lower-z", changed(scraped_at="2026-11-24T23:20:00z"), "pattern", "scraped_at"),
    ("scraped-at-newline", changed(scraped_at="2026-11-24T23:20:00Z\n"), "maxLength", "scraped_at"),
    ("scraped-at-null", changed(scraped_at=None), "type", "scraped_at"),
    ("source-url-empty", changed(source_url=""), "minLength", "source_url"),
    ("source-url-null", changed(source_url=None), "type", "source_url"),
]


@pytest.mark.parametrize(("record", "keyword", "field"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_each_rule_rejects_what_breaks_it(record, keyword, field):
    found = [(e.validator, "/".join(map(str, e.absolute_path))) for e in VALIDATOR.iter_errors(record)]
    assert found, "accepted"
    # Rejected by the rule meant...
    assert (keyword, field) in found
    # ...and for nothing but the field broken. (A missing field also leaves the if/then rules
    # about it vacuously true, which may fault its partner: "required" says what is wrong.)
    if keyword != "required":
        assert {where for _, where in found} == {field}, found
