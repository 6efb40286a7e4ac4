"""Dockerfile and docker-compose.yml (no Docker engine here): parsed and checked for wiring."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from bot.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _dockerfile() -> list[str]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_dockerfile_is_multistage_slim_and_non_root() -> None:
    lines = _dockerfile()
    froms = [line for line in lines if line.startswith("FROM ")]
    assert len(froms) >= 2
    assert all("slim" in f for f in froms)
    assert any(line.startswith("COPY --from=build") for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in lines)
    assert any("tesseract-ocr-kor" in line for line in lines)


def test_dockerfile_copies_every_package() -> None:
    lines = _dockerfile()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = [
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    copied = {
        line.split()[1] for line in lines if line.startswith("COPY ") and "--from" not in line
    }
    assert set(packages) <= copied
    port = next(line.split()[1] for line in lines if line.startswith("EXPOSE"))
    assert f"WEB_PORT={port}" in " ".join(lines)


def test_compose_services_and_healthchecks() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"bot", "scheduler", "postgres", "mongo", "redis"} <= set(services)
    assert services["postgres"]["image"].startswith("pgvector/pgvector")
    for name, svc in services.items():
        assert "healthcheck" in svc, name
        for volume in svc.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"], (name, volume)
    for app in ("bot", "scheduler"):
        deps = services[app]["depends_on"]
        for store in ("postgres", "mongo", "redis"):
            assert deps[store]["condition"] == "service_healthy"
    assert services["scheduler"]["command"] == ["scheduler"]
    assert services["bot"]["command"] == ["run"]


def test_compose_env_points_at_the_compose_stores_and_names_real_settings() -> None:
    services = _compose()["services"]
    known = {name.upper() for name in Settings.model_fields}
    for app in ("bot", "scheduler"):
        env = services[app]["environment"]
        assert set(env) <= known, set(env) - known
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["MONGODB_URL"].startswith("mongodb://mongo:27017")
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert env["TELEGRAM_MODE"].endswith("webhook}")
    pg_env = services["postgres"]["environment"]
    url = services["bot"]["environment"]["DATABASE_URL"]
    assert re.search(rf"//{pg_env['POSTGRES_USER']}:", url)
    assert url.endswith("/" + pg_env["POSTGRES_DB"])
    # the bot publishes the port its web app listens on
    bot = services["bot"]
    assert bot["ports"][0].split(":")[1] == bot["environment"]["WEB_PORT"]
