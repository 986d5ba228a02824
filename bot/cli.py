"""The ``siang`` command: serve, worker, dev, emulator, db, nlp, classify."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask


@click.group(help="Siang (เสียง): the LINE chatbot through which Thai citizens reach their government.")
def main() -> None:
    pass


@main.command(help="Run the web process under gunicorn (production entry point; PORT, WEB_CONCURRENCY).")
@click.option("--workers", type=int, default=None, help="gunicorn worker processes (default WEB_CONCURRENCY or 2)")
def serve(workers: int | None) -> None:
    argv = ["gunicorn", "--config", "python:bot.gunicorn_conf"]
    if workers:
        argv += ["--workers", str(workers)]
    os.execvp(sys.executable, [sys.executable, "-m", *argv, "bot:create_app()"])


@main.command(help="Run a job-queue worker (needs REDIS_URL): handles events and delivers the outbox.")
@click.option("--burst", is_flag=True, help="stop when the queue is empty (tests, one-off catch-up)")
def worker(burst: bool) -> None:
    from bot import create_app
    from bot.worker import run_worker

    app = create_app()
    if app.extensions["siang"].settings.embedded:
        raise click.UsageError("REDIS_URL is not set: in embedded mode the web process runs its own worker")
    run_worker(app, burst=burst)


@main.command(help="Embedded default: SQLite, no Redis, the bot and the LINE emulator with its chat page.")
@click.option("--port", type=int, default=None, help="bot port (default PORT or 8080)")
@click.option("--emulator-port", type=int, default=8081)
@click.option("--host", default="127.0.0.1")
def dev(port: int | None, emulator_port: int, host: str) -> None:
    from bot.devserver import run_dev

    run_dev(host=host, port=port or int(os.environ.get("PORT", "8080")), emulator_port=emulator_port)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
              help="Run the LINE platform emulator alone (see --help of `python -m emulator`).")
@click.pass_context
def emulator(ctx: click.Context) -> None:
    from emulator.__main__ import main as emulator_main

    sys.exit(emulator_main(list(ctx.args)))


@click.group(help="Database schema (Alembic migrations).")
def db() -> None:
    pass


@db.command(help="Apply every migration not yet applied.")
@click.option("--revision", default="head")
def upgrade(revision: str) -> None:
    from bot.config import Settings
    from storage.migrate import upgrade as run_upgrade

    run_upgrade(_database_url(Settings), revision)
    click.echo(f"database at {revision}")


@db.command(help="Go back to an earlier revision.")
@click.argument("revision")
def downgrade(revision: str) -> None:
    from bot.config import Settings
    from storage.migrate import downgrade as run_downgrade

    run_downgrade(_database_url(Settings), revision)
    click.echo(f"database at {revision}")


def _database_url(settings_class) -> str:
    """Migrations need only the database: do not demand LINE credentials for them."""
    environ = dict(os.environ)
    environ.setdefault("LINE_CHANNEL_SECRET", "unused-for-migrations")
    environ.setdefault("LINE_CHANNEL_ACCESS_TOKEN", "unused-for-migrations")
    environ.setdefault("SECRET_KEY", "unused-for-migrations")
    from dotenv import dotenv_values

    for key, value in dotenv_values(".env").items():
        environ.setdefault(key, value or "")
    return settings_class.from_env(environ, instance_path=os.path.join(os.getcwd(), "instance")).database_url


main.add_command(db)


def _add_optional_commands() -> None:
    main.add_command(__import__("bot.richmenu", fromlist=["richmenu_group"]).richmenu_group)
    __import__("bot.console.cli", fromlist=["add_commands"]).add_commands(main, db)
    main.add_command(__import__("bot.groups.cli", fromlist=["groups_group"]).groups_group)
    main.add_command(__import__("bot.places.cli", fromlist=["place_command"]).place_command)
    try:
        from bot.nlp.cli import classify_command, nlp_group
    except ImportError:  # the NLP package is optional at install time of the tools only
        return
    main.add_command(nlp_group)
    main.add_command(classify_command)


_add_optional_commands()


def register_app_commands(app: Flask) -> None:
    """``flask --app bot db upgrade`` works as well as ``siang db upgrade``."""
    app.cli.add_command(db)


if __name__ == "__main__":
    main()
