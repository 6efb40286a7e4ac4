from __future__ import annotations

import pytest

from bot.settings import ConfigError, load_settings


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u@h:notaport/db"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"MONGODB_URL": "mongo://x"}, "MONGODB_URL"),
        ({"WEB_PORT": "99999"}, "WEB_PORT"),
        ({"WEB_PORT": "eighty"}, "WEB_PORT"),
        ({"TELEGRAM_MODE": "push"}, "TELEGRAM_MODE"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"TOKEN_ENCRYPTION_KEY": "short"}, "TOKEN_ENCRYPTION_KEY"),
        ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
        ({"OCR_PROVIDER": "magic"}, "OCR_PROVIDER"),
        ({"TELEGRAM_MODE": "webhook"}, "PUBLIC_BASE_URL"),
    ],
)
def test_wrong_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], needle: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


def test_defaults_and_derived_urls(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WEB_PORT", "8123")
    monkeypatch.setenv("ADMIN_IDS", "1, 2;3")
    s = load_settings()
    assert s.telegram_mode == "polling"
    assert s.base_url == "http://127.0.0.1:8123"
    assert s.redirect_uri == "http://127.0.0.1:8123/callback"
    assert s.admin_ids == [1, 2, 3]
    assert s.uses_embedded


def test_encryption_key_generated_once_and_kept(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    first = load_settings().encryption_key()
    second = load_settings().encryption_key()
    assert first == second
    key_file = tmp_path / "secrets" / "token_encryption.key"
    assert key_file.read_text() == first
    assert key_file.stat().st_mode & 0o077 == 0
