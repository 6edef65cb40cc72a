"""The project's own crawler signals. Plain Python with no Scrapy import: a signal is any object.

``run_decided`` is sent by ``wirecrawler.runs.verdict.RunVerdict`` once the run's outcome is
known and its report written, before the run's last log line says the outcome: extensions that
publish the outcome elsewhere (metrics, a status page) connect to it, with arguments ``verdict``
(the ``RunVerdict``: ``exit_status``, ``failures``, ``checks``, ``feeds``, ``report_path``).
"""

run_decided = object()
