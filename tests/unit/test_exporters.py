"""The records' JSON lines exporter writes exactly the bytes Scrapy's own exporter writes."""

from __future__ import annotations

import io

import pytest
from scrapy.exporters import JsonLinesItemExporter

from wirecrawler.exporters import RecordLinesExporter
from wirecrawler.items import FEED_FIELDS, Brief, Lead


def lead() -> Lead:
    return Lead(
        id="b15828a769adad44479d1a44a89e0487",
        kind="lead",
        headline='Israëlische krijgsmacht: "nieuwe aanvalsgolf" op Teheran',
        url="https://www.zeelandnet.nl/nieuws/israelische-krijgsmacht",
        section="Buitenland",
        places=["TEHERAN", "TEL AVIV"],
        agencies=["ANP", "AFP"],
        text="De krijgsmacht zegt.\n\nTweede alinea met een tab\t en \\ en een emoji 🚀.",
        published_at="2026-11-24T10:00:00+01:00",
        published_precision="minute",
        published_label="9:00",
        scraped_at="2026-11-24T09:00:00Z",
        source_url="https://www.zeelandnet.nl/nieuws/israelische-krijgsmacht",
    )


def brief() -> Brief:
    return Brief(
        id="0" * 32, kind="brief", headline=None, url=None, section="Buitenland", places=[], agencies=[],
        text="", published_at=None, published_precision=None, published_label=None,
        scraped_at="2026-11-24T09:00:00Z", source_url="https://www.zeelandnet.nl/nieuws/buitenland",
    )  # fmt: skip


def exported(exporter_class, items, **options) -> bytes:
    file = io.BytesIO()
    exporter = exporter_class(file, **options)
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    return file.getvalue()


@pytest.mark.parametrize(
    "options",
    [
        {"fields_to_export": FEED_FIELDS, "encoding": "utf-8"},  # the project's feeds
        {"fields_to_export": FEED_FIELDS},  # no encoding: ASCII escapes
        {"fields_to_export": ["headline", "id"], "encoding": "utf-8"},  # some fields, in another order
        {"fields_to_export": ["headline", "not_a_field"], "encoding": "utf-8"},  # Scrapy's way
        {"fields_to_export": {"headline": "titel", "id": "id"}, "encoding": "utf-8"},  # renamed: Scrapy's way
        {"encoding": "utf-8"},  # every field, Scrapy's way
    ],
)
def test_records_are_written_as_scrapy_writes_them(options):
    items = [lead(), brief(), {"kind": "lead", "id": "a dict, not a record"}]
    mine = exported(RecordLinesExporter, items, **options)
    assert mine == exported(JsonLinesItemExporter, items, **options)
    assert mine.count(b"\n") == 3


def test_records_exported_by_name_skip_scrapys_field_reading(monkeypatch):
    """The fast way is taken for the project's feeds (else the test above proves nothing of it)."""
    monkeypatch.setattr(JsonLinesItemExporter, "export_item", lambda self, item: pytest.fail("Scrapy's way taken"))
    assert exported(RecordLinesExporter, [lead(), brief()], fields_to_export=FEED_FIELDS, encoding="utf-8")
