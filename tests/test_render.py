"""Opt-in rendering (``wirecrawler.render``) with Debian's Chromium, against the JS variant of the site.

Real parts throughout: the JS site (``sitegen_js``) and a stand-in third-party site served over
HTTP with access logs, ``scrapy crawl`` subprocesses, and the browser itself.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sitegen
import sitegen_js
from crawling import crawl, differences, read_jsonl, served, url_path
from scrapy import Request
from scrapy.utils.test import get_crawler

from wirecrawler import selectors
from wirecrawler.pages import parse_page
from wirecrawler.render import RenderMiddleware, block_reason
from wirecrawler.spiders.buitenland import PAGE_KIND, RELEASE_URL

RENDER = ("-s", "RENDER=1")
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
    # sitegen_js keeps the base generator's expected feed: the plain site's.
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
        rf"ERROR: Listing page {re.escape(url)}/nieuws/buitenland has no rows .*turn rendering on \(-s RENDER=1\)",
        run.log,
    )
    assert run.records() == []
    assert url.requested() == ["200 /robots.txt", "200 /nieuws/buitenland"]


def test_without_render_no_browser_starts_and_playwright_is_never_imported(unrendered, rendered):
    _, plain = unrendered
    _, with_browser = rendered
    browser_side = {"playwright", "scrapy_playwright.handler", "wirecrawler.render_handler"}
    assert browser_side <= loaded_modules(with_browser.log)  # the probe does see them when they load
    # Off, the add-on was loaded and switched itself off, touching nothing from Playwright.
    assert loaded_modules(plain.log) == {"scrapy_playwright", "scrapy_playwright.page", "wirecrawler.render"}
    assert "playwright/browser_count" not in plain.log and "Starting download handler" not in plain.log


def test_a_missing_page_stays_a_404_instead_of_waiting_for_content(js_site, probed_env, tmp_path):
    with served(js_site) as url:
        run = crawl(
            url,
            tmp_path,
            *RENDER,
            "-a", f"start_url={url}/nieuws/bestaat-niet",
            "-s", "RENDER_WAIT_TIMEOUT=5",
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
        run = crawl(url, tmp_path / "crawl", *RENDER, "-s", "RENDER_WAIT_TIMEOUT=1", env=probed_env)
    assert run.returncode == 1
    assert re.search(
        rf"WARNING: Rendered {re.escape(url)}/nieuws/buitenland: nothing matched "
        rf"'{re.escape(selectors.LISTING_ROWS)}' within 1 s; reading the page as it stands",
        run.log,
    )
    assert "has no rows (" in run.log and "Check wirecrawler/selectors.py" in run.log
    assert "turn rendering on" not in run.log  # it is on
    assert url.requested() == ["200 /robots.txt", "200 /nieuws/buitenland"]


def test_render_without_chromium_is_a_clear_error(js_site, tmp_path):
    with served(js_site) as url:
        run = crawl(url, tmp_path, *RENDER, "-s", "RENDER_CHROMIUM=/nonexistent/chromium")
    assert run.returncode == 1
    assert "RENDER=1 needs Chromium at /nonexistent/chromium: install it (apt-get install chromium)" in run.log
    assert url.requested() == []


def test_only_listing_and_article_requests_go_through_the_browser_waiting_for_their_content():
    middleware = RenderMiddleware.from_crawler(get_crawler(settings_dict={"RENDER": True}))
    waits = {}
    for kind in ("listing", "article"):
        request = Request("http://127.0.0.1/nieuws/x", meta={PAGE_KIND: kind})
        middleware.process_request(request)
        assert request.meta["playwright"] is True
        [wait] = request.meta["playwright_page_methods"]
        waits[kind] = wait.args
    assert waits == {"listing": (selectors.LISTING_ROWS,), "article": (selectors.ARTICLE_PARAGRAPHS,)}
    for request in (
        Request(RELEASE_URL, meta={PAGE_KIND: "release"}),
        Request("http://127.0.0.1/robots.txt"),
    ):
        middleware.process_request(request)
        assert "playwright" not in request.meta


@pytest.mark.parametrize(
    ("resource_type", "url", "main_navigation", "reason"),
    [
        ("document", "https://www.zeelandnet.nl/nieuws/x", True, None),
        ("document", "https://zeelandnet.nl/nieuws/x", True, None),  # a redirect of the page itself
        ("script", "https://www.zeelandnet.nl/app.js", False, None),
        ("xhr", "https://api.zeelandnet.nl/news.json", False, None),  # a subdomain: the same site
        ("image", "https://www.zeelandnet.nl/logo.png", False, "image"),
        ("font", "https://www.zeelandnet.nl/sans.woff2", False, "font"),
        ("stylesheet", "https://www.zeelandnet.nl/zld.css", False, "stylesheet"),
        ("media", "https://www.zeelandnet.nl/clip.mp4", False, "media"),
        ("script", "https://www.googletagmanager.com/gtm.js", False, "third party"),
        ("document", "https://ads.example.com/frame.html", False, "third party"),  # an ad iframe
        ("script", "https://zeelandnet.nl.evil.example/x.js", False, "third party"),
    ],
)
def test_block_reason(resource_type, url, main_navigation, reason):
    assert block_reason(resource_type, url, "https://www.zeelandnet.nl/nieuws/x", main_navigation) == reason


def test_js_pages_differ_from_the_plain_ones_only_in_what_the_browser_builds(js_site, third_party):
    head, body = sitegen_js.extras(third_party.origin)
    # The data blob and the script that builds from it, right after the element they fill.
    inserted = re.compile(
        r'\n *<script type="application/json" id="[a-z-]+">[^\n]*</script>\n *<script>\n.*?</script>', re.S
    )
    pages = {name: html for name, html in sitegen.render("base").items() if name.startswith("nieuws/")}
    assert sorted(pages) == sorted(f"nieuws/{page.name}" for page in (js_site / "nieuws").glob("*.html"))
    for name, plain in pages.items():
        js = (js_site / name).read_text(encoding="utf-8")
        rest, scripts = inserted.subn("", js.replace(head, "", 1).replace(body, "", 1))
        tag, cls = ("div", "article__body") if '<article class="article">' in plain else ("ul", "news-list")
        before, _, end_tag, after = sitegen_js.split_element(plain, tag, cls)
        assert (rest, scripts) == (before + end_tag + after, 1), name


def test_pages_tell_when_a_browser_builds_their_content(js_site):
    listing = "https://www.zeelandnet.nl/nieuws/buitenland"
    plain = parse_page(sitegen.render("base")["nieuws/buitenland.html"], listing)
    js = parse_page((js_site / "nieuws" / "buitenland.html").read_text(encoding="utf-8"), listing)
    assert (plain.built_in_browser, bool(plain.rows)) == (False, True)
    assert (js.built_in_browser, js.rows) == (True, [])
