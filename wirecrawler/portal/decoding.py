"""The text of a response's bytes, read the way the portal writes it.

Plain Python with no Scrapy import.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

# Control characters other than tab, line feed, form feed and carriage return are no text.
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x01, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])  # the same, as UTF-8 bytes
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")  # bytes that were not UTF-8, kept by surrogateescape


@dataclass(frozen=True)
class Decoded:
    text: str | None  # None when the bytes are no HTML page
    fault: str | None = None  # why not
    repairs: tuple[str, ...] = ()  # what was mended on the way, each with why
    # The text's UTF-8 when the body is just that (no charset, repair or control character
    # changed it), so that parsing need not encode the text again.
    utf8: bytes | None = field(default=None, repr=False, compare=False)


def _codec(name: str | None) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def _from_windows_1252(match: re.Match) -> str:
    return bytes(ord(c) - 0xDC00 for c in match[0]).decode("cp1252", errors="replace")


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """The text of an HTML response, read the way the portal writes it: UTF-8.

    A declared charset (the Content-Type header, else a ``<meta>``) that bytes valid as UTF-8
    contradict is wrong: other text is all but never valid UTF-8 by accident. Bytes that are
    not UTF-8, in a page that declares UTF-8 or nothing, are read as Windows-1252 (what pasted
    text brings in); a page that declares another charset and decodes in it is read in it.
    An empty body, or one with NUL bytes (binary data), is no page.
    """
    if not body.strip():
        return Decoded(None, f"empty page ({len(body)} bytes)")
    if b"\x00" in body:
        return Decoded(None, "binary data, not HTML (the body holds NUL bytes)")
    body = body.removeprefix(codecs.BOM_UTF8)
    declared = _codec(http_content_type_encoding(content_type or "") or html_body_declared_encoding(body))
    repairs = []
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    read_as_utf8 = text is not None
    # In UTF-8 a control character is its own byte, and deleting bytes in C is a quarter of
    # the regex's scan over the text: a page without any skips the regex.
    controls_possible = text is None or len(body.translate(None, _CONTROL_BYTES)) != len(body)
    if text is not None and not body.isascii():
        if declared is None:
            repairs.append("declares no charset; read as UTF-8")
        elif declared != "utf-8":
            repairs.append(f"declares charset {declared}, but the bytes are UTF-8; read as UTF-8")
    if text is None and declared not in (None, "utf-8"):
        try:
            text = body.decode(declared)
        except UnicodeDecodeError:
            text = None
    if text is None:
        escaped = body.decode("utf-8", errors="surrogateescape")
        count = sum(len(run) for run in _ESCAPED_BYTES.findall(escaped))
        text = _ESCAPED_BYTES.sub(_from_windows_1252, escaped)
        repairs.append(f"{count} bytes are not UTF-8; read as Windows-1252")
    if controls_possible:
        text, controls = _CONTROL.subn("", text)
        if controls:
            repairs.append(f"{controls} control characters removed")
    return Decoded(text, None, tuple(repairs), body if read_as_utf8 and not controls_possible else None)
