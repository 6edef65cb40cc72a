"""A large generated Buitenland section for the benchmarks, in the markup of ``sample_site/``.

usage: python bench/bigsite.py OUTDIR [--listing-pages N]

Writes OUTDIR/REF, OUTDIR/nieuws/*.html (N listing pages of ten stories each, every story's
article page) and OUTDIR/truth.json, the known truth of every article: its headline and its
body paragraphs as a reader sees them (dateline kept, whitespace collapsed, ``ƫ`` repaired).

Pages are built with the sample site's own templates (``testsites/sample.py``), so the crawler
meets the same markup: news-list rows with an advertisement row, a pager, Net binnen on every
page, article bodies with inline ads, figures, "Lees ook" lines, inline markup and empty
paragraphs, and "Meer uit Buitenland" lists. Stories are deterministic (a fixed seed), with
unique headlines and datelines of every form the site shows; a few carry the wire's ``ƫ``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from html import escape
from pathlib import Path

from testsites import sample as sitegen

ROWS_PER_PAGE = 10
AD_ROW_AFTER = 4  # an advertisement row after the fourth story, as on the sample site
MORE_NEWS = 7
SEED = 20261124

ACTORS = [
    "De regering van {c}", "Het parlement van {c}", "De president van {c}", "De oppositie in {c}",
    "De centrale bank van {c}", "Het leger van {c}", "De premier van {c}", "Vakbonden in {c}",
    "Boeren in {c}", "Studenten in {c}", "De politie in {c}", "Rechters in {c}",
    "Artsen in {c}", "Milieugroepen in {c}", "De minister van Financiën van {c}",
]
ACTIONS = [
    "kondigt nieuwe maatregelen aan tegen", "protesteert tegen", "stemt in met een plan voor",
    "waarschuwt voor", "onderzoekt", "trekt extra geld uit voor", "schort de gesprekken op over",
    "wil snel duidelijkheid over", "presenteert een voorstel over", "sluit een akkoord over",
    "eist opheldering over", "zet een streep door",
]
TOPICS = [
    "de droogte", "de energieprijzen", "de hervorming van het pensioen", "de grensbewaking",
    "de staalimport", "de nieuwe kieswet", "de bouw van een kerncentrale", "de visserijquota",
    "de inflatie", "het tekort aan medicijnen", "de spoorstaking", "de luchtvervuiling",
    "de verkiezingsuitslag", "de wapenleveranties", "de graanexport", "de bosbranden",
    "de staatsschuld", "de mijnbouw", "de vluchtelingenopvang", "de overstromingen",
]
COUNTRIES = [
    "Chili", "Kenia", "Polen", "Japan", "Canada", "Brazilië", "Oekraïne", "Egypte", "Zweden",
    "Portugal", "India", "Mexico", "Ghana", "Vietnam", "Turkije", "Peru", "Noorwegen", "Israƫl",
    "Marokko", "Australië", "Indonesië", "Hongarije", "Colombia", "Nigeria", "Ierland",
]
PLACES = [
    ["SANTIAGO"], ["NAIROBI"], ["WARSCHAU"], ["TOKIO"], ["OTTAWA"], ["BRASILIA"], ["KYIV"],
    ["CAÏRO"], ["STOCKHOLM"], ["LISSABON"], ["NEW DELHI"], ["MEXICO-STAD"], ["ACCRA"],
    ["HANOI"], ["ANKARA"], ["LIMA"], ["OSLO"], ["JERUZALEM"], ["RABAT"], ["CANBERRA"],
    ["JAKARTA"], ["BOEDAPEST"], ["BOGOTÁ"], ["ABUJA"], ["DUBLIN"], ["GENÈVE"],
    ["WASHINGTON", "OTTAWA"], ["BRUSSEL", "PARIJS", "BERLIJN"], ["BANDAR SERI BEGAWAN"],
]
AGENCIES = [["ANP"], ["ANP", "AFP"], ["ANP", "RTR"], ["ANP", "DPA"], ["ANP", "BLOOMBERG", "RTR"],
            ["AFP", "DPA"], ["ANP", "DPA", "AFP", "RTR"], ["ANP", "AF"]]
SENTENCES = [
    "Dat meldden ingewijden {d} aan persbureaus.",
    "Volgens waarnemers is de stap een reactie op de onrust van de afgelopen weken.",
    "Een woordvoerder wilde {d} niet ingaan op details, maar sprak van \"constructieve gesprekken\".",
    "Critici noemen het plan ‘te weinig en te laat’.",
    "Het gaat om een bedrag van naar schatting {n} miljoen euro.",
    "Eerdere pogingen om tot een oplossing te komen liepen op niets uit.",
    "De kwestie ligt al jaren gevoelig in het land.",
    "Buurlanden volgen de ontwikkelingen op de voet.",
    "Volgens de laatste peiling steunt {n} procent van de bevolking de plannen.",
    "De oppositie kondigde aan {d} met een eigen voorstel te komen.",
    "Hulporganisaties waarschuwen dat de gevolgen voor de armste inwoners groot zijn.",
    "Het parlement debatteert {d} over de kwestie.",
]
DAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
SUBHEADS = ["Kritiek", "Onrust", "Gevolgen", "Reactie", "Achtergrond"]
OTHER_SECTIONS = [("Zeeland", "Nieuwe fietsbrug over het kanaal in Middelburg"),
                  ("Sport", "Zeeuwse roeiers winnen brons bij wereldbeker"),
                  ("Financieel", "Beurs in Amsterdam opent hoger")]


def repair(text: str) -> str:
    return text.replace("\u01ab", "ë")


def flat(text: str) -> str:
    """Whitespace runs as one space, trimmed: how a reader sees a paragraph."""
    return " ".join(text.split())


def age_label(minutes: int) -> str:
    """the site's rounded-down Dutch label for an age in minutes."""
    for unit_minutes, one, many in ((525600, "jaar", "jaar"), (43200, "maand", "maanden"),
                                    (10080, "week", "weken"), (1440, "dag", "dagen"),
                                    (60, "uur", "uur"), (1, "minuut", "minuten")):
        if minutes >= unit_minutes:
            n = minutes // unit_minutes
            return f"{n} {one if n == 1 else many} geleden"
    return "30 seconden geleden"


