"""Running the crawler on this machine, apart from the crawl's runtime: nothing here is imported by a crawl.

- ``server``: a local HTTP server for a saved copy of the site, with its fixed ``Date``;
- ``backends``: real PostgreSQL and SeaweedFS (S3) servers on 127.0.0.1, started and stopped for
  the shared mode's tests, benchmark and demo;
- ``demo``: ``python -m wirecrawler demo``, the scheduled job run twice on the bundled site;
- ``shareddemo``: ``python -m wirecrawler shared-demo``, the shared set-up (PostgreSQL, SeaweedFS)
  crawled by two hosts at once, then once more by the one that found it busy.
"""
