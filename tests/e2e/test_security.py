"""Security (issue #6): requests stay on the start URL's site and off addresses it does not
name; responses are capped in size (and in time: see test_server_faults); feed paths stay in
the feed directory whatever the arguments say.

The crawl tests run on 127.0.0.1, so the start URL names a loopback address: only that exact
host and port may be fetched. Pages redirect, on purpose, everywhere else: a second local
server on another port (which must see nothing), ``localhost`` by name, private, link-local and
IPv6 loopback addresses, another host and a non-web scheme. Each refusal is one WARNING line
and a ``wirecrawler/refused/<reason>`` count; an article refused is a warning, not a failure.

The boundary and the feed URI parameters themselves, pure, are in ``tests/unit/test_security.py``.
"""

from __future__ import annotations

import pytest

from tests.crawling import SAMPLE_SITE, by_key, copy_site, crawl, logged, read_jsonl, stats_of, url_path
from tests.faultserver import Redirect, Stream, serving

EXPECTED = read_jsonl(SAMPLE_SITE / "expected-feed.jsonl")
LEADS = [url_path(r["url"]) for r in EXPECTED if r["kind"] == "lead"]
(TO_OTHER_PORT, TO_LOCALHOST, TO_PRIVATE, TO_METADATA, TO_IPV6_LOOPBACK, TO_OTHER_HOST, TO_FTP, MOVED, HUGE) = LEADS[:9]
MOVED_TO = "/nieuws/verhuisd"
REDIRECTS = {
    TO_LOCALHOST: "http://localhost:{port}/nieuws/x",
    TO_PRIVATE: "http://10.1.2.3/nieuws/x",
    TO_METADATA: "http://169.254.169.254/latest/meta-data/",
    TO_IPV6_LOOPBACK: "http://[::1]:{port}/nieuws/x",
    TO_OTHER_HOST: "http://example.org/nieuws/x",
    TO_FTP: "ftp://127.0.0.1/etc/passwd",
}


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    root = tmp_path_factory.mktemp("security")
    site = copy_site(SAMPLE_SITE, root / "site")
    (site / "nieuws" / "verhuisd.html").write_bytes((site / "nieuws" / f"{MOVED.rsplit('/', 1)[1]}.html").read_bytes())
    with serving(site) as bystander:
        faults = {path: [Redirect(location=target)] for path, target in REDIRECTS.items()}
        faults[TO_OTHER_PORT] = [Redirect(location=f"{bystander.url}/nieuws/x")]
        faults[MOVED] = [Redirect(location="{base}" + MOVED_TO, status=301)]
        faults[HUGE] = [Stream(size=20 * 1024 * 1024)]  # no Content-Length: cut while it streams
        with serving(site, faults) as server:
            run = crawl(server.url, root / "state", "-O", f"{root}/out-%(name)s.jsonl")
        return server.url, run, stats_of(run.log), list(server.hits), list(bystander.hits)


def test_a_redirect_to_another_port_on_the_same_loopback_host_is_refused_and_never_reaches_it(refusals):
    url, run, _, _, bystander_hits = refusals
    assert bystander_hits == []
    reason = "127.0.0.1 is a loopback address the start URL does not name"
    assert logged(run.log, "WARNING", url + TO_OTHER_PORT, reason)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (TO_LOCALHOST, "is not the start URL's site"),
        (TO_PRIVATE, "10.1.2.3 is a private address the start URL does not name"),
        (TO_METADATA, "169.254.169.254 is a link-local address the start URL does not name"),
        (TO_IPV6_LOOPBACK, "::1 is a loopback address the start URL does not name"),
        (TO_OTHER_HOST, "example.org is not the start URL's site"),
    ],
    ids=["localhost-by-name", "private", "link-local-metadata", "ipv6-loopback", "other-host"],
)
def test_a_redirect_off_the_site_is_refused_with_one_warning(refusals, path, reason):
    url, run, _, _, _ = refusals
    [line] = logged(run.log, "WARNING", url + path, reason)
    assert line.split("] WARNING: ")[1].startswith("Refused ")
    assert by_key(run.records()).get(("lead", next(r["id"] for r in EXPECTED if url_path(r["url"]) == path))) is None


