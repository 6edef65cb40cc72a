"""The JSON lines exporter for the project's records: Scrapy's bytes, made directly.

Scrapy's exporter reads every field of every item through an ``ItemAdapter``, its field
metadata and a serializer call: as much CPU as building the record (bench/README.md). Records
are plain dataclasses without field metadata, so when a feed exports record fields by name
their values are read as attributes; any other item or field list goes Scrapy's way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.exporters import JsonLinesItemExporter
from scrapy.utils.python import to_bytes

from wirecrawler.items import FEED_FIELDS, Record


class RecordLinesExporter(JsonLinesItemExporter):
    """``FEED_EXPORTERS`` for ``jsonlines``, ``jsonl`` and ``jl``."""

    def __init__(self, file, **kwargs: Any):
        super().__init__(file, **kwargs)
        names = self.fields_to_export
        by_name = names is not None and not isinstance(names, Mapping)
        self.record_fields: list[str] | None = (
            list(names) if by_name and all(isinstance(n, str) and n in FEED_FIELDS for n in names) else None
        )

    def export_item(self, item: Any) -> None:
        if self.record_fields is None or not isinstance(item, Record):
            super().export_item(item)
            return
        line = self.encoder.encode({name: getattr(item, name) for name in self.record_fields}) + "\n"
        self.file.write(to_bytes(line, self.encoding))
