"""The sample site generator run as its command, ``python -m testsites.sample``, in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # nothing here imports wirecrawler (tests/unit/test_sitegen.py)


def test_cli(tmp_path):
    out = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "testsites.sample", str(out), "--variant", "renamed-classes"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (out / "REF").read_text() == "Tue, 24 Nov 2026 23:20:00 GMT\n"
    assert (out / "nieuws" / "buitenland.html").is_file()
