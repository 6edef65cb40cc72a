"""``python -m wirecrawler backfill``: the section's archive, walked in windows of listing pages, resumable.

- ``plan`` (pure): the walk cut into windows, where it stops, each window's crawl arguments, the
  rate the operator may lower (``--max-rate``), and the scheduled crawl's starts it yields to;
- ``state`` (pure): ``<state dir>/backfill.json``, where the walk is, written whole or not at all;
- ``progress`` (pure): what a window did (its run report and log), the walk's figures and their words;
- ``driver``: the command itself: its lock, one ``scrapy crawl`` process per window, the progress
  bar (tqdm) on a terminal or log lines elsewhere.
"""
