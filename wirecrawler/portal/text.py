"""Clean text, as every reader of the portal gives it (the contract's text rule (docs/CONTRACT.md)).

The page readers (``pages``, ``flattext``) apply it to every string they take from a page, so
everything past them (the wire grammar, the story book, the records) holds clean text and never
cleans again. Plain Python with no Scrapy import.
"""

from __future__ import annotations

import re

# The ANP feed sometimes carries U+01AB where "ë" belongs ("Israƫl").
_REPAIRS = {"\u01ab": "ë"}

def repair(text: str) -> str:
    """Undo the wire's known character damage."""
    # Every string of every page comes through here: a search and a replace only where the
    # damage is cost a fraction of str.translate, which looks up each character in turn.
    for damaged, meant in _REPAIRS.items():
        if damaged in text:
            text = text.replace(damaged, meant)
    return text


def clean_text(text: str) -> str:
    """the contract's text rule (docs/CONTRACT.md): whitespace runs collapsed to one space, trimmed, repaired."""
    # str.split() splits on exactly what the regex \s matches (both use str.isspace), faster.
    return repair(" ".join(text.split()))


# HTML in text that should hold none (a headline in a title attribute): script and style
# blocks with their content, then any other tag or comment.
_CODE_BLOCK = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<!--.*?(?:-->|$)|</?[A-Za-z][^<>]*>", re.DOTALL)


def strip_markup(text: str) -> str:
    """*text* without HTML tags, and without the code inside script and style blocks."""
    return _TAG.sub("", _CODE_BLOCK.sub("", text))
