"""Console commands: ``siang console create-admin | propose-targets | export-corrections``."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from storage.cli import database_session


@click.group("console", help="Staff console: accounts, category targets, classifier corrections.")
def console_group() -> None:
    pass


@console_group.command("create-admin", help="Create an administrator account (asks for the password).")
@click.argument("username")
@click.option("--name", default=None, help="display name")
@click.password_option()
def create_admin(username: str, name: str | None, password: str) -> None:
    from bot.console.passwords import hash_password
    from storage import staff as staff_store

    with database_session() as db:
        if staff_store.staff_by_username(db, username):
            raise click.ClickException(f"user {username} exists already")
        user = staff_store.add_staff(db, username=username, display_name=name or username,
                                     password_hash=hash_password(password), role="administrator")
        staff_store.audit(db, "cli", "staff_create", f"staff:{user.id}", {"role": "administrator"})
    click.echo(f"administrator {username} created")


@console_group.command("propose-targets", help="Propose each category's target (days) from observed resolution "
                                               "times; --apply writes them.")
@click.option("--days", default=365, show_default=True, help="look at cases resolved in the last N days")
@click.option("--quantile", default=0.8, show_default=True, help="share of cases the target should cover")
@click.option("--min-cases", default=20, show_default=True)
@click.option("--apply", "apply_", is_flag=True, help="store the proposals as the categories' targets")
def propose_targets(days: int, quantile: float, min_cases: int, apply_: bool) -> None:
    from bot.console.figures import propose_targets as propose
    from storage import staff as staff_store
    from storage.models import Category, utcnow

    now = utcnow()
    with database_session() as db:
        current = {c.id: c.target_days for c in staff_store.category_table(db)}
        proposals = propose(db, now - timedelta(days=days), now, quantile=quantile, min_cases=min_cases)
        click.echo(f"{'category':<28} {'cases':>7} {'median':>7} {'p' + str(int(quantile * 100)):>7} "
                   f"{'target':>7} {'proposed':>8}")
        for category, p in sorted(proposals.items()):
            click.echo(f"{category:<28} {p['count']:>7} {p['median']:>7.1f} {p['observed']:>7.1f} "
                       f"{current.get(category, '-')!s:>7} {p['proposed']:>8}")
            if apply_:
                row = db.get(Category, category)
                if row is not None:
                    row.target_days = p["proposed"]
        if apply_:
            staff_store.audit(db, "cli", "targets_applied", None, {k: v["proposed"] for k, v in proposals.items()})
    if not proposals:
        click.echo(f"no category has {min_cases} resolved cases in the last {days} days")


@console_group.command("export-corrections", help="Staff category corrections as CSV text,category "
                                                  "(for `siang nlp train --corrections FILE`).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="-")
def export_corrections(output: str) -> None:
    from storage import staff as staff_store

    with database_session() as db:
        text = staff_store.corrections_csv(db)
    if output == "-":
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        click.echo(f"{text.count(chr(10)) - 1} corrections written to {output}", err=True)
