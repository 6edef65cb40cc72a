"""Benchmark 2, parse cost: the project's page parsing against raw lxml and against trafilatura.

On the same HTML strings (listing and article pages of the generated site):

- ``wirecrawler.portal.pages.parse_page`` against ``bench.rawlxml.extract`` (hand-written XPath, the same
  fields and values, checked page by page first): time per page, median of repeats, ratio;
- article pages only, against ``trafilatura.extract`` (generic main-text extraction): time
  ratio, and the text accuracy of both against the generator's truth (exact equality of the
  article text with whitespace normalised, and difflib's similarity ratio);
- the story book's memory: what holding a run's sightings costs, measured with tracemalloc
  for half the site and for all of it (it grows with the stories of the run).
"""

from __future__ import annotations

import difflib
import gc
import json
import statistics
import time
import tracemalloc
from pathlib import Path

import trafilatura

from bench import bigsite, rawlxml
from bench.harness import save, say, spread
from wirecrawler.portal.pages import parse_page
from wirecrawler.news.stories import StoryBook
from wirecrawler.portal.timeline import parse_http_date

BASE = "http://127.0.0.1:8000"


def load_site(site: Path) -> tuple[dict, list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(truth, listing pages as (url, html), articles as (slug, url, html))."""
    truth = json.loads((site / "truth.json").read_text(encoding="utf-8"))
    listings = []
    for number in range(1, truth["listing_pages"] + 1):
        name = "buitenland" if number == 1 else f"buitenland@page={number}"
        url = f"{BASE}/nieuws/buitenland" + (f"?page={number}" if number > 1 else "")
        listings.append((url, (site / "nieuws" / f"{name}.html").read_text(encoding="utf-8")))
    articles = [
        (slug, f"{BASE}/nieuws/{slug}", (site / "nieuws" / f"{slug}.html").read_text(encoding="utf-8"))
        for slug in truth["articles"]
    ]
    return truth, listings, articles


def fields(page) -> dict:
    """A parsed ``Page`` in the baseline's shape, to check that both read the same."""
    clock = [(r.section, r.headline, r.url, r.label) for r in page.clock_rows]
    rows = [(r.headline, r.url, r.teaser, r.label) for r in page.rows]
    if page.kind == "listing":
        return {"kind": "listing", "clock": clock, "rows": rows, "next": page.next_page}
    return {"kind": "article", "clock": clock, "rows": rows, "headline": page.article.headline,
            "paragraphs": page.article.paragraphs, "section": page.section}  # fmt: skip


def timed(function, pages, repeats: int) -> list[float]:
    """CPU seconds per page, one value per repeat over all *pages*.

    CPU time of this process, not wall time: on a shared machine other processes stretch the
    wall clock of single-threaded work without changing the work it did.
    """
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.process_time()
        for page in pages:
            function(page)
        times.append((time.process_time() - started) / len(pages))
    return times


def compare(name_a: str, run_a, name_b: str, run_b, pages, repeats: int) -> dict:
    """Interleaved repeats of two ways to do the same work; microseconds per page and ratio a/b."""
    a_times, b_times = [], []
    for number in range(repeats):
        first, second = ((run_a, a_times), (run_b, b_times)) if number % 2 == 0 else ((run_b, b_times), (run_a, a_times))
        first[1].extend(timed(first[0], pages, 1))
        second[1].extend(timed(second[0], pages, 1))
    ratios = [a / b for a, b in zip(a_times, b_times)]
    return {
        "pages": len(pages),
        f"{name_a}_us_per_page": spread([t * 1e6 for t in a_times], 1),
        f"{name_b}_us_per_page": spread([t * 1e6 for t in b_times], 1),
        "ratio": spread(ratios),
    }


def flat(text: str) -> str:
    return " ".join(text.split())


def accuracy(extracted: dict[str, str], truth: dict[str, str]) -> dict:
    """Exact matches and mean/min similarity of extracted article texts against the truth."""
    ratios, exact = [], 0
    for slug, expected in truth.items():
        got = extracted.get(slug, "")
        exact += got == expected
        ratios.append(difflib.SequenceMatcher(None, got, expected, autojunk=False).ratio())
    return {
        "articles": len(truth),
        "exact": exact,
        "exact_share": round(exact / len(truth), 4),
        "similarity_mean": round(statistics.fmean(ratios), 4),
        "similarity_min": round(min(ratios), 4),
    }


def mismatch_example(extracted: dict[str, str], truth: dict[str, str]) -> dict | None:
    for slug, expected in truth.items():
        got = extracted.get(slug, "")
        if got != expected:
            matcher = difflib.SequenceMatcher(None, got, expected, autojunk=False)
            for tag, a1, a2, b1, b2 in matcher.get_opcodes():
                if tag != "equal":
                    return {"slug": slug, "got": got[max(0, a1 - 30) : a2 + 30], "truth": expected[max(0, b1 - 30) : b2 + 30]}
    return None


def story_book_memory(listings, articles, reference) -> list[dict]:
    """tracemalloc's count of what the story book holds after the pages of half and of all the site."""
    measured = []
    for share in (2, 1):
        some_articles = articles[: len(articles) // share]
        some_listings = listings[: len(listings) // share]
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        book = StoryBook()
        for url, html in some_listings:
            book.add_page(parse_page(html, url), reference)
        for _, url, html in some_articles:
            book.add_page(parse_page(html, url), reference)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        measured.append({"articles": len(some_articles), "sightings": len(book),
                         "bytes": held, "bytes_per_sighting": round(held / len(book))})  # fmt: skip
        del book
    return measured


def run(workdir: Path, repeats: int = 7, sample_articles: int = 400, sample_listings: int = 100) -> dict:
    site = workdir / "site"
    if not (site / "truth.json").exists():
        bigsite.generate(site, 210)
    truth, listings, articles = load_site(site)
    reference = parse_http_date((site / "REF").read_text().strip())

    for url, html in listings + [(url, html) for _, url, html in articles]:
        mine, theirs = fields(parse_page(html, url)), rawlxml.extract(html, url)
        if mine != theirs:
            raise RuntimeError(f"rawlxml and parse_page read {url} differently:\n{mine}\n{theirs}")
    say(f"parse: rawlxml reads the same fields as parse_page on all {len(listings) + len(articles)} pages")

    listing_sample = listings[:sample_listings]
    article_sample = [(url, html) for _, url, html in articles[:sample_articles]]
    result = {"checked_pages": len(listings) + len(articles)}
    for kind, sample in (("listing", listing_sample), ("article", article_sample)):
        result[f"{kind}_vs_lxml"] = compare(
            "project", lambda p: parse_page(p[1], p[0]), "lxml", lambda p: rawlxml.extract(p[1], p[0]), sample, repeats
        )
        say(f"parse: {kind} pages, project/lxml ratio {result[f'{kind}_vs_lxml']['ratio']['median']}")

    # Trafilatura is some ten times slower: fewer repeats, on a quarter of the article sample.
    quarter = article_sample[: max(1, len(article_sample) // 4)]
    result["article_trafilatura_vs_project"] = compare(
        "trafilatura", lambda p: trafilatura.extract(p[1], url=p[0]),
        "project", lambda p: parse_page(p[1], p[0]), quarter, max(3, repeats // 2),
    )  # fmt: skip
    say(f"parse: article pages, trafilatura/project ratio {result['article_trafilatura_vs_project']['ratio']['median']}")

    expected = {slug: flat(" ".join(article["paragraphs"])) for slug, article in truth["articles"].items()}
    project_text, trafilatura_text = {}, {}
    for slug, url, html in articles:
        page = parse_page(html, url)
        project_text[slug] = flat(" ".join(page.article.paragraphs)) if page.article else ""
        trafilatura_text[slug] = flat(trafilatura.extract(html, url=url) or "")
    result["accuracy"] = {
        "truth": "article body as shown (dateline kept, ƫ repaired), whitespace runs as one space",
        "project": accuracy(project_text, expected),
        "trafilatura": accuracy(trafilatura_text, expected),
        "project_first_mismatch": mismatch_example(project_text, expected),
        "trafilatura_first_mismatch": mismatch_example(trafilatura_text, expected),
    }
    say(f"parse: exact article text, project {result['accuracy']['project']['exact_share']}, "
        f"trafilatura {result['accuracy']['trafilatura']['exact_share']}")

    result["story_book_memory"] = story_book_memory(listings, articles, reference)
    result["goal"] = "project/lxml time ratio <= 1.5 on listing and article pages"
    result["goal_met"] = all(result[f"{k}_vs_lxml"]["ratio"]["median"] <= 1.5 for k in ("listing", "article"))
    result["trafilatura_version"] = trafilatura.__version__
    save("parse", result)
    return result


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="wirecrawler-bench-") as tmp:
        print(json.dumps(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp)), indent=2, ensure_ascii=False))
