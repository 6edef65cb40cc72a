"""Every command the READMEs show (their ```sh blocks) runs as written, or is listed here as not run.

The commands run in a copy of the checkout (its tracked and new files, as a fresh clone has
them, with the venv `make` would have made linked in), block after block in the order a reader
meets them, each block one bash script that must exit 0. One liberty: port 8000 becomes a free
port, so that a busy 8000 on the test machine does not fail the run. A command that needs the
live site, root or a deploy is listed in ``NOT_RUN`` with the reason, and only then skipped;
a listed command that no README shows any more fails the test too.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from tests.crawling import ROOT

READMES = ["README.md", "deploy/README.md"]
LIVE = "the live site: unreachable from here, and never crawled by a test"
SUITE = "the whole test suite, of which this test is a part"
DEPLOY = "an installation on a server: root, the service user, /opt/wirecrawler, cron or systemd"
NOT_RUN = {
    ".venv/bin/scrapy crawl buitenland": LIVE,
    "make test": SUITE,
    "sudo useradd --system --home-dir /var/lib/wirecrawler --create-home --shell /usr/sbin/nologin wirecrawler": DEPLOY,
    "sudo git clone <repository> /opt/wirecrawler": DEPLOY,
    "cd /opt/wirecrawler": DEPLOY,
    "sudo python3.11 -m venv .venv": DEPLOY,
    "sudo .venv/bin/pip install -r requirements.txt": DEPLOY,
    "sudo install -d -o wirecrawler -g wirecrawler -m 0750 .wirecrawler feeds": DEPLOY,
    "sudo -u wirecrawler /opt/wirecrawler/deploy/run-crawl -a max_pages=2": DEPLOY,
    "echo $?": DEPLOY,  # of the run above
    "tail /opt/wirecrawler/.wirecrawler/logs/crawl.log": DEPLOY,
    "sudo crontab -u wirecrawler /opt/wirecrawler/deploy/crontab": DEPLOY,
    "sudo crontab -u wirecrawler -l": DEPLOY,
    "sudo cp /opt/wirecrawler/deploy/wirecrawler.service /opt/wirecrawler/deploy/wirecrawler.timer /etc/systemd/system/": DEPLOY,
    "sudo systemctl daemon-reload": DEPLOY,
    "sudo systemctl enable --now wirecrawler.timer": DEPLOY,
    "systemctl list-timers wirecrawler.timer": DEPLOY,
    "sudo systemctl start wirecrawler.service": DEPLOY,
    "sudo cp /opt/wirecrawler/deploy/logrotate.conf /etc/logrotate.d/wirecrawler": DEPLOY,
    "sudo logrotate --debug /etc/logrotate.d/wirecrawler": DEPLOY,
}
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
COMMENT = re.compile(r"(^|\s+)#\s.*$")


def commands(readme: str) -> list[list[str]]:
    """The commands of each ```sh block of *readme*, comments dropped, continuation lines joined."""
    blocks = []
    for block in BLOCK.findall((ROOT / readme).read_text()):
        lines = []
        for line in block.replace("\\\n", " ").splitlines():
            command = COMMENT.sub("", line).strip()
            if command:
                lines.append(command)
        blocks.append(lines)
    return blocks


def fresh_clone(into: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    (into / ".venv").symlink_to(ROOT / ".venv")  # what `make` sets up first
    os.utime(into / "requirements.txt", (0, 0))  # older than the venv: `make` does not reinstall it
    return into


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_every_readme_command_runs_or_is_listed_as_not_run(tmp_path):
    clone = fresh_clone(tmp_path / "clone")
    shown = set()
    for readme in READMES:
        for number, block in enumerate(commands(readme), 1):
            shown.update(block)
            script = "\n".join(command for command in block if command not in NOT_RUN)
            if not script:
                continue
            script = script.replace("8000", str(free_port()))
            proc = subprocess.Popen(
                ["bash", "-e", "-o", "pipefail", "-c", script],
                cwd=clone, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, start_new_session=True,
            )  # fmt: skip
            try:
                output, _ = proc.communicate(timeout=300)
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # a server the block left running
                except ProcessLookupError:
                    pass
            assert proc.returncode == 0, f"{readme}, sh block {number} failed:\n{script}\n---\n{output[-4000:]}"
    assert set(NOT_RUN) <= shown, f"listed but no longer shown: {set(NOT_RUN) - shown}"
