"""The run's news: the story book and the feed records built from it. Pure: no Scrapy import.

- ``stories``: the story book, every sighting and time label of a run pooled per story;
- ``records``: a sighting becomes a feed record (``wirecrawler.items.Record``).
"""
