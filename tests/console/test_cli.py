"""``siang console …`` on the configured database, without LINE credentials or an app (``db``: tests/test_cli.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from bot.cli import main
from bot.console.passwords import verify_password
from storage.migrate import upgrade
from storage.models import AuditEntry, StaffUser


@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    """A migrated SQLite file as DATABASE_URL, in a directory with no .env and no LINE settings."""
    url = f"sqlite:///{tmp_path / 'console.sqlite3'}"
    upgrade(url)
    monkeypatch.chdir(tmp_path)
    for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SECRET_KEY", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def rows(url: str, statement):
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(statement).all()
    engine.dispose()
    return found


def test_create_admin_makes_one_administrator_and_refuses_a_second_of_the_same_name(database):
    runner = CliRunner()
    made = runner.invoke(main, ["console", "create-admin", "Somsri", "--name", "สมศรี"],
                         input="long enough secret\nlong enough secret\n")
    assert made.exit_code == 0, made.output
    ((username, name, role, password_hash),) = rows(database, select(
        StaffUser.username, StaffUser.display_name, StaffUser.role, StaffUser.password_hash))
    assert (username, name, role) == ("somsri", "สมศรี", "administrator")
    assert verify_password(password_hash, "long enough secret")
    assert rows(database, select(AuditEntry.action)) == [("staff_create",)]

    again = runner.invoke(main, ["console", "create-admin", "somsri"], input="another secret\nanother secret\n")
    assert again.exit_code != 0 and "exists already" in again.output
    assert len(rows(database, select(StaffUser.id))) == 1

