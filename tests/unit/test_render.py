"""Opt-in rendering, pure: what the browser may fetch (``wirecrawler.render.addon.block_reason``),
and the JS variant of the site (``testsites.js``) against the plain one.

The crawls in Chromium are in ``tests/e2e/test_render.py``.
"""

from __future__ import annotations

import re

import pytest

from testsites import js as sitegen_js
from testsites import sample as sitegen
from wirecrawler.portal.pages import parse_page
from wirecrawler.render.addon import block_reason

THIRD_PARTY = sitegen_js.DEFAULT_THIRD_PARTY


@pytest.fixture(scope="module")
def js_site(tmp_path_factory):
    """The JS site as the rendering crawls get it, calling a third party that is never served here."""
    return sitegen_js.generate(tmp_path_factory.mktemp("js-site"), third_party=THIRD_PARTY)


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


def test_js_pages_differ_from_the_plain_ones_only_in_what_the_browser_builds(js_site):
    head, body = sitegen_js.extras(THIRD_PARTY)
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
