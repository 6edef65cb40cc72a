"""The sample site generator (testsites/sample.py) and the committed sample site (sample_site/).

The expected feeds are an oracle for the crawler, so nothing here imports ``wirecrawler``:
identities use the slug function below, times are checked against values worked out by hand.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import sys
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from parsel import Selector

from testsites import sample as sitegen

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_site"
GENERATOR = Path(sitegen.__file__)
HOST = "https://www.zeelandnet.nl"
AMS = ZoneInfo("Europe/Amsterdam")
REF_AMS = datetime(2026, 11, 25, 0, 20, tzinfo=AMS)  # REF "Tue, 24 Nov 2026 23:20:00 GMT"
FIELDS = ["id", "headline", "url", "section", "places", "agencies", "published_at",
          "published_precision", "published_label", "kind", "text"]
PRECISIONS = {"second", "minute", "hour", "day", "week", "month", "year"}
LABEL = re.compile(r"\d+ (seconden|minuut|minuten|uur|dag|dagen|week|weken|maand|maanden|jaar) geleden")


def slug(headline: str) -> str:
    """the slug rule (docs/CONTRACT.md), written again here (independent of the generator's)."""
    text = headline.replace("ƫ", "ë").lower()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) != "Mn")
    text = "".join(c for c in text if c in "abcdefghijklmnopqrstuvwxyz0123456789 -")
    return "-".join(part for part in re.split(r"[ -]+", text) if part)


def sha_id(headline: str) -> str:
    return hashlib.sha256(slug(headline).encode("utf-8")).hexdigest()[:32]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def site_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def new_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("new-stories")
    sitegen.generate(out, variant="new-stories")
    return out


