"""A crawl run as a whole: its identity, its end-of-run checks, its history and its verdict.

Pure (no Scrapy import): ``run`` (which job, started when), ``checks`` (the end-of-run monitors
over a run's figures), ``history`` (the run reports and what the next run reads from them),
``signals`` (``run_decided``, for extensions that publish the outcome), ``metrics`` (a run's
Prometheus metrics from its report, written for node_exporter's textfile collector) and
``statuspage`` (the HTML status page from the run reports).
Scrapy side: ``verdict``, the extension that runs the checks, decides whether the run failed
and writes its report, whatever started the crawl.
"""
