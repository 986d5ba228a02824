"""The ``siang`` command: serve, worker, dev, emulator, and every group (db, console, richmenu, groups, place, nlp,
classify).

Only the ``siang`` command (and its tests) imports this module; ``create_app()`` does not (``flask --app bot db``
gets its commands from ``storage.cli``), so the web process never loads the command groups.
"""

from __future__ import annotations

import os
import sys

import click

from bot.console.cli import console_group
from bot.groups.cli import groups_group
from bot.nlp.cli import classify_command, nlp_group
from bot.places.cli import place_command
from bot.richmenu import richmenu_group
from storage.cli import db


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
    from bot.services import app_services
    from bot.worker import run_worker

    app = create_app()
    if app_services(app).settings.embedded:
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


for group in (db, console_group, richmenu_group, groups_group, place_command, nlp_group, classify_command):
    main.add_command(group)


if __name__ == "__main__":
    main()