# ---------------------------------------------------------------------------------------------
# Hand-checked values. REF is 2026-11-24 23:20 UTC = 2026-11-25 00:20 in Amsterdam (+01:00);
# summer time (+02:00) ended on 2026-10-25 at 01:00 UTC. Keyed by the article URL's path.
# ---------------------------------------------------------------------------------------------
HAND_TIMES = {
    # page 1
    "canadese-premier-akkoord-met-vs-mexico-over-staal-binnen-handbereik": ("2026-11-25T00:19:00+01:00", "second", "45 seconden geleden"),
    "isral-en-libanon-hervatten-gesprekken-over-grens": ("2026-11-25T00:19:00+01:00", "minute", "1 minuut geleden"),
    "who-waarschuwt-voor-snelle-verspreiding-mpox-in-centraal-afrika": ("2026-11-25T00:13:00+01:00", "minute", "0:13"),  # beats "6 minuten geleden"
    "asean-top-in-brunei-eindigt-zonder-slotverklaring": ("2026-11-24T23:58:00+01:00", "minute", "23:58"),  # the day before
    "bendes-in-haiti-blokkeren-opnieuw-belangrijkste-haven": ("2026-11-24T23:10:00+01:00", "minute", "23:10"),  # beats "1 uur geleden"
    "frankrijk-en-duitsland-willen-gezamenlijke-eu-lening-voor-defensie": ("2026-11-24T21:02:00+01:00", "minute", "21:02"),  # beats "3 uur geleden"
    "knokke-heist-verbiedt-deelsteps-op-de-zeedijk": (None, None, None),
    "egypte-presenteert-nieuw-vredesplan-voor-sudan": ("2026-11-24T19:20:00+01:00", "hour", "5 uur geleden"),
    "paus-roept-op-tot-wapenstilstand-met-kerstmis": ("2026-11-24T15:20:00+01:00", "hour", "9 uur geleden"),
    "drie-verdachten-opgepakt-na-explosie-bij-flatgebouw-in-malmo": ("2026-11-24T10:20:00+01:00", "hour", "14 uur geleden"),  # page 2's label, earlier than page 1's "13 uur"
    # only in "Meer uit Buitenland"
    "japanse-centrale-bank-verhoogt-rente-naar-hoogste-niveau-in-dertig-jaar": ("2026-11-24T22:20:00+01:00", "hour", "2 uur geleden"),
    # page 2
    "noord-korea-vuurt-opnieuw-ballistische-raket-af": ("2026-11-24T08:20:00+01:00", "hour", "16 uur geleden"),
    "aardbeving-in-oost-turkije-tientallen-gewonden-ANP241124042": ("2026-11-24T05:20:00+01:00", "hour", "19 uur geleden"),
    "italiaanse-coalitie-in-crisis-geen-meerderheid-meer-voor-begroting": ("2026-11-24T01:20:00+01:00", "hour", "23 uur geleden"),
    "duitsland-schrapt-subsidie-voor-elektrische-autos-opnieuw": ("2026-11-24T00:20:00+01:00", "day", "1 dag geleden"),
    "amerikaanse-senaat-stemt-in-met-noodbudget": ("2026-11-24T00:20:00+01:00", "day", "1 dag geleden"),
    "droogte-in-oost-afrika-treft-miljoenen-mensen": ("2026-11-23T00:20:00+01:00", "day", "2 dagen geleden"),
    "spanje-trekt-miljarden-uit-voor-herstel-na-noodweer": ("2026-11-23T00:20:00+01:00", "day", "2 dagen geleden"),
    "deens-parlement-stemt-in-met-pensioenleeftijd-van-70": ("2026-11-22T00:20:00+01:00", "day", "3 dagen geleden"),
    "argentinie-schaft-tientallen-importheffingen-af": ("2026-11-21T00:20:00+01:00", "day", "4 dagen geleden"),
    # page 3
    "polen-kiest-locatie-voor-tweede-kerncentrale": ("2026-11-18T00:20:00+01:00", "week", "1 week geleden"),
    "staking-legt-griekse-veerdiensten-24-uur-stil": ("2026-11-11T00:20:00+01:00", "week", "2 weken geleden"),
    "portugal-heeft-nieuwe-minderheidsregering": ("2026-11-04T00:20:00+01:00", "week", "3 weken geleden"),
    "ierse-economie-groeit-harder-dan-verwacht": ("2026-10-28T00:20:00+01:00", "week", "4 weken geleden"),
    "oostenrijk-scherpt-regels-voor-gezinshereniging-aan": ("2026-10-25T01:20:00+02:00", "month", "1 maand geleden"),
    "vulkaan-op-ijsland-opnieuw-uitgebarsten": ("2026-09-25T01:20:00+02:00", "month", "2 maanden geleden"),
    "thailand-stelt-toeristenbelasting-opnieuw-uit": ("2026-08-25T01:20:00+02:00", "month", "3 maanden geleden"),
    "mexico-stad-kampt-met-ernstig-watertekort": ("2026-07-25T01:20:00+02:00", "month", "4 maanden geleden"),
    "australie-breidt-verbod-op-sociale-media-voor-tieners-uit": ("2026-06-25T01:20:00+02:00", "month", "5 maanden geleden"),
    "finland-bouwt-hek-langs-grens-met-rusland-verder-uit": ("2026-05-25T01:20:00+02:00", "month", "6 maanden geleden"),
}
HAND_TIMES_PAGE_4 = {
    "noorwegen-stopt-met-nieuwe-vergunningen-voor-olieboringen": ("2026-04-25T01:20:00+02:00", "month", "7 maanden geleden"),
    "oekraine-en-polen-leggen-graanconflict-bij": ("2026-02-25T00:20:00+01:00", "month", "9 maanden geleden"),
    "zwitsers-stemmen-tegen-langere-vakantie": ("2025-12-25T00:20:00+01:00", "month", "11 maanden geleden"),
    "smog-in-new-delhi-bereikt-recordhoogte": ("2025-11-25T00:20:00+01:00", "year", "1 jaar geleden"),
    "roemenie-opent-langste-brug-over-de-donau": ("2025-11-25T00:20:00+01:00", "year", "1 jaar geleden"),
    "londense-metro-rijdt-voortaan-ook-s-nachts-op-meer-lijnen": ("2024-11-25T00:20:00+01:00", "year", "2 jaar geleden"),
    "chili-opent-grootste-zonnepark-van-zuid-amerika": ("2023-11-25T00:20:00+01:00", "year", "3 jaar geleden"),
    "nieuw-zeeland-wil-sigaretten-verbieden-voor-nieuwe-generaties": ("2021-11-25T00:20:00+01:00", "year", "5 jaar geleden"),
}
HAND_TIMES_NEW = {
    "zware-aardbeving-met-kracht-62-treft-kust-van-peru": ("2026-11-25T00:19:00+01:00", "second", "12 seconden geleden"),  # beats Net binnen 0:19
    "zuid-korea-en-japan-gaan-gegevens-over-raketten-delen": ("2026-11-25T00:19:00+01:00", "second", "30 seconden geleden"),
}
MORE_NEWS_ONLY = "japanse-centrale-bank-verhoogt-rente-naar-hoogste-niveau-in-dertig-jaar"
OTHER_SECTIONS = ["grote-brand-in-loods-op-bedrijventerrein-in-terneuzen", "beurs-in-tokio-opent-lager-na-rentebesluit",
                  "wielrenner-uit-goes-tekent-bij-worldtour-ploeg", "kabinet-wil-strengere-regels-voor-flitsbezorgers"]
