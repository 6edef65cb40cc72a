"""``python -m wirecrawler demo / parse / serve`` as a person runs them, mistakes included.

Each runs as a subprocess on real files: the demo never deletes what it did not make, ``parse``
says in one line why a file gives no records, ``serve`` says in one line why it cannot serve.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.crawling import ROOT, SAMPLE_SITE

TIMEOUT = 120


def wirecrawler(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wirecrawler", *args],
        cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def tree(folder: Path) -> dict[str, str]:
    """Every file under *folder* (symbolic links not followed) with its content."""
    return {
        str(p.relative_to(folder)): p.read_text() if p.is_file() and not p.is_symlink() else "->"
        for p in sorted(folder.rglob("*"))
        if not p.is_dir() or p.is_symlink()
    }


# --- demo ----------------------------------------------------------------------------------------


def test_demo_refuses_a_folder_it_did_not_make(tmp_path):
    work = tmp_path / "work"
    (work / "notes").mkdir(parents=True)
    (work / "notes" / "todo.txt").write_text("mine\n")
    (work / "report.odt").write_text("mine too\n")
    before = tree(work)

    for out in (".", str(work)):  # --out . in the working directory, or the folder named
        done = wirecrawler("demo", "--site", str(SAMPLE_SITE), "--out", out, cwd=work)
        assert done.returncode == 2, done.stdout + done.stderr
        (line,) = done.stderr.splitlines()
        assert line.startswith(f"demo: {out} is not empty (notes, report.odt) and the demo did not make it")
        assert "--out" in line
        assert done.stdout == ""
        assert tree(work) == before  # untouched, nothing added

    file = tmp_path / "a-file"
    file.write_text("x")
    done = wirecrawler("demo", "--site", str(SAMPLE_SITE), "--out", str(file))
    assert (done.returncode, done.stderr) == (2, f"demo: {file} is not a folder\n")


def test_demo_reuses_its_own_folder_and_deletes_only_its_own_entries(tmp_path):
    out = tmp_path / "demo"
    first = wirecrawler("demo", "--site", str(SAMPLE_SITE), "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert (out / ".wirecrawler-demo").is_file()
    assert list((out / "feeds" / "leads").glob("*.jsonl"))

    # Someone's files beside the demo's, and a demo entry turned into a link to elsewhere.
    (out / "notes.txt").write_text("keep me\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("keep me too\n")
    (out / "crawl-2.log").unlink()
    (out / "crawl-2.log").symlink_to(elsewhere / "precious")
    again = wirecrawler("demo", "--site", str(SAMPLE_SITE), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert (out / "notes.txt").read_text() == "keep me\n"
    assert (elsewhere / "precious").read_text() == "keep me too\n"
    assert not (out / "crawl-2.log").is_symlink()
    # The demo's own entries were replaced: a fresh seen store, so the first run publishes again.
    assert "first run: exit status 0" in again.stdout and again.stdout.count(" records\n") == 2
    assert sorted(p.name for p in out.iterdir()) == [
        ".wirecrawler-demo", "crawl-1.log", "crawl-2.log", "feeds", "notes.txt", "state",
    ]  # fmt: skip


def test_demo_takes_over_the_folder_an_older_demo_left(tmp_path):
    """Demos before the marker left exactly their own entries: `make demo` keeps working."""
    out = tmp_path / "demo"
    (out / "state").mkdir(parents=True)
    (out / "feeds").mkdir()
    (out / "crawl-1.log").write_text("an older demo\n")
    done = wirecrawler("demo", "--site", str(SAMPLE_SITE), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / ".wirecrawler-demo").is_file() and (out / "crawl-1.log").read_text() != "an older demo\n"


# --- parse ---------------------------------------------------------------------------------------


def test_parse_says_in_one_line_that_a_file_is_no_news_page(tmp_path):
    recipe = tmp_path / "appeltaart.html"
    recipe.write_text(
        "<!DOCTYPE html><html><head><title>Appeltaart</title></head><body><h1>Appeltaart</h1>"
        "<ul><li>500 g appels</li><li>200 g bloem</li></ul><p>Verwarm de oven voor op 180 graden.</p>"
        "</body></html>\n"
    )
    notes = tmp_path / "notes.txt"
    notes.write_text("Boodschappen\nappels, bloem, boter\nen suiker\n")
    empty = tmp_path / "empty.html"
    empty.write_text("")
    cases = {
        "/bin/ls": "not a news page: binary data (it holds NUL bytes)",
        str(recipe): "not a news page: HTML that shows no listing rows and no article",
        str(notes): 'not a news page: text with no dateline ("PLACE (ANP) - ...") and no "Meer uit" list',
        str(empty): "not a news page: the file is empty",
    }
    for path, why in cases.items():
        done = wirecrawler("parse", path, "--now", "2026-11-24T10:00:00Z")
        assert (done.returncode, done.stdout, done.stderr) == (1, "", f"parse: {path}: {why}\n")


def test_parse_still_reads_the_seed_text_and_saved_pages():
    seed = wirecrawler("parse", "tests/fixtures/seed-article.txt", "--now", "2026-11-24T10:00:00Z")
    assert seed.returncode == 0 and seed.stderr == ""
    assert sorted(json.loads(line)["kind"] for line in seed.stdout.splitlines()) == ["brief"] * 7 + ["lead"]
    article = next(p for p in sorted((SAMPLE_SITE / "nieuws").glob("*.html")) if "buitenland" not in p.name)
    for page, kinds in ((SAMPLE_SITE / "nieuws" / "buitenland.html", {"brief"}), (article, {"lead", "brief"})):
        done = wirecrawler("parse", str(page), "--now", "2026-11-24T23:20:00Z")
        assert done.returncode == 0, done.stderr
        assert {json.loads(line)["kind"] for line in done.stdout.splitlines()} <= kinds
        assert done.stdout


# --- serve ---------------------------------------------------------------------------------------


def test_serve_says_in_one_line_why_it_cannot(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = wirecrawler("serve", str(SAMPLE_SITE), "--port", str(port))
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"serve: cannot listen on 127.0.0.1 port {port}: Address already in use\n"

    done = wirecrawler("serve", str(tmp_path / "no-such-site"))
    assert (done.returncode, done.stderr) == (2, f"serve: no such folder: {tmp_path / 'no-such-site'}\n")
    done = wirecrawler("serve", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == f"serve: {tmp_path} is not a saved site: it has no REF file (the HTTP Date it is served with)\n"
    done = wirecrawler("serve", str(SAMPLE_SITE), "--port", "80000")
    assert done.returncode == 2 and "a port is 0 to 65535" in done.stderr and "Traceback" not in done.stderr
