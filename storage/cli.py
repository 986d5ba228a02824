"""``db``: the schema (Alembic migrations) and the catalogue seed, as ``siang db …`` and ``flask --app bot db …``.

It lives in ``storage/`` beside the migrations it runs, so that neither ``bot.cli`` nor the console's commands
need each other for it, and so that ``create_app()`` can offer it to ``flask`` without importing ``bot.cli``
(which loads every command group). Heavy imports stay inside the commands: this module costs only ``click``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def database_url() -> str:
    """The configured database URL; migrations and shell commands need only the database, not LINE credentials."""
    from dotenv import dotenv_values

    from bot.config import Settings

    environ = dict(os.environ)
    environ.setdefault("LINE_CHANNEL_SECRET", "unused-for-migrations")
    environ.setdefault("LINE_CHANNEL_ACCESS_TOKEN", "unused-for-migrations")
    environ.setdefault("SECRET_KEY", "unused-for-migrations")
    for key, value in dotenv_values(".env").items():
        environ.setdefault(key, value or "")
    return Settings.from_env(environ, instance_path=os.path.join(os.getcwd(), "instance")).database_url


@contextmanager
def database_session() -> Iterator[Session]:
    """One committed transaction on the configured database, for a shell command that needs no app."""
    from storage.db import make_engine, make_sessionmaker, session_scope

    engine = make_engine(database_url())
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


@click.group("db", help="Database schema (Alembic migrations) and the catalogue seed.")
def db() -> None:
    pass


@db.command(help="Apply every migration not yet applied.")
@click.option("--revision", default="head")
def upgrade(revision: str) -> None:
    from storage.migrate import upgrade as run_upgrade

    run_upgrade(database_url(), revision)
    click.echo(f"database at {revision}")


@db.command(help="Go back to an earlier revision.")
@click.argument("revision")
def downgrade(revision: str) -> None:
    from storage.migrate import downgrade as run_downgrade

    run_downgrade(database_url(), revision)
    click.echo(f"database at {revision}")


@db.command("seed", help="Fill the agency and category tables from bot/data (existing rows are kept).")
def seed() -> None:
    from storage import staff as staff_store

    with database_session() as session:
        agencies, categories = staff_store.seed_catalogue(session)
    click.echo(f"{agencies} agencies and {categories} categories added")
