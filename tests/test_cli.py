"""The `siang` command and `flask --app bot`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, inspect

from tests.processes import ROOT


def run(*argv: str, env: dict[str, str] | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "DATABASE_", "REDIS_", "SECRET_KEY"))}
    return subprocess.run(argv, env={**clean, **(env or {})}, cwd=cwd, capture_output=True, text=True, timeout=120)


GROUPS = ("serve", "worker", "dev", "emulator", "db", "console", "richmenu", "groups", "place", "nlp", "classify")


def listed_commands(help_text: str) -> set[str]:
    """The names in the ``Commands:`` section of a click help page."""
    section = help_text.split("Commands:", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.split()}


def test_siang_lists_every_group():
    result = run(sys.executable, "-m", "bot.cli", "--help")
    assert result.returncode == 0, result.stderr
    assert listed_commands(result.stdout) == set(GROUPS)


def test_db_has_its_commands_under_both_entry_points():
    siang = run(sys.executable, "-m", "bot.cli", "db", "--help")
    env = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "SECRET_KEY": "k",
           "DATABASE_URL": "sqlite:///:memory:"}
    flask = run(sys.executable, "-m", "flask", "--app", "bot", "db", "--help", env=env)
    assert siang.returncode == 0 and flask.returncode == 0, siang.stderr + flask.stderr
    assert listed_commands(siang.stdout) == listed_commands(flask.stdout) == {"upgrade", "downgrade", "seed"}


def test_creating_the_app_loads_no_command_group(tmp_path):
    """gunicorn builds the app: it must not pull in ``bot.cli`` and, through it, every command group."""
    env = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "SECRET_KEY": "k",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}"}
    probe = ("import sys; from bot import create_app; create_app(); "
             "print(sorted(m for m in sys.modules if m == 'bot.cli' or m.startswith('bot.') and m.endswith('.cli')))")
    result = run(sys.executable, "-c", probe, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_db_seed_fills_the_catalogue_after_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'seeded.sqlite3'}"
    upgraded = run(sys.executable, "-m", "bot.cli", "db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    result = run(sys.executable, "-m", "bot.cli", "db", "seed", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    agencies = int(result.stdout.split()[0])
    assert agencies > 0
    again = run(sys.executable, "-m", "bot.cli", "db", "seed", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert again.stdout.startswith("0 agencies and 0 categories")


def test_db_upgrade_creates_the_schema_without_line_credentials(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = run(sys.executable, "-m", "bot.cli", "db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"inbox_events", "outbox_messages", "citizens", "cases", "alembic_version"} <= tables


def test_flask_cli_finds_the_app_factory(tmp_path):
    url = f"sqlite:///{tmp_path / 'flask.sqlite3'}"
    env = {"DATABASE_URL": url, "LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "SECRET_KEY": "k"}
    result = run(sys.executable, "-m", "flask", "--app", "bot", "db", "upgrade", env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "alembic_version" in inspect(create_engine(url)).get_table_names()


def test_worker_refuses_to_start_without_redis(tmp_path):
    env = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
           "SECRET_KEY": "k"}
    result = run(sys.executable, "-m", "bot.cli", "worker", env=env, cwd=tmp_path)
    assert result.returncode != 0 and "REDIS_URL" in result.stderr


def test_a_missing_secret_stops_the_web_app_with_its_name(tmp_path):
    result = run(sys.executable, "-c", "from bot import create_app; create_app()", env={}, cwd=tmp_path)
    assert result.returncode != 0 and "LINE_CHANNEL_SECRET is not set" in result.stderr


@pytest.mark.parametrize("entry", [["-m", "bot.cli", "worker"], ["-c", "from bot import create_app; create_app()"],
                                   ["-m", "flask", "--app", "bot", "routes"]], ids=["worker", "gunicorn-app", "flask"])
def test_every_entry_point_but_dev_refuses_to_start_without_a_secret_key(entry, tmp_path):
    env = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    if "worker" in entry:
        env["REDIS_URL"] = "redis://127.0.0.1:1/0"
    result = run(sys.executable, *entry, env=env)
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr
