"""The one scrapy-playwright download handler of a rendering crawl.

Importing this module imports Playwright, so nothing imports it by name: the render add-on
names it in ``DOWNLOAD_HANDLERS`` only when rendering is on.
"""

from __future__ import annotations

import weakref

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

_HANDLERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # crawler -> its handler


class SharedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, one instance for both http and https.

    Scrapy builds a handler per scheme, and each stock one would start its own Playwright
    driver (a Node process) and its own Chromium: twice the memory for one site.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        self._closed = False

    @classmethod
    def from_crawler(cls, crawler):
        if crawler not in _HANDLERS:
            _HANDLERS[crawler] = cls(crawler)
        return _HANDLERS[crawler]

    async def close(self) -> None:
        if self._closed:  # Scrapy closes it once for every scheme it serves
            return
        self._closed = True
        await super().close()
