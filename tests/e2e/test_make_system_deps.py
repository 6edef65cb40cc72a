"""``make system-deps`` (a step of ``make test``): only the missing packages, no recommends, no upgrade.

The real Makefile runs with ``apt-get``, ``dpkg-query`` and ``id`` replaced, on its PATH, by
stand-ins that record how they were called and answer as Debian's would: this machine's
packages are left alone.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from tests.crawling import ROOT

STUB = """#!/bin/sh
printf '%s\\n' "$*" >> {calls}
{body}
"""
# What `apt-get install --simulate chromium prometheus prometheus-node-exporter` prints: new
# packages, and one installed package a new one needs a newer version of.
PLAN = """\
NOTE: This is only a simulation!
Inst libxnvctrl0 (525.85.05-3~deb12u1 Debian:12.15/oldstable [amd64])
Inst libsystemd0 [252.38-1~deb12u1] (252.39-1~deb12u1 Debian-Security:12/oldstable-security [amd64])
Inst chromium (143.0.7499.169-1~deb12u1 Debian-Security:12/oldstable-security [amd64])
Inst prometheus (2.42.0+ds-5+deb12u1 Debian:12.15/oldstable [amd64])
Inst prometheus-node-exporter (1.5.0-1+b6 Debian:12.15/oldstable [amd64])
Conf chromium (143.0.7499.169-1~deb12u1 Debian-Security:12/oldstable-security [amd64])
"""


def make_system_deps(tmp_path: Path, installed: set[str], uid: int = 0) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    stubs = {
        "apt-get": f"""case " $* " in *" --simulate "*|*" -s "*) cat <<'EOF'
{PLAN}EOF
esac
exit 0""",
        "dpkg-query": "for pkg; do :; done\n"
        + "case \" $(cat {installed}) \" in *\" $pkg \"*) printf 'ii ';; *) exit 1;; esac".format(
            installed=tmp_path / "installed"
        ),
        "id": f"echo {uid}",
    }
    (tmp_path / "installed").write_text(" ".join(sorted(installed)))
    for name, body in stubs.items():
        stub = bin_dir / name
        stub.write_text(STUB.format(calls=calls, body=body))
        stub.chmod(0o755)
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "system-deps"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
    )  # fmt: skip
    lines = calls.read_text().splitlines() if calls.exists() else []
    return done, [shlex.split(line) for line in lines]


def apt_calls(calls: list[list[str]]) -> list[list[str]]:
    return [c for c in calls if c and c[0] in ("update", "install", "upgrade", "dist-upgrade", "full-upgrade")]


def test_installs_only_the_missing_packages_without_recommends_and_says_so_first(tmp_path):
    done, calls = make_system_deps(tmp_path, installed={"logrotate", "postgresql"})
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first == (
        "make system-deps: installing the Debian packages the tests need: chromium prometheus "
        "prometheus-node-exporter (4 packages with what they depend on, no recommends); "
        "upgrading, because they need newer versions: libsystemd0"
    )
    apt = apt_calls(calls)
    assert apt[0] == ["update", "-qq"]
    installs = apt[1:]
    assert len(installs) == 2  # the simulation that says what, then the installation
    for call in installs:
        assert call[0] == "install" and "--no-install-recommends" in call
        assert [a for a in call if not a.startswith("-")] == ["install", "chromium", "prometheus", "prometheus-node-exporter"]
    assert "--simulate" in installs[0] and "--simulate" not in installs[1]
    assert not any(re.search("upgrade", c[0]) for c in apt)  # never apt-get upgrade


def test_nothing_missing_runs_no_apt_at_all(tmp_path):
    done, calls = make_system_deps(
        tmp_path, installed={"chromium", "logrotate", "postgresql", "prometheus", "prometheus-node-exporter"}
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert apt_calls(calls) == []


def test_not_root_says_what_to_install_and_installs_nothing(tmp_path):
    done, calls = make_system_deps(tmp_path, installed={"chromium", "logrotate", "postgresql"}, uid=1000)
    assert done.returncode != 0
    assert (
        "missing Debian packages: prometheus prometheus-node-exporter "
        "(run: sudo apt-get install --yes --no-install-recommends prometheus prometheus-node-exporter)"
    ) in done.stderr
    assert apt_calls(calls) == []
