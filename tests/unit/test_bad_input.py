"""Bad input (issue #6): the corpus of broken pages itself (``tests/corpus``), before any crawl
meets it (``tests/e2e/test_bad_input.py``)."""

from __future__ import annotations

from tests import corpus


def test_the_corpus_holds_at_least_30_broken_pages_each_with_its_fault_and_reason():
    entries = corpus.entries()
    assert len(entries) >= 30
    assert len({entry.name for entry in entries}) == len(entries)
    for entry in entries:
        assert entry.fault and entry.log and entry.stats and entry.level in ("WARNING", "ERROR"), entry.name
        assert entry.file is None or (corpus.CORPUS / entry.file).is_file(), entry.name


def test_the_20_mb_page_is_written_when_the_site_is_built_not_committed():
    [big] = [entry for entry in corpus.entries() if entry.file is None]
    committed = [(corpus.CORPUS / entry.file).stat().st_size for entry in corpus.entries() if entry.file]
    assert len(big.content()) >= 20 * 1024 * 1024 > max(committed)
