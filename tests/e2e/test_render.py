"""Opt-in rendering (``wirecrawler.render``) with Debian's Chromium, against the JS variant of the site.

Real parts throughout: the JS site (``testsites.js``) and a stand-in third-party site served over
HTTP with access logs, ``scrapy crawl`` subprocesses, and the browser itself. The pure parts
(what the browser may fetch, the JS pages) are in ``tests/unit/test_render.py``, the render
middleware as Scrapy builds it in ``tests/component/test_render.py``.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.crawling import crawl, differences, read_jsonl, url_path
from testsites import js as sitegen_js
from testsites import sample as sitegen
from wirecrawler.local.server import served
from wirecrawler.portal import selectors

RENDER = ("-s", "WIRECRAWLER_RENDER=1")
ABORTED = re.compile(r"Aborted Playwright request <GET (\S+)>")
# Python runs ``sitecustomize`` from its path at start-up: on the crawl's PYTHONPATH, this one
# makes the crawl process itself say, as it exits, which browser-side modules it had loaded
# (from sys.modules, however they were imported).
IMPORT_PROBE = """import atexit, sys

@atexit.register
def report():
    prefixes = ("playwright", "scrapy_playwright", "wirecrawler.render")
    loaded = sorted(name for name in sys.modules if name.startswith(prefixes))
    print("import probe:", *loaded, file=sys.stderr)
