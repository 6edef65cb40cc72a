"""Where systemd already looks: the service's OnFailure= unit and its exit 75, checked with real tools.

``systemd-analyze verify`` checks the units (no systemd runs where the tests run); the failure
unit's command is run for real, as systemd would run it, with stand-ins for ``logger``,
``systemctl`` and ``sendmail`` on its PATH.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crawling import ROOT, SAMPLE_SITE
from tests.watching import WATCHING_EXTENSIONS
from wirecrawler.local.server import served
from wirecrawler.runs.metrics import file_names

DEPLOY = ROOT / "deploy"
WRAPPER = DEPLOY / "run-crawl"
SERVICE, TIMER, FAILURE = "wirecrawler.service", "wirecrawler.timer", "wirecrawler-failure@.service"
INSTALL_PATH = "/opt/wirecrawler"
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"  # Debian's node_exporter textfile collector folder


def unit_lines(path: Path) -> list[tuple[str, str]]:
    """(key, value) of each setting, continuation lines joined as systemd joins them."""
    text = re.sub(r"\\\n", " ", path.read_text())
    return [
        tuple(line.split("=", 1))  # type: ignore[misc]
        for line in text.splitlines()
        if "=" in line and not line.lstrip().startswith(("#", ";"))
    ]


def values(path: Path, key: str) -> list[str]:
    return [value for k, value in unit_lines(path) if k == key]


def verify(*units: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/usr/bin/systemd-analyze", "verify", "--man=no", *map(str, units)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )  # fmt: skip


def rendered(into: Path, **replace: str) -> Path:
    """The units with the install path made this checkout's (verify checks the commands)."""
    into.mkdir()
    for name in (SERVICE, TIMER, FAILURE):
        text = (DEPLOY / name).read_text().replace(INSTALL_PATH, str(ROOT))
        for old, new in replace.items():
            text = text.replace(old, new)
        (into / name).write_text(text)
    return into


def test_the_service_the_timer_and_the_failure_unit_verify(tmp_path):
    units = rendered(tmp_path / "units")
    done = verify(units / SERVICE, units / TIMER, units / FAILURE)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("ExecStart=/bin/sh", "ExecStart=/bin/shh", "is not executable"),
        ("Type=oneshot", "Typ=oneshot", "Unknown key"),
    ],
)
def test_verify_catches_a_broken_failure_unit(tmp_path, old, new, complaint):
    assert old in (DEPLOY / FAILURE).read_text()
    units = rendered(tmp_path / "units", **{old: new})
    done = verify(units / FAILURE)
    assert complaint in done.stderr


def test_a_failed_run_starts_the_failure_unit_and_a_run_refused_for_the_lock_is_no_failure():
    service = DEPLOY / SERVICE
    assert values(service, "OnFailure") == ["wirecrawler-failure@%n.service"]
    assert (DEPLOY / FAILURE).is_file()  # the template OnFailure= names, %n its instance
    # Exactly the wrapper's "another run holds the lock" is a success besides 0.
    tempfail = int(re.search(r"^EX_TEMPFAIL=(\d+)$", WRAPPER.read_text(), re.M)[1])
    assert values(service, "SuccessExitStatus") == [str(tempfail)] == ["75"]


def test_the_service_may_write_the_textfile_collectors_folder_and_names_it():
    service = DEPLOY / SERVICE
    assert f"-{TEXTFILE_DIR}" in " ".join(values(service, "ReadWritePaths")).split()  # "-": if it exists
    assert f"WIRECRAWLER_METRICS_DIR={TEXTFILE_DIR}" in values(service, "Environment")


def exec_start(unit: Path, instance: str, host: str) -> list[str]:
    """The failure unit's command line as systemd makes it: specifiers, then $$, then words."""
    [line] = values(unit, "ExecStart")
    assert re.sub(r"\$\$", "", line).count("$") == 0  # a lone $ would be systemd's, not the shell's
    line = re.sub(r"%([%iH])", lambda m: {"%": "%", "i": instance, "H": host}[m[1]], line)
    assert "%" not in re.sub(r"%s", "", line)  # no specifier left unexpanded
    return shlex.split(line.replace("$$", "$"))


@pytest.fixture
def stand_ins(tmp_path):
    """logger, systemctl and sendmail that record what they were given, alone on a PATH."""
    bin_dir, out = tmp_path / "bin", tmp_path / "out"
    bin_dir.mkdir()
    out.mkdir()
    scripts = {
        "logger": f'printf "%s\\n" "$*" >> {out}/logger',
        "systemctl": f'printf "%s\\n" "$*" >> {out}/systemctl; echo "x wirecrawler.service - status of $*"',
        "sendmail": f'printf "%s\\n" "$*" > {out}/sendmail.args; /bin/cat > {out}/mail',
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir, out


def run_failure_unit(bin_dir: Path) -> subprocess.CompletedProcess:
    argv = exec_start(DEPLOY / FAILURE, "wirecrawler.service", "crawler1")
    assert argv[0] == "/bin/sh" and argv[1] == "-c"
    env = {"PATH": str(bin_dir), "MAILTO": "ops@example.org"}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)


def test_the_failure_unit_logs_and_mails_the_failed_units_status(stand_ins):
    bin_dir, out = stand_ins
    done = run_failure_unit(bin_dir)
    assert done.returncode == 0, done.stderr
    assert (out / "logger").read_text() == (
        "-p daemon.err -t wirecrawler-failure wirecrawler.service failed on crawler1; "
        "see systemctl status wirecrawler.service\n"
    )
    assert (out / "systemctl").read_text() == "status --full --no-pager --lines=50 wirecrawler.service\n"
    assert (out / "sendmail.args").read_text() == "-t\n"
    assert (out / "mail").read_text() == (
        "To: ops@example.org\n"
        "Subject: [wirecrawler] wirecrawler.service failed on crawler1\n"
        "\n"
        "x wirecrawler.service - status of status --full --no-pager --lines=50 wirecrawler.service\n"
    )


def test_without_a_sendmail_the_failure_unit_only_logs(stand_ins):
    bin_dir, out = stand_ins
    (bin_dir / "sendmail").unlink()
    done = run_failure_unit(bin_dir)
    assert done.returncode == 0, done.stderr
    assert "wirecrawler.service failed on crawler1" in (out / "logger").read_text()
    assert not (out / "mail").exists() and not (out / "systemctl").exists()


def test_the_wrapper_passes_the_metrics_folder_the_service_names_to_the_crawl(tmp_path):
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIRECRAWLER_")}
    env.update(
        WIRECRAWLER_ALLOW_ROOT="1" if os.geteuid() == 0 else "",
        WIRECRAWLER_PYTHON=sys.executable,
        WIRECRAWLER_STATE_DIR=str(tmp_path / "state"),
        WIRECRAWLER_FEED_DIR=str(tmp_path / "feeds"),
        WIRECRAWLER_LOG=str(tmp_path / "crawl.log"),
        WIRECRAWLER_METRICS_DIR=str(textfile),  # as the service's Environment= sets it
    )
    with served(SAMPLE_SITE) as url:
        args = ["-a", f"start_url={url}/nieuws/buitenland", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
        args += ["-s", f"EXTENSIONS={json.dumps(WATCHING_EXTENSIONS)}"]
        done = subprocess.run([str(WRAPPER), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + (tmp_path / "crawl.log").read_text()[-3000:]
    assert sorted(p.name for p in textfile.iterdir()) == sorted(file_names("buitenland"))
