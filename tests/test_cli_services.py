"""`tys` as an operator meets it: bad configuration, embedded services by hand, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import psutil
import pytest

from bot.embedded import EmbeddedServices
from tests.botproc import bot_env, run_tys


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = bot_env(data_dir, "http://127.0.0.1:9", **extra)
    return env


def _stray(data_dir: Path) -> list[psutil.Process]:
    """Server processes still running for this DATA_DIR."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
        except psutil.Error:
            continue
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if str(data_dir) in cmd and any(s in cmd for s in ("postgres", "redis-server", "nx-27017")):
            found.append(proc)
    return found


def _one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert lines, "no error message"
    assert "Traceback" not in stderr
    return lines[-1]


def test_run_without_token_exits_2_with_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env.pop("TELEGRAM_BOT_TOKEN")
    result = run_tys(["run"], env)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "@BotFather" in result.stderr
    assert not (tmp_path / "services").exists()  # nothing was started


def test_malformed_database_url(tmp_path: Path) -> None:
    result = run_tys(["run"], _env(tmp_path, DATABASE_URL="postgresql://u@h:port/db"))
    assert result.returncode == 2
    assert "DATABASE_URL" in _one_clear_line(result.stderr)
    assert not _stray(tmp_path)


def test_unreachable_redis_url_leaves_no_server_behind(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    result = run_tys(["run"], _env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{dead_port}/0"))
    assert result.returncode == 1, result.stderr
    line = _one_clear_line(result.stderr)
    assert "REDIS_URL" in line
    assert not _stray(tmp_path)


def test_port_already_taken(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = run_tys(["run"], _env(tmp_path, WEB_PORT=str(port)))
    assert result.returncode == 1
    line = _one_clear_line(result.stderr)
    assert "WEB_PORT" in line and str(port) in line
    assert not _stray(tmp_path)


def test_services_by_hand_and_crash_recovery(tmp_path: Path) -> None:
    env = _env(tmp_path)
    started = run_tys(["services", "start"], env)
    assert started.returncode == 0, started.stderr
    status = json.loads(run_tys(["services", "status", "--json"], env).stdout)
    assert all(s["running"] for s in status.values())
    assert all(s["started_by"] == "manual" for s in status.values())

    # A command that needs the stores uses the running servers and leaves them running.
    upgraded = run_tys(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    status2 = json.loads(run_tys(["services", "status", "--json"], env).stdout)
    assert {k: v["pid"] for k, v in status2.items()} == {k: v["pid"] for k, v in status.items()}

    # Crash: kill -9 every server; stale pid files stay behind.
    for info in status.values():
        os.kill(info["pid"], signal.SIGKILL)
    time.sleep(0.5)
    down = json.loads(run_tys(["services", "status", "--json"], env).stdout)
    assert not any(s["running"] for s in down.values())

    # The next command starts them again, finds its data, and stops what it started.
    again = run_tys(["db", "upgrade"], env)
    assert again.returncode == 0, again.stderr
    assert not _stray(tmp_path)

    stopped = run_tys(["services", "stop"], env)
    assert stopped.returncode == 0
    assert not _stray(tmp_path)


def test_command_leaves_services_as_it_found_them(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert run_tys(["db", "upgrade"], env).returncode == 0
    assert not _stray(tmp_path)  # it started them, so it stopped them
    status = EmbeddedServices(tmp_path).status()
    assert not any(s["running"] for s in status.values())


@pytest.mark.parametrize("action", ["status", "stop"])
def test_services_status_and_stop_when_nothing_runs(tmp_path: Path, action: str) -> None:
    result = run_tys(["services", action], _env(tmp_path))
    assert result.returncode == 0
    assert ("stopped" in result.stdout) if action == "status" else ("nothing" in result.stdout)