def sentence(rng: random.Random) -> str:
    return rng.choice(SENTENCES).format(d=rng.choice(DAYS), n=rng.randint(3, 97))


def make_story(number: int, headline: str, rng: random.Random) -> dict:
    """One story in sitegen's form (headline, slug, dateline, body blocks, label)."""
    kind = rng.random()
    places = [] if kind < 0.05 else rng.choice(PLACES)
    agencies = [] if kind < 0.12 else rng.choice(AGENCIES)
    lead = f"{headline}, zo werd {rng.choice(DAYS)} bekend. " + sentence(rng)
    body: list = [lead]
    for _ in range(rng.randint(2, 5)):
        shape = rng.random()
        if shape < 0.12:
            body.append(sitegen.AD)
        elif shape < 0.2:
            body.append(sitegen.figure(f"/media/foto-{number}.jpg", "Foto: ANP"))
        elif shape < 0.28:
            body.append(rng.choice(SUBHEADS))
        elif shape < 0.4:
            words = sentence(rng)
            body.append(sitegen.raw(
                f'\n            <strong>{escape(words)}</strong>  Meer in\n            het <a href="/dossier">dossier</a>.&nbsp;',
                f"{words} Meer in het dossier."))
        elif shape < 0.45:
            body.append(sitegen.EMPTY)
        body.append(" ".join(sentence(rng) for _ in range(rng.randint(2, 4))))
    if rng.random() < 0.15:
        body.append(sitegen.related('Lees ook: <a href="/nieuws/eerder">Eerder nieuws over dit onderwerp</a>'))
    minutes = 1 + number * 7  # every story older than the one above it
    label = None if rng.random() < 0.03 else age_label(minutes)
    return dict(key=f"b{number:05d}", headline=headline, slug=sitegen.slugify(headline),
                places=places, agencies=agencies, label=label, body=body)


