"""Project settings: the old names still work for one release, with a warning naming the new one."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from wirecrawler.config import RENAMED, WireConfig, project_root
from wirecrawler.extensions import SeenStoreExtension
from wirecrawler.middlewares import PacingConfig
from wirecrawler.render.addon import RenderConfig

def project_crawler(**settings):
    """A crawler with the project's settings and exactly *settings* over them (``make_crawler``
    would set the new names, which win over the old ones under test)."""
    crawler = get_crawler(settings_dict={**get_project_settings().copy_to_dict(), **settings})
    extension = crawler.get_extension(SeenStoreExtension)
    if extension is not None and extension.store is not None:
        extension.store.close()
        extension.lock.release()
    return crawler


def test_every_project_setting_is_named_wirecrawler():
    assert all(new.startswith("WIRECRAWLER_") and not old.startswith("WIRECRAWLER_") for old, new in RENAMED.items())
    scrapy_side = get_project_settings()
    assert [name for name in RENAMED if name in scrapy_side] == []


def test_defaults_come_from_the_config_objects():
    config = WireConfig.from_settings(project_crawler(WIRECRAWLER_SEEN_STORE_ENABLED=False).settings)
    root = project_root()
    assert (config.state_dir, config.feed_dir, config.seen_store) == (
        root / ".wirecrawler",
        root / "feeds",
        f"sqlite:///{root / '.wirecrawler' / 'seen.sqlite3'}",
    )
    assert (config.gc_threshold, config.render, config.seen_store_enabled) == (10_000, False, False)


def test_relative_paths_mean_the_same_place_from_any_working_directory(monkeypatch):
    settings = {"WIRECRAWLER_STATE_DIR": "var/state", "WIRECRAWLER_FEED_DIR": "var/feeds"}
    from_root = WireConfig.from_settings(project_crawler(WIRECRAWLER_SEEN_STORE_ENABLED=False, **settings).settings)
    monkeypatch.chdir(project_root() / "tests" / "unit")  # scrapy.cfg is found upward, as Scrapy finds it
    from_below = WireConfig.from_settings(project_crawler(WIRECRAWLER_SEEN_STORE_ENABLED=False, **settings).settings)
    assert from_below == from_root
    assert from_root.feed_dir == Path(__file__).resolve().parents[2] / "var" / "feeds"
    assert from_root.seen_store == f"sqlite:///{from_root.state_dir / 'seen.sqlite3'}"


@pytest.mark.parametrize(
    ("old", "value", "read"),
    [
        ("SEEN_STORE", "sqlite:///{tmp}/old.sqlite3", lambda s: WireConfig.from_settings(s).seen_store),
        ("SEEN_STORE_ENABLED", "False", lambda s: WireConfig.from_settings(s).seen_store_enabled),
        ("RETRY_AFTER_MAX", "7", lambda s: PacingConfig.from_settings(s).retry_after_max),
        ("RETRY_BACKOFF", "0.5", lambda s: PacingConfig.from_settings(s).backoff),
        ("RENDER_MAX_PAGES", "2", lambda s: RenderConfig.from_settings(s).max_pages),
        ("RENDER_WAIT_TIMEOUT", "3", lambda s: RenderConfig.from_settings(s).wait_timeout),
        ("RENDER_CHROMIUM", "/opt/chromium", lambda s: RenderConfig.from_settings(s).chromium),
    ],
)
def test_an_old_name_still_works_with_a_warning_naming_the_new_one(tmp_path, old, value, read):
    value = value.format(tmp=tmp_path)
    new = RENAMED[old]
    with pytest.warns(ScrapyDeprecationWarning, match=f"The setting {old} is deprecated .*: use {new}$"):
        crawler = project_crawler(**{old: value})
    assert crawler.settings[new] == value
    expected = {"False": False, "7": 7.0, "0.5": 0.5, "2": 2, "3": 3.0}.get(value, value)
    assert read(crawler.settings) == expected


def test_the_new_name_wins_over_the_old_one(tmp_path):
    with pytest.warns(ScrapyDeprecationWarning, match="use WIRECRAWLER_SEEN_STORE$"):
        crawler = project_crawler(
            SEEN_STORE=f"sqlite:///{tmp_path}/old.sqlite3", WIRECRAWLER_SEEN_STORE=f"sqlite:///{tmp_path}/new.sqlite3"
        )
    assert WireConfig.from_settings(crawler.settings).seen_store == f"sqlite:///{tmp_path}/new.sqlite3"


def test_the_old_render_switch_turns_rendering_on(tmp_path):
    with pytest.warns(ScrapyDeprecationWarning, match="use WIRECRAWLER_RENDER$"):
        crawler = project_crawler(RENDER="1", WIRECRAWLER_SEEN_STORE_ENABLED=False)
    assert WireConfig.from_settings(crawler.settings).render is True
    handlers = crawler.settings.getdict("DOWNLOAD_HANDLERS")
    assert handlers["http"] == handlers["https"] == "wirecrawler.render.handler.SharedPlaywrightHandler"


def test_new_names_alone_give_no_warning(tmp_path, recwarn):
    project_crawler(WIRECRAWLER_SEEN_STORE=f"sqlite:///{tmp_path}/seen.sqlite3", WIRECRAWLER_RETRY_BACKOFF="2")
    assert [w for w in recwarn if issubclass(w.category, ScrapyDeprecationWarning)] == []