HAND_DATELINES = {
    "canadese-premier-akkoord-met-vs-mexico-over-staal-binnen-handbereik": (["WASHINGTON", "OTTAWA"], ["ANP", "AFP"]),
    "frankrijk-en-duitsland-willen-gezamenlijke-eu-lening-voor-defensie": (["BRUSSEL", "PARIJS", "BERLIJN"], ["ANP", "DPA", "AFP", "RTR"]),
    "who-waarschuwt-voor-snelle-verspreiding-mpox-in-centraal-afrika": (["GENÈVE"], ["ANP", "RTR"]),
    "egypte-presenteert-nieuw-vredesplan-voor-sudan": (["CAÏRO"], ["ANP", "AF"]),
    "drie-verdachten-opgepakt-na-explosie-bij-flatgebouw-in-malmo": (["MALMÖ"], ["ANP", "TT"]),
    "asean-top-in-brunei-eindigt-zonder-slotverklaring": (["BANDAR SERI BEGAWAN"], ["ANP"]),
    "bendes-in-haiti-blokkeren-opnieuw-belangrijkste-haven": (["PORT-AU-PRINCE"], ["ANP", "AFP"]),
    "japanse-centrale-bank-verhoogt-rente-naar-hoogste-niveau-in-dertig-jaar": (["TOKIO"], ["ANP", "BLOOMBERG", "RTR"]),
    "knokke-heist-verbiedt-deelsteps-op-de-zeedijk": (["KNOKKE-HEIST"], []),
    "paus-roept-op-tot-wapenstilstand-met-kerstmis": ([], []),
    "noord-korea-vuurt-opnieuw-ballistische-raket-af": ([], []),
    "duitsland-schrapt-subsidie-voor-elektrische-autos-opnieuw": (["BERLIJN"], ["AFP", "DPA"]),
    "mexico-stad-kampt-met-ernstig-watertekort": (["MEXICO-STAD"], ["ANP", "AFP"]),
}


def path_of(url: str) -> str:
    assert url.startswith(HOST + "/nieuws/"), url
    return url[len(HOST + "/nieuws/"):]


# ---------------------------------------------------------------------------------------------
# (1) the committed sample site is the base variant's output
# ---------------------------------------------------------------------------------------------
def test_sample_site_is_the_generated_base_variant(tmp_path):
    written = sitegen.generate(tmp_path, variant="base")
    fresh, committed = site_files(tmp_path), site_files(SAMPLE)
    hint = "regenerate it: .venv/bin/python -m testsites.sample sample_site"
    assert set(fresh) == set(written)
    ours = {f for f in committed if f == "REF" or f.startswith("nieuws/") or f.startswith("expected")}
    assert ours == set(fresh), f"sample_site has other files than the generator writes; {hint}"
    for name in sorted(fresh):
        assert committed[name] == fresh[name], f"sample_site/{name} differs; {hint}"


def test_generate_removes_stale_pages_and_feeds(tmp_path):
    sitegen.generate(tmp_path, variant="new-stories")
    (tmp_path / "notes.txt").write_text("kept")
    sitegen.generate(tmp_path, variant="base")
    assert site_files(tmp_path).keys() - {"notes.txt"} == site_files(SAMPLE).keys()
    assert (tmp_path / "notes.txt").read_text() == "kept"


