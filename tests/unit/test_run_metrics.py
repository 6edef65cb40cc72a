"""A run's Prometheus metrics (``wirecrawler.runs.metrics``): what they say and how they are written.

``promtool check metrics`` and a real node_exporter read the files of real crawls in
``tests/e2e/test_watching.py``; here the pure module, on reports ``build_report`` made.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.sample_reports import JOB, START, sample_report
from tests.unit.test_layout import import_without_scrapy
from wirecrawler.runs.metrics import (
    LAST_SUCCESS,
    METRICS,
    exposition,
    file_names,
    run_families,
    success_families,
    write_run_metrics,
    write_textfile,
)


def parsed(text: str) -> dict[str, dict]:
    """name -> {"type", "help", "samples": {frozenset(labels.items()): value}} of an exposition."""
    families = {}
    for family in text_string_to_metric_families(text):
        samples = {frozenset(sample.labels.items()): sample.value for sample in family.samples}
        families[family.name] = {"type": family.type, "help": family.documentation, "samples": samples}
    return families


def series_keys(text: str) -> list[tuple[str, frozenset]]:
    """Every series of an exposition, as written (a duplicate appears twice)."""
    return [(s.name, frozenset(s.labels.items())) for f in text_string_to_metric_families(text) for s in f.samples]


def value(families: dict, name: str, **labels) -> float:
    return families[name]["samples"][frozenset({"spider": "buitenland", **labels}.items())]


def test_the_metrics_are_gauges_named_wirecrawler_each_series_labelled_with_its_spider():
    families = parsed(exposition(run_families(sample_report())).decode())
    assert list(families) == [spec.name for spec in METRICS]
    for spec, (name, family) in zip(METRICS, families.items(), strict=True):
        assert name.startswith("wirecrawler_") and family["type"] == "gauge" and family["help"] == spec.help
        assert family["samples"], name
        for labels in family["samples"]:
            assert {key for key, _ in labels} == {"spider", *spec.labels}
            assert dict(labels)["spider"] == "buitenland"
    # Not "job": Prometheus's own label, which it would rename to exported_job.
    assert all("job" not in spec.labels for spec in (*METRICS, LAST_SUCCESS))


def test_a_successful_runs_metrics_are_its_reports_figures():
    report = sample_report(seconds=41)
    families = parsed(exposition(run_families(report)).decode())
    assert value(families, "wirecrawler_run_info", start_url=JOB["start_url"]) == 1
    assert value(families, "wirecrawler_run_start_timestamp_seconds") == START.timestamp()
    assert value(families, "wirecrawler_run_duration_seconds") == 41
    assert value(families, "wirecrawler_run_success") == 1
    assert value(families, "wirecrawler_run_exit_status") == 0
    assert value(families, "wirecrawler_run_failures") == 0
    for kind in ("listing", "article", "malformed"):
        assert value(families, "wirecrawler_pages", kind=kind) == report["pages"][kind]
    for kind in ("lead", "brief"):
        assert value(families, "wirecrawler_records_parsed", kind=kind) == report["records"][kind]["parsed"]
        assert value(families, "wirecrawler_records_new", kind=kind) == report["records"][kind]["new"]
    assert value(families, "wirecrawler_requests_failed") == 0
    assert value(families, "wirecrawler_retries") == 0
    monitors = {dict(labels)["monitor"]: v for labels, v in families["wirecrawler_monitor_passed"]["samples"].items()}
    assert monitors == {m["name"]: 1 for m in report["monitors"]} and len(monitors) == 6
    assert value(families, "wirecrawler_feed_files_published") == 2
    [success] = parsed(exposition(success_families(report)).decode()).values()
    assert success["samples"] == {frozenset({"spider": "buitenland"}.items()): (START + timedelta(seconds=41)).timestamp()}
    assert success["type"] == "gauge" and success["help"] == LAST_SUCCESS.help


def test_a_failed_runs_metrics_say_so_and_it_has_no_last_success():
    report = sample_report(failed=True)
    families = parsed(exposition(run_families(report)).decode())
    assert value(families, "wirecrawler_run_success") == 0
    assert value(families, "wirecrawler_run_exit_status") == 1
    assert value(families, "wirecrawler_run_failures") == len(report["failures"]) > 0
    assert value(families, "wirecrawler_requests_failed") == 1 and value(families, "wirecrawler_retries") == 2
    assert value(families, "wirecrawler_monitor_passed", monitor="listing_rows") == 0
    assert value(families, "wirecrawler_monitor_passed", monitor="run_gap") == 1
    assert value(families, "wirecrawler_feed_files_published") == 0
    assert success_families(report) == []


def test_only_published_feed_files_count():
    report = sample_report()
    report["feeds"][0]["published"] = False  # as an -O file is: stored, not published
    assert value(parsed(exposition(run_families(report)).decode()), "wirecrawler_feed_files_published") == 1


def test_no_series_appears_twice_in_a_file_or_across_the_files_of_two_spiders(tmp_path):
    """promtool check metrics lets duplicates through; node_exporter then fails the scrape."""
    write_run_metrics(tmp_path, sample_report())
    write_run_metrics(tmp_path, sample_report(job={"spider": "binnenland", "start_url": "https://example.org/b"}))
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == [
        "wirecrawler-binnenland-run.prom", "wirecrawler-binnenland-success.prom",
        "wirecrawler-buitenland-run.prom", "wirecrawler-buitenland-success.prom",
    ]  # fmt: skip
    keys = [key for f in files for key in series_keys(f.read_text())]
    assert [key for key, count in Counter(keys).items() if count > 1] == []
    assert len(keys) == 2 * (sum(len(f["samples"]) for f in parsed(files[2].read_text()).values()) + 1)
    # The same metric in two files (node_exporter merges them) has the same type and help.
    described = {}
    for f in files:
        for name, family in parsed(f.read_text()).items():
            assert described.setdefault(name, (family["type"], family["help"])) == (family["type"], family["help"])


def test_the_duplicate_check_finds_a_duplicate():
    text = exposition(run_families(sample_report())).decode()
    line = next(line for line in text.splitlines() if line.startswith("wirecrawler_retries{"))
    keys = series_keys(text + line + "\n")
    assert [key for key, count in Counter(keys).items() if count > 1] == [
        ("wirecrawler_retries", frozenset({"spider": "buitenland"}.items()))
    ]


def test_a_start_url_with_quotes_backslashes_and_newlines_survives_the_text_format():
    url = 'http://127.0.0.1:8000/nieuws/"buiten"\\land\nx'
    families = parsed(exposition(run_families(sample_report(job={"spider": "buitenland", "start_url": url}))).decode())
    assert value(families, "wirecrawler_run_info", start_url=url) == 1


def test_file_names_end_in_prom_and_stay_in_the_folder():
    assert file_names("buitenland") == ("wirecrawler-buitenland-run.prom", "wirecrawler-buitenland-success.prom")
    for name in file_names("../x/y z"):
        assert "/" not in name and name.endswith(".prom") and name.startswith("wirecrawler-")


def test_a_file_is_replaced_whole_readable_by_all_whatever_the_umask(tmp_path):
    path = tmp_path / "wirecrawler-buitenland-run.prom"
    write_textfile(path, run_families(sample_report()))
    before = path.read_text()
    with path.open() as reader:  # a reader that opened the old file (node_exporter mid-scrape)
        old_umask = os.umask(0o077)
        try:
            write_textfile(path, run_families(sample_report(failed=True)))
        finally:
            os.umask(old_umask)
        assert reader.read() == before  # still the whole old file: renamed over, not rewritten
    assert "wirecrawler_run_success{spider=\"buitenland\"} 0.0" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # node_exporter's user reads it
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_a_failed_write_leaves_the_previous_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "wirecrawler-buitenland-run.prom"
    write_textfile(path, run_families(sample_report()))
    before = path.read_bytes()

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_textfile(path, run_families(sample_report(failed=True)))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_the_temporary_file_is_one_the_textfile_collector_skips(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (seen.append(Path(src).name), real_replace(src, dst)))
    write_textfile(tmp_path / "wirecrawler-buitenland-run.prom", run_families(sample_report()))
    [temp] = seen
    assert temp.startswith(".") and not temp.endswith(".prom")  # the collector reads *.prom only


def test_a_failed_run_writes_its_file_and_leaves_the_last_success_alone(tmp_path):
    ok = sample_report()
    assert [p.name for p in write_run_metrics(tmp_path, ok)] == list(file_names("buitenland"))
    success = tmp_path / file_names("buitenland")[1]
    kept = success.read_bytes(), success.stat().st_mtime_ns
    written = write_run_metrics(tmp_path, sample_report(start=START + timedelta(minutes=10), failed=True))
    assert [p.name for p in written] == [file_names("buitenland")[0]]
    assert (success.read_bytes(), success.stat().st_mtime_ns) == kept


def test_a_missing_folder_is_an_error_not_created(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_run_metrics(tmp_path / "absent", sample_report())
    assert not (tmp_path / "absent").exists()


def test_the_pure_modules_import_with_scrapy_unimportable():
    done = import_without_scrapy(["wirecrawler.runs.metrics", "wirecrawler.runs.statuspage"])
    assert done.returncode == 0, done.stderr