def test_refusals_are_counted_by_reason(refusals):
    _, _, stats, _, _ = refusals
    assert stats["wirecrawler/refused/private_address"] == 4  # other port, private, link-local, ::1
    assert stats["wirecrawler/refused/off_site"] == 2  # localhost by name, example.org
    assert stats["wirecrawler/refused/too_large"] == 1


def test_a_redirect_to_a_non_web_scheme_is_not_followed_and_said(refusals):
    url, run, _, _, _ = refusals
    assert logged(run.log, "WARNING", url + TO_FTP, "a redirect to ftp://127.0.0.1/etc/passwd is not followed")


def test_a_redirect_within_the_site_is_followed(refusals):
    url, run, _, hits, _ = refusals
    assert [str(hit) for hit in hits if hit.path in (MOVED, MOVED_TO)] == [f"301 {MOVED}", f"200 {MOVED_TO}"]
    leads = [r for r in run.records() if r["kind"] == "lead" and r["url"] == url + MOVED_TO]
    assert len(leads) == 1


def test_a_response_streamed_past_download_maxsize_is_cut_and_counted(refusals):
    url, run, _, _, _ = refusals
    assert logged(run.log, "WARNING", url + HUGE, "larger than download max size")
    assert logged(run.log, "WARNING", url + HUGE, "not fetched: larger than DOWNLOAD_MAXSIZE (8388608 bytes)")


def test_refused_articles_are_warnings_the_run_succeeds_and_every_brief_is_published(refusals):
    _, run, stats, _, _ = refusals
    assert "Traceback" not in run.log
    assert run.returncode == 0, run.log[-3000:]
    assert stats["wirecrawler/articles_not_fetched"] == 8  # six refusals, ftp, the huge page
    briefs = {id_ for kind, id_ in by_key(run.records()) if kind == "brief"}
    assert briefs == {r["id"] for r in EXPECTED if r["kind"] == "brief"}


def test_a_start_url_naming_a_host_that_resolves_to_loopback_is_refused(tmp_path):
    """``localhost`` is a name: it could point anywhere, so it is judged by what it resolves to."""
    with serving(SAMPLE_SITE) as server:
        url = server.url.replace("127.0.0.1", "localhost")
        run = crawl(url, tmp_path)
        hits = list(server.hits)
    assert hits == []
    assert logged(run.log, "WARNING", url + "/nieuws/buitenland", "localhost resolves to 127.0.0.1, a loopback address")
    assert logged(run.log, "ERROR", url + "/nieuws/buitenland", "Request failed")
    assert run.returncode == 1 and run.records() == []


def test_spider_arguments_other_than_its_own_are_refused_before_anything_is_written(tmp_path):
    """Scrapy makes every -a an attribute of the spider, and every attribute a feed URI value."""
    arguments = ["run_start=../../escape", "name=../x", "seen_store=none"]
    run = crawl("http://127.0.0.1:9", tmp_path, *[part for a in arguments for part in ("-a", a)])
    assert run.returncode == 2  # a usage error
    assert "unknown spider arguments: 'run_start', 'name', 'seen_store'" in run.log
    assert [p for p in tmp_path.parent.rglob("*escape*")] + [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_feed_files_land_where_the_settings_and_the_output_option_say(refusals):
    """-O out-%(name)s.jsonl still works: Scrapy's own parameters stay, the spider's attributes go."""
    _, run, _, _, _ = refusals
    root = run.feed_dir.parent.parent
    assert (root / "out-buitenland.jsonl").is_file()
    per_kind = [p for paths in run.files.values() for p in paths]
    assert sorted(p.parent.name for p in per_kind) == ["briefs", "leads"]
    assert all(p.parent.parent == run.feed_dir for p in per_kind)
