"""What a run keeps on disk. Pure: no module here imports Scrapy.

- ``seen``: the SQLite seen store, its lock, and the journal of the feed files being published;
- ``atomicfile``: files that appear complete or not at all;
- ``feednames``: a run's stamp, and the feed URI parameters that cannot leave the feed directory;
- ``feedfile``: the (kind, id) of the records a feed file holds, every line checked whole;
- ``publog``: the publication log, what readers follow to find every published feed file;
- ``readers``: the readers' tools over a feed directory: list, read after a cursor, verify, prune;
- ``faults``: crash points, where the crash-safety tests kill a crawl;
- ``pgstore``: the shared store for several hosts: the seen set, the publication log and the
  fenced crawl lease in PostgreSQL;
- ``objects``: feed files in S3-compatible object storage, uploaded never over another.

The Scrapy side is ``wirecrawler.feeds`` and ``wirecrawler.objectfeeds`` (the feed storages that
publish) and ``wirecrawler.extensions.SeenStoreExtension`` (the store's life cycle in a crawl).
"""
