"""Opt-in rendering in Debian's Chromium through scrapy-playwright (``-s WIRECRAWLER_RENDER=1``).

- ``addon``: the add-on, its settings and the middleware that sends pages through the browser;
- ``handler``: the one shared download handler; importing it imports Playwright, so only the
  add-on names it, and only with rendering on.
"""
