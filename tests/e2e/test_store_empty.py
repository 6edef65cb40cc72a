"""A run with nothing new: no per-kind feed file, but ``-O`` written, empty, as Scrapy writes it.

The per-kind feeds set ``"store_empty": False``; ``-O``/``-o`` feeds follow ``FEED_STORE_EMPTY``,
which the project leaves at Scrapy's ``True``: so the previous run's ``-O`` file never stays in
place, unmentioned, as if it were this run's.
"""

from __future__ import annotations

from tests.crawling import crawl, read_jsonl


def test_nothing_new_writes_an_empty_output_file_and_no_per_kind_file(site_url, tmp_path):
    out = tmp_path / "out.jsonl"
    first = crawl(site_url, tmp_path, output=out)
    assert first.returncode == 0, first.log[-3000:]
    assert read_jsonl(out) and first.files["lead"] and first.files["brief"]

    again = crawl(site_url, tmp_path, output=out)  # the same -O file, nothing new
    assert again.returncode == 0, again.log[-3000:]
    assert out.exists() and out.stat().st_size == 0  # replaced by this run's: empty
    assert f"Stored jsonl feed (0 items) in: {out}" in again.log
    assert again.files == {"lead": [], "brief": []}  # no per-kind file for nothing
    assert "Stored jsonl feed (0 items) in: " + str(tmp_path / "feeds") not in again.log
