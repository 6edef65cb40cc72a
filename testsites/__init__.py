"""Generators of the sites the tests, the benchmarks and the demo crawl locally.

- ``sample``: the bundled sample site (``sample_site/``) and its expected feeds, an oracle
  independent of ``wirecrawler`` (standard library only);
- ``js``: a variant of a site whose pages a script builds in the browser (for rendering);
- ``archive``: a deep archive of the section (thousands of listing pages), each page built when
  asked and served from a thread, for the backfill's tests and benchmark.
"""