def make_stories(count: int, rng: random.Random) -> list[dict]:
    combinations = [(a, b, c, d) for a in ACTORS for b in ACTIONS for c in TOPICS for d in COUNTRIES]
    if count > len(combinations):
        raise ValueError(f"at most {len(combinations)} stories")
    stories = []
    for number, (actor, action, topic, country) in enumerate(rng.sample(combinations, count)):
        stories.append(make_story(number, f"{actor.format(c=country)} {action} {topic}", rng))
    return stories


def truth_paragraphs(story: dict) -> list[str]:
    """The body as a reader sees it: the dateline kept on the lead paragraph."""
    texts = []
    for number, block in enumerate(story["body"]):
        if isinstance(block, str):
            texts.append(sitegen.teaser(story) if number == 0 else block)
        elif block[0] == "raw":
            texts.append(block[2])
    return [repair(flat(text)) for text in texts]


def net_binnen(stories: list[dict]) -> str:
    """Five newest stories of ours and three of other sections, newest first."""
    rows = [("Buitenland", s["slug"], s["headline"]) for s in stories[:5]]
    rows[2:2] = [(section, sitegen.slugify(title), title) for section, title in OTHER_SECTIONS]
    lines = []
    for position, (section, slug, title) in enumerate(rows):
        minute = 59 - 4 * position
        lines.append(
            f'        <li><a href="/nieuws/{slug}"><span class="net-binnen__cat">{section}</span> '
            f'<span class="net-binnen__time">0:{minute:02d}</span> <span class="net-binnen__title">{escape(title)}</span></a></li>'
        )
    return "\n".join(lines)


def render(listing_pages: int, seed: int = SEED) -> tuple[dict[str, str], dict]:
    """(relative path -> content, truth) for a site of *listing_pages* listing pages."""
    rng = random.Random(seed)
    stories = make_stories(listing_pages * ROWS_PER_PAGE, rng)
    newest_nb = net_binnen(stories)
    files = {"REF": sitegen.REF + "\n"}
    for page in range(1, listing_pages + 1):
        rows = [sitegen.news_row(s, s["label"]) for s in stories[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE]]
        rows.insert(AD_ROW_AFTER, sitegen.ad_row())
        main = sitegen.LISTING_MAIN.format(rows="\n".join(rows), pager=sitegen.pager_html(page, listing_pages))
        name = "buitenland.html" if page == 1 else f"buitenland@page={page}.html"
        files[f"nieuws/{name}"] = sitegen.PAGE.format(title="Buitenland", head="", main=main, net_binnen=newest_nb)
    for story in stories:
        more = [s for s in stories[: MORE_NEWS + 1] if s is not story][:MORE_NEWS]
        main = sitegen.ARTICLE_MAIN.format(
            section="Buitenland", section_path="buitenland", headline=escape(story["headline"]), figure="",
            body=sitegen.body_html(story), rows="\n".join(sitegen.news_row(s, s["label"]) for s in more),
        )
        head = sitegen.ARTICLE_HEAD.format(headline=escape(story["headline"]), host=sitegen.HOST, slug=story["slug"])
        files[f"nieuws/{story['slug']}.html"] = sitegen.PAGE.format(
            title=escape(story["headline"]), head=head, main=main, net_binnen=newest_nb
        )
    truth = {
        "listing_pages": listing_pages,
        "articles": {s["slug"]: {"headline": repair(s["headline"]), "paragraphs": truth_paragraphs(s)} for s in stories},
    }
    return files, truth


def generate(outdir: Path, listing_pages: int) -> dict:
    """Write the site into *outdir* (which should be empty) and return its truth."""
    files, truth = render(listing_pages)
    (outdir / "nieuws").mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        (outdir / rel).write_text(content, encoding="utf-8")
    (outdir / "truth.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--listing-pages", type=int, default=210)
    args = parser.parse_args(argv)
    truth = generate(args.outdir, args.listing_pages)
    print(f"{args.outdir}: {args.listing_pages} listing pages, {len(truth['articles'])} articles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
