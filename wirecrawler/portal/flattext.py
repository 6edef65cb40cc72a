"""Flattened page text (an article page saved as plain text) read back into a page.

The flattening keeps the headline, the body paragraphs and the "Meer uit <Section>" list,
one line each, but glues each brief's relative time to the start of the next brief's line:
"1 uur geledenNEW YORK (ANP/RTR) - ...". The label belongs to the brief before it. Links are
lost, so briefs have no headline and no URL. Plain Python with no Scrapy import.
"""

from __future__ import annotations

import re

from wirecrawler.portal.pages import Article, Page, Row
from wirecrawler.portal.text import clean_text

_MORE_FROM = re.compile(r"^Meer uit (?P<section>.+)$")
# The unit words are lower case and the next brief's dateline is upper case, which is what
# splits "1 uur geledenNEW YORK".
_LEADING_LABEL = re.compile(r"^(?P<label>\d+ [a-z]+ geleden)(?P<rest>.*)$")


def parse_flat_text(text: str, url: str | None) -> Page:
    lines = [clean_text(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    page = Page(url=url or "", kind="article")
    if not lines:
        page.problems.append("the text is empty")
        return page
    headline, rest = lines[0], lines[1:]
    split = next((i for i, line in enumerate(rest) if _MORE_FROM.match(line)), len(rest))
    body, list_lines = rest[:split], rest[split + 1 :]
    if split < len(rest):
        page.section = _MORE_FROM.match(rest[split])["section"]
    if body:
        page.article = Article(headline, url, body)
    else:
        page.problems.append("the article has no body text")
    teasers: list[list] = []  # [teaser, label] pairs, the label filled in by the next line
    for line in list_lines:
        match = _LEADING_LABEL.match(line)
        if match:
            if teasers:
                teasers[-1][1] = match["label"]
            else:
                page.problems.append(f"time label {match['label']!r} follows no brief")
            line = match["rest"].strip()
        if line:
            teasers.append([line, None])
    page.rows = [Row(None, None, teaser, label) for teaser, label in teasers]
    return page