"""


def loaded_modules(log: str) -> set[str]:
    [line] = re.findall(r"^import probe:.*$", log, re.MULTILINE)
    return set(line.split()[2:])


def listing_path(page: int) -> str:
    return "/nieuws/buitenland" if page == 1 else f"/nieuws/buitenland?page={page}"


@pytest.fixture(scope="module")
def probed_env(tmp_path_factory):
    """The environment of a crawl that reports its loaded modules (and keeps Chromium's profile,
    which goes under $HOME, out of the real one)."""
    probe = tmp_path_factory.mktemp("import-probe")
    (probe / "sitecustomize.py").write_text(IMPORT_PROBE)
    return {"HOME": str(tmp_path_factory.mktemp("home")), "PYTHONPATH": str(probe)}


@pytest.fixture(scope="module")
def third_party(tmp_path_factory):
    """Another site (a tag manager, a tracker) the JS pages call; it must never hear from us.

    Served on 127.0.0.1 but named ``localhost`` in the pages: another host to the browser.
    """
    site = tmp_path_factory.mktemp("third-party")
    (site / "REF").write_text(sitegen.REF + "\n")
    with served(site) as url:
        url.origin = url.replace("127.0.0.1", "localhost")
        yield url


@pytest.fixture(scope="module")
def js_site(third_party, tmp_path_factory):
    return sitegen_js.generate(tmp_path_factory.mktemp("js-site"), third_party=third_party.origin)


@pytest.fixture(scope="module")
def rendered(js_site, probed_env, tmp_path_factory):
    """One rendered crawl of the JS site, logging at DEBUG to show every request the browser aborted."""
    with served(js_site) as url:
        run = crawl(
            url, tmp_path_factory.mktemp("rendered"), *RENDER, "-s", "LOG_LEVEL=DEBUG", env=probed_env
        )
    return url, run


@pytest.fixture(scope="module")
def unrendered(js_site, probed_env, tmp_path_factory):
    """One crawl of the JS site with rendering off, as by default."""
    with served(js_site) as url:
        run = crawl(url, tmp_path_factory.mktemp("unrendered"), env=probed_env)
    return url, run


def test_rendered_crawl_of_the_js_site_emits_exactly_the_plain_sites_expected_feed(rendered, js_site):
    _, run = rendered
    assert run.returncode == 0, run.log[-3000:]
    # testsites.js keeps the base generator's expected feed: the plain site's.
    assert differences(run.records(), read_jsonl(js_site / "expected-feed.jsonl")) == []


def test_rendered_crawl_requests_each_page_it_reads_once_and_nothing_else(rendered, js_site):
    url, run = rendered
    leads = [record for record in read_jsonl(js_site / "expected-feed.jsonl") if record["kind"] == "lead"]
    expected = Counter(
        ["200 /robots.txt"]
        + [f"200 {listing_path(page)}" for page in sitegen.CRAWLS["expected-feed.jsonl"]]
        + [f"200 {url_path(lead['url'])}" for lead in leads]
    )
    assert Counter(url.requested()) == expected
    pages = len(sitegen.CRAWLS["expected-feed.jsonl"]) + len(leads)
    assert f"'wirecrawler/render/requests': {pages}," in run.log  # every one of them in the browser


def test_the_browser_fetches_no_image_font_stylesheet_or_third_party_url(rendered, third_party):
    url, run = rendered
    aborted = set(ABORTED.findall(run.log))
    own = {url_path(address) for address in aborted if address.startswith(url)}
    # The pages asked for all of these (so the browser did try), and none was fetched.
    assert {"/assets/css/zld.css", sitegen_js.FONT, sitegen_js.LOGO} <= own
    assert any(path.startswith("/media/") and path.endswith(".jpg") for path in own)  # figures in article bodies
    assert {f"{third_party.origin}/gtm.js", f"{third_party.origin}/pixel.gif"} <= aborted
    assert not own & {line.split(" ", 1)[1] for line in url.requested()}
    assert third_party.requested() == []
    # ... and the pages still rendered: every one showed its content in time.
    assert run.returncode == 0, run.log[-3000:]
    assert "wirecrawler/render/content_timeouts" not in run.log


def test_without_render_the_run_fails_and_says_to_turn_rendering_on(unrendered):
    url, run = unrendered
    assert run.returncode == 1
    assert re.search(
        rf"ERROR: Listing page {re.escape(url)}/nieuws/buitenland has no rows .*turn rendering on \(-s WIRECRAWLER_RENDER=1\)",
        run.log,
    )
    assert run.records() == []
    assert url.requested() == ["200 /robots.txt", "200 /nieuws/buitenland"]


def test_without_render_no_browser_starts_and_playwright_is_never_imported(unrendered, rendered):
    _, plain = unrendered
    _, with_browser = rendered
    browser_side = {"playwright", "scrapy_playwright.handler", "wirecrawler.render.handler"}
    assert browser_side <= loaded_modules(with_browser.log)  # the probe does see them when they load
    # Off, the add-on was loaded and switched itself off, touching nothing from Playwright.
    assert loaded_modules(plain.log) == {
        "scrapy_playwright",
        "scrapy_playwright.page",
        "wirecrawler.render",
        "wirecrawler.render.addon",
    }
    assert "playwright/browser_count" not in plain.log and "Starting download handler" not in plain.log


def test_a_missing_page_stays_a_404_instead_of_waiting_for_content(js_site, probed_env, tmp_path):
    with served(js_site) as url:
        run = crawl(
            url,
            tmp_path,
            *RENDER,
            "-a", f"start_url={url}/nieuws/bestaat-niet",
            "-s", "WIRECRAWLER_RENDER_WAIT_TIMEOUT=5",
            env=probed_env,
        )  # fmt: skip
    assert run.returncode == 1
    assert url.requested() == ["200 /robots.txt", "404 /nieuws/bestaat-niet"]
    assert "'downloader/response_status_count/404': 1" in run.log
    assert "content_timeouts" not in run.log and "nothing matched" not in run.log


def test_content_that_never_appears_is_reported_and_the_run_fails_as_layout_drift(probed_env, tmp_path):
    site = tmp_path / "site"
    sitegen.generate(site, variant="renamed-classes")  # listing rows the selectors no longer know
    with served(site) as url:
        run = crawl(url, tmp_path / "crawl", *RENDER, "-s", "WIRECRAWLER_RENDER_WAIT_TIMEOUT=1", env=probed_env)
    assert run.returncode == 1
    assert re.search(
        rf"WARNING: Rendered {re.escape(url)}/nieuws/buitenland: nothing matched "
        rf"'{re.escape(selectors.LISTING_ROWS)}' within 1 s; reading the page as it stands",
        run.log,
    )
    assert "has no rows (" in run.log and "Check wirecrawler/portal/selectors.py" in run.log
    assert "turn rendering on" not in run.log  # it is on
    assert url.requested() == ["200 /robots.txt", "200 /nieuws/buitenland"]


def test_render_without_chromium_is_a_clear_error(js_site, tmp_path):
    with served(js_site) as url:
        run = crawl(url, tmp_path, *RENDER, "-s", "WIRECRAWLER_RENDER_CHROMIUM=/nonexistent/chromium")
    assert run.returncode == 78  # a configuration error, said before anything starts
    assert run.log.rstrip().splitlines()[-1].endswith(
        "Run failed: Configuration: WIRECRAWLER_RENDER_CHROMIUM=/nonexistent/chromium: no Chromium there"
        " (no such file), and WIRECRAWLER_RENDER=1 needs it: install it (apt-get install chromium) and point"
        " the setting at it, or turn rendering off"
    )
    assert "Traceback" not in run.log
    assert url.requested() == []
