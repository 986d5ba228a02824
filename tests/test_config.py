"""Configuration comes from the environment, with errors that name the variable."""

import pytest

from bot.config import ConfigError, Settings

BASE = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "SECRET_KEY": "k"}


def test_defaults_give_the_embedded_mode_with_a_sqlite_file_in_the_instance_folder(tmp_path):
    settings = Settings.from_env(BASE, instance_path=tmp_path)
    assert settings.embedded
    assert settings.database_url == f"sqlite:///{tmp_path / 'siang.sqlite3'}"
    assert settings.line_api_base_url == "https://api.line.me"
    assert settings.line_data_api_base_url == "https://api-data.line.me"
    assert settings.port == 8080


@pytest.mark.parametrize("missing", ["LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN"])
def test_a_missing_line_credential_is_named(missing, tmp_path):
    environ = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(environ, instance_path=tmp_path)


@pytest.mark.parametrize("name,value", [("PORT", "eighty"), ("LINE_API_BASE_URL", "api.line.me"),
                                        ("REDIS_URL", "localhost:6379"), ("JOB_LEASE_SECONDS", "1.5")])
def test_a_malformed_variable_is_named(name, value, tmp_path):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**BASE, name: value, "SECRET_KEY": "k"}, instance_path=tmp_path)


@pytest.mark.parametrize("redis", [{}, {"REDIS_URL": "redis://127.0.0.1:6379/0"}], ids=["embedded", "production"])
def test_without_a_secret_key_nothing_but_the_development_server_starts(redis, tmp_path):
    environ = {k: v for k, v in BASE.items() if k != "SECRET_KEY"} | redis
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        Settings.from_env(environ, instance_path=tmp_path)


def test_the_development_key_is_random_to_each_instance(tmp_path):
    environ = {k: v for k, v in BASE.items() if k != "SECRET_KEY"}
    first, second = (Settings.from_env(environ, instance_path=tmp_path, development_secret=True).secret_key
                     for _ in range(2))
    assert first != second and len(first) >= 32


@pytest.mark.parametrize("environ,secure", [({}, False), ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, True),
                                            ({"SESSION_COOKIE_SECURE": "1"}, True),
                                            ({"REDIS_URL": "redis://h:6379/0", "SESSION_COOKIE_SECURE": "0"}, False)])
def test_session_cookies_are_secure_in_production_unless_told_otherwise(environ, secure, tmp_path):
    assert Settings.from_env({**BASE, **environ}, instance_path=tmp_path).secure_cookies is secure


def test_trailing_slashes_are_dropped_from_base_urls(tmp_path):
    settings = Settings.from_env({**BASE, "LINE_API_BASE_URL": "http://127.0.0.1:8081/"}, instance_path=tmp_path)
    assert settings.line_api_base_url == "http://127.0.0.1:8081"


def test_a_dotenv_file_is_honoured_but_the_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("LINE_CHANNEL_SECRET=from-file\nLINE_CHANNEL_ACCESS_TOKEN=file-token\nPORT=9000\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PORT", "9100")
    monkeypatch.setenv("SECRET_KEY", "k")
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "REDIS_URL"):
        monkeypatch.setenv(name, "")  # recorded, so the values .env loads are undone after the test
        monkeypatch.delenv(name)
    settings = Settings.from_env(instance_path=tmp_path)
    assert settings.line_channel_secret == "from-file"
    assert settings.port == 9100
