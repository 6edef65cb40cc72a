"""Running the crawler on this machine, apart from the crawl's runtime: nothing here is imported by a crawl.

- ``server``: a local HTTP server for a saved copy of the site, with its fixed ``Date``;
- ``demo``: ``python -m wirecrawler demo``, the scheduled job run twice on the bundled site.
"""