def test_generator_is_self_contained():
    tree = ast.parse(GENERATOR.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    source = GENERATOR.read_text(encoding="utf-8")
    assert "/shared/" not in source and "../shared" not in source  # never reads the shared model


# ---------------------------------------------------------------------------------------------
# (2) the expected records follow the contract (docs/CONTRACT.md)
# ---------------------------------------------------------------------------------------------
def test_slug_rule():
    assert slug("Aardbeving met kracht 6,1") == "aardbeving-met-kracht-61"
    assert slug("H&M") == "hm"
    assert slug("Israƫl en Libanon hervatten gesprekken over grens") == "israel-en-libanon-hervatten-gesprekken-over-grens"
    assert slug('Canadese premier: "Akkoord met VS & Mexico over staal binnen handbereik"') == \
        "canadese-premier-akkoord-met-vs-mexico-over-staal-binnen-handbereik"
    assert slug("Paus roept op tot ‘wapenstilstand met Kerstmis’") == "paus-roept-op-tot-wapenstilstand-met-kerstmis"
    assert slug("Italiaanse coalitie in crisis: 'Geen meerderheid meer voor begroting'") == \
        "italiaanse-coalitie-in-crisis-geen-meerderheid-meer-voor-begroting"
    assert slug("Londense metro rijdt voortaan ook 's nachts op meer lijnen") == "londense-metro-rijdt-voortaan-ook-s-nachts-op-meer-lijnen"
    assert slug("Drie verdachten opgepakt na explosie bij flatgebouw in Malmö") == "drie-verdachten-opgepakt-na-explosie-bij-flatgebouw-in-malmo"
    assert slug("Bendes in Haïti blokkeren opnieuw belangrijkste haven") == "bendes-in-haiti-blokkeren-opnieuw-belangrijkste-haven"
    assert slug("Zuid-Korea: al 3000 Noord-Koreaanse militairen naar Rusland") == "zuid-korea-al-3000-noord-koreaanse-militairen-naar-rusland"
    assert sha_id("Zuid-Korea: al 3000 Noord-Koreaanse militairen naar Rusland") == "76cbec0cf7e62682715fbb37775e517a"  # the shared model's id
    for headline in ["Israƫl en Libanon", "Aardbeving in Oost-Turkije, tientallen gewonden", "H&M"]:
        assert sitegen.slugify(headline) == slug(headline)


EXPECTED_FILES = ["expected-feed.jsonl", "expected-feed-full.jsonl"]


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_expected_records_have_the_feed_fields(name):
    raw = (SAMPLE / name).read_text(encoding="utf-8")
    assert raw.endswith("\n") and "\\u" not in raw  # ensure_ascii off
    records = read_jsonl(SAMPLE / name)
    keys = set()
    for r in records:
        assert list(r) == FIELDS
        assert all(isinstance(r[f], str) for f in ["id", "headline", "url", "section", "kind", "text"])
        assert re.fullmatch(r"[0-9a-f]{32}", r["id"])
        assert r["id"] == sha_id(r["headline"]), r["headline"]
        assert "ƫ" not in r["headline"] + r["text"]
        assert r["url"].startswith(HOST + "/nieuws/") and re.fullmatch(r"[a-z0-9-]+(-ANP\d+)?", path_of(r["url"]))
        assert r["section"] == "Buitenland"
        assert r["kind"] in {"lead", "brief"}
        for f in ["places", "agencies"]:
            assert isinstance(r[f], list) and all(isinstance(x, str) and x == x.upper() and x.strip() == x for x in r[f])
        assert len(r["places"]) <= 3 and len(r["agencies"]) <= 4
        assert r["places"] or not r["agencies"]
        when = [r["published_at"], r["published_precision"], r["published_label"]]
        assert all(w is None for w in when) or all(isinstance(w, str) for w in when)
        if when[0] is not None:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00[+-]\d\d:\d\d", when[0])
            instant = datetime.fromisoformat(when[0])
            assert instant.utcoffset() == instant.astimezone(AMS).utcoffset()  # Amsterdam's offset then
            assert instant <= REF_AMS
            assert when[1] in PRECISIONS
            assert LABEL.fullmatch(when[2]) or (re.fullmatch(r"\d{1,2}:\d\d", when[2]) and when[1] == "minute")
        paragraphs = r["text"].split("\n\n")
        assert all(p and p == p.strip() and "  " not in p and "\n" not in p and "\xa0" not in p for p in paragraphs)
        if r["kind"] == "brief":
            assert len(paragraphs) == 1
        assert (r["kind"], r["id"]) not in keys
        keys.add((r["kind"], r["id"]))
    by_key = {(r["kind"], r["id"]): r for r in records}
    for (kind, story), lead in by_key.items():
        if kind == "lead":
            brief = by_key[("brief", story)]
            for f in FIELDS[:9]:
                assert brief[f] == lead[f], (lead["headline"], f)
            assert lead["text"].startswith(brief["text"])


def test_expected_feeds_hold_the_hand_checked_stories():
    default = read_jsonl(SAMPLE / "expected-feed.jsonl")
    full = read_jsonl(SAMPLE / "expected-feed-full.jsonl")
    assert (len(default), len(full)) == (59, 75)
    for records, hand in [(default, HAND_TIMES), (full, HAND_TIMES | HAND_TIMES_PAGE_4)]:
        assert {path_of(r["url"]) for r in records} == set(hand)
        for r in records:
            assert (r["published_at"], r["published_precision"], r["published_label"]) == hand[path_of(r["url"])], r["headline"]
        leads = {path_of(r["url"]) for r in records if r["kind"] == "lead"}
        assert leads == set(hand) - {MORE_NEWS_ONLY}  # it has a brief but no lead
        for r in records:
            if path_of(r["url"]) in HAND_DATELINES:
                assert (r["places"], r["agencies"]) == HAND_DATELINES[path_of(r["url"])]
    full_by = {(r["kind"], path_of(r["url"])): r for r in full}
    assert [r for r in full if path_of(r["url"]) in HAND_TIMES] == default

    israel = full_by[("lead", "isral-en-libanon-hervatten-gesprekken-over-grens")]
    assert israel["headline"] == "Israël en Libanon hervatten gesprekken over grens"
    assert israel["id"] == hashlib.sha256(b"israel-en-libanon-hervatten-gesprekken-over-grens").hexdigest()[:32]
    assert israel["text"].startswith("Israël en Libanon hervatten") and "Israëlische premier" in israel["text"]
    turkey = full_by[("lead", "aardbeving-in-oost-turkije-tientallen-gewonden-ANP241124042")]
    assert turkey["id"] == hashlib.sha256(b"aardbeving-in-oost-turkije-tientallen-gewonden").hexdigest()[:32]
    korea = full_by[("brief", "noord-korea-vuurt-opnieuw-ballistische-raket-af")]
    assert korea["text"].startswith("Noord-Korea heeft - zegt de Zuid-Koreaanse legerleiding - dinsdagochtend")
    canada = full_by[("lead", "canadese-premier-akkoord-met-vs-mexico-over-staal-binnen-handbereik")]
    assert canada["headline"] == 'Canadese premier: "Akkoord met VS & Mexico over staal binnen handbereik"'
    assert '"binnen enkele dagen"' in canada["text"] and "‘constructieve gesprekken’" in canada["text"]
    assert full_by[("lead", "bendes-in-haiti-blokkeren-opnieuw-belangrijkste-haven")]["text"] == (
        "Gewapende bendes hebben de belangrijkste haven van Haïti opnieuw afgesloten. Schepen met voedsel en brandstof "
        "kunnen daardoor niet worden gelost, meldt de Haïtiaanse havenautoriteit.\n\n"
        "De bendes controleren naar schatting 80 procent van de hoofdstad Port-au-Prince. Hulporganisaties waarschuwen "
        "voor een voedseltekort.\n\n"
        "Een internationale politiemissie onder leiding van Kenia probeert de haven sinds september te heroveren. "
        "Volgens de VN zijn dit jaar al meer dan vierduizend mensen omgekomen bij bendegeweld.")
    assert full_by[("lead", "frankrijk-en-duitsland-willen-gezamenlijke-eu-lening-voor-defensie")]["text"] == (
        "Frankrijk en Duitsland willen dat de Europese Unie gezamenlijk geld leent om de defensie-uitgaven van de "
        "lidstaten te financieren. Dat staat in een voorstel dat de twee landen dinsdag naar Brussel hebben gestuurd.\n\n"
        'Het gaat volgens de Franse minister van Financiën om een fonds van "minstens 150 miljard euro". De Europese '
        "Commissie zou de leningen namens de lidstaten moeten aangaan.\n\n"
        "Kritiek\n\n"
        "Nederland en Oostenrijk zijn tegen gezamenlijke schulden. Zij vinden dat lidstaten hun defensie zelf moeten "
        "betalen. Het voorstel wordt donderdag besproken door de Europese regeringsleiders.")


# ---------------------------------------------------------------------------------------------
# The pages show what the expected feeds say
# ---------------------------------------------------------------------------------------------
def page(site: Path, name: str) -> Selector:
    return Selector((site / "nieuws" / f"{name}.html").read_text(encoding="utf-8"))


def clean(text: str) -> str:
    return " ".join(text.replace("ƫ", "ë").split())


def strip_dateline(text: str, places: list, agencies: list) -> str:
    prefix = "/".join(places) + (f" ({'/'.join(agencies)})" if agencies else "") + " - " if places else ""
    assert text.startswith(prefix)
    return text[len(prefix):]


def label_instant(label: str) -> datetime:
    n, unit = label.split()[:2]
    n = int(n)
    ref = REF_AMS.astimezone(ZoneInfo("UTC"))
    days = {"seconden": n / 86400, "minuut": n / 1440, "minuten": n / 1440, "uur": n / 24, "dag": n, "dagen": n,
            "week": 7 * n, "weken": 7 * n, "maand": 28 * n, "maanden": 28 * n, "jaar": 365 * n}[unit]
    return ref - timedelta(days=days)  # months/years approximated: only compared against 48 hours


def listing_pages(site: Path) -> dict[int, Selector]:
    return {n: page(site, "buitenland" if n == 1 else f"buitenland@page={n}") for n in range(1, 5)}


def test_listing_pages_page_and_age_as_the_crawls_assume():
    pages = listing_pages(SAMPLE)
    limit = REF_AMS - timedelta(hours=48)
    for n, sel in pages.items():
        rows = sel.css("ul.news-list > li.news-list__item")
        assert 8 <= len(rows) <= 12 and sel.css("ul.news-list > li.news-list__ad")
        assert bool(sel.css("nav.pager a.pager__next[rel=next]")) == (n < 4)
        instants = [label_instant(t) for t in sel.css("span.news-list__time::text").getall()]
        if n <= 2:
            assert any(t > limit for t in instants)  # the crawl goes on to the next page
        else:
            assert len(instants) == len(rows) and all(t < limit for t in instants)  # wholly too old
    assert len(pages[1].css("li.news-list__item")) > len(pages[1].css("span.news-list__time"))  # a row without time
    assert not (SAMPLE / "nieuws" / "buitenland@page=5.html").exists()


def test_pages_show_the_expected_records():
    records = read_jsonl(SAMPLE / "expected-feed-full.jsonl")
    rows = {}  # href -> [(title, teaser)] from listings and "Meer uit Buitenland"
    sels = list(listing_pages(SAMPLE).values())
    sels += [page(SAMPLE, path_of(r["url"])) for r in records if r["kind"] == "lead"]
    for sel in sels:
        for a in sel.css("li.news-list__item > a.news-list__link"):
            rows.setdefault(a.attrib["href"], []).append((a.attrib["title"], a.css("p.news-list__text::text").get()))
    for r in records:
        href = "/nieuws/" + path_of(r["url"])
        if r["kind"] == "brief":
            assert rows[href]
            for title, teaser in rows[href]:
                assert clean(title) == r["headline"]
                assert strip_dateline(clean(teaser), r["places"], r["agencies"]) == r["text"]
        else:
            sel = page(SAMPLE, path_of(r["url"]))
            assert clean(sel.css("h1.article__title::text").get()) == r["headline"]
            assert clean(sel.css('meta[property="og:title"]::attr(content)').get()) == r["headline"]
            assert sel.css('link[rel="canonical"]::attr(href)').get() == r["url"]
            assert sel.css("nav.breadcrumb a::text").getall()[-1] == "Buitenland"
            assert len(sel.css("section.more-news li.news-list__item")) == 7
            paragraphs = [clean("".join(p.css("::text").getall()))
                          for p in sel.css("div.article__body > p:not(.article__related)")]
            paragraphs = [p for p in paragraphs if p]
            paragraphs[0] = strip_dateline(paragraphs[0], r["places"], r["agencies"])
            assert "\n\n".join(paragraphs) == r["text"]
    assert not (SAMPLE / "nieuws" / f"{MORE_NEWS_ONLY}.html").exists()
    for sel in listing_pages(SAMPLE).values():
        assert f"/nieuws/{MORE_NEWS_ONLY}" not in sel.get()
    ids = {r["id"] for r in records}
    for name in OTHER_SECTIONS:
        sel = page(SAMPLE, name)
        assert sel.css("nav.breadcrumb a::text").getall()[-1] != "Buitenland"
        assert sha_id(sel.css("h1.article__title::text").get()) not in ids
    net_binnen = [sel.css("section.net-binnen li").getall() for sel in sels]
    assert all(nb == net_binnen[0] for nb in net_binnen) and len(net_binnen[0]) == 8


# ---------------------------------------------------------------------------------------------
# (3) the variants
# ---------------------------------------------------------------------------------------------
def test_new_stories_variant(new_site):
    base = read_jsonl(SAMPLE / "expected-feed.jsonl")
    fresh = read_jsonl(new_site / "expected-feed.jsonl")
    new = read_jsonl(new_site / "expected-new.jsonl")
    assert (new_site / "REF").read_bytes() == (SAMPLE / "REF").read_bytes()
    assert sorted((r["kind"], path_of(r["url"])) for r in new) == sorted(
        (kind, p) for p in HAND_TIMES_NEW for kind in ("brief", "lead"))
    for r in new:
        assert r["id"] == sha_id(r["headline"])
        assert (r["published_at"], r["published_precision"], r["published_label"]) == HAND_TIMES_NEW[path_of(r["url"])]
        assert r in fresh
    seen = {(r["kind"], r["id"]) for r in base}
    assert {(r["kind"], r["id"]) for r in fresh} == seen | {(r["kind"], r["id"]) for r in new}
    assert not seen & {(r["kind"], r["id"]) for r in new}
    assert len(read_jsonl(new_site / "expected-feed-full.jsonl")) == 75 + 4
    first = page(new_site, "buitenland").css("li.news-list__item a::attr(href)").getall()
    assert first[:2] == ["/nieuws/" + p for p in HAND_TIMES_NEW] and len(first) == 12
    more = page(new_site, "finland-bouwt-hek-langs-grens-met-rusland-verder-uit")
    assert more.css("section.more-news a::attr(href)").getall()[:2] == ["/nieuws/" + p for p in HAND_TIMES_NEW]
    for p in HAND_TIMES_NEW:
        assert (new_site / "nieuws" / f"{p}.html").is_file()


def test_renamed_classes_variant(tmp_path):
    written = sitegen.generate(tmp_path, variant="renamed-classes")
    assert not [f for f in written if f.endswith(".jsonl")] and not list(tmp_path.glob("*.jsonl"))
    base = site_files(SAMPLE)
    for name, content in site_files(tmp_path).items():
        if name.startswith("nieuws/buitenland"):
            html = content.decode("utf-8")
            for old in ["news-list__item", "news-list__link", "news-list__text", "news-list__time"]:
                assert old not in html
            assert 'class="teaser__link"' in html and 'class="teaser__time"' in html
        else:
            assert content == base[name], name  # only the listing pages change


def test_unknown_variant(tmp_path):
    with pytest.raises(ValueError):
        sitegen.generate(tmp_path, variant="nope")
