"""What a run keeps on disk. Pure: no module here imports Scrapy.

- ``seen``: the SQLite seen store, its lock, and the journal of the feed files being published;
- ``atomicfile``: files that appear complete or not at all;
- ``feednames``: a run's stamp, and the feed URI parameters that cannot leave the feed directory;
- ``feedfile``: the (kind, id) of the records a feed file holds, every line checked whole;
- ``publog``: the publication log, what readers follow to find every published feed file;
- ``readers``: the readers' tools over a feed directory: list, read after a cursor, verify, prune;
- ``faults``: crash points, where the crash-safety tests kill a crawl.

The Scrapy side is ``wirecrawler.feeds`` (the feed storage that publishes) and
``wirecrawler.extensions.SeenStoreExtension`` (the store's life cycle in a crawl).
"""
