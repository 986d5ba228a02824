"""``siang groups``: link codes, staff registration, links, digest times and broadcasts from the shell.

The staff console is the main way in; these commands are for operators and for the console's absence.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

import click

from storage.models.core import BANGKOK



@contextmanager
def _app_session():
    from pathlib import Path

    from bot import create_app, stop_background
    from bot.config import Settings
    from bot.services import app_services

    # A shell command signs no console session: it needs no SECRET_KEY (a random one is made up).
    app = create_app(Settings.from_env(instance_path=Path.cwd() / "instance", development_secret=True))
    try:
        with app.app_context():
            services = app_services(app)
            with services.transaction() as session:
                yield services, session
    finally:
        stop_background(app)


@click.group("groups", help="Agencies' LINE groups: link codes, staff, links, broadcasts.")
def groups_group() -> None:
    pass


@groups_group.command("code", help="Create a one-time code: typed in a group as 'เชื่อมกลุ่ม <code>'.")
@click.option("--agency", "agency_id", required=True, help="agency id of bot/data/agencies.toml")
@click.option("--province", "provinces", multiple=True, help="a province the group covers (repeatable)")
@click.option("--hours", type=float, default=24.0, show_default=True, help="validity")
@click.option("--staff", is_flag=True, help="a staff registration code ('ลงทะเบียนเจ้าหน้าที่ <code>')")
@click.option("--by", "created_by", default="cli", show_default=True)
def code_command(agency_id: str, provinces: tuple[str, ...], hours: float, staff: bool, created_by: str) -> None:
    from bot.groups.linking import UnknownAgency, create_code

    try:
        with _app_session() as (_, session):
            row = create_code(session, agency_id, created_by, list(provinces), timedelta(hours=hours),
                              purpose="staff" if staff else "group")
            code, expires = row.code, row.expires_at
    except (UnknownAgency, ValueError) as exc:
        raise click.UsageError(f"{type(exc).__name__}: {exc}") from exc
    word = "ลงทะเบียนเจ้าหน้าที่" if staff else "เชื่อมกลุ่ม"
    click.echo(f"{word} {code}")
    click.echo(f"valid until {expires.astimezone(BANGKOK):%Y-%m-%d %H:%M} (Asia/Bangkok)")


@groups_group.command("staff", help="Register a LINE user id as staff of an agency directly.")
@click.option("--agency", "agency_id", required=True)
@click.option("--line-user", "line_user_id", required=True)
@click.option("--name", default=None)
def staff_command(agency_id: str, line_user_id: str, name: str | None) -> None:
    from storage import groups as store

    with _app_session() as (_, session):
        store.register_staff(session, line_user_id, agency_id, registered_by="cli", display_name=name)
    click.echo(f"{line_user_id} is staff of {agency_id}")


@groups_group.command("links", help="List the linked groups.")
def links_command() -> None:
    from storage import groups as store

    with _app_session() as (_, session):
        for link, group in store.linked_groups(session):
            click.echo(f"{group.line_id}\t{link.agency_id}\t{','.join(store.provinces_of(link)) or '-'}\t"
                       f"{group.member_count or '?'} members\tdigest {link.digest_time or 'off'}\t{group.name or ''}")


@groups_group.command("unlink", help="Unlink a group.")
@click.argument("group_line_id")
def unlink_command(group_line_id: str) -> None:
    from storage import groups as store

    with _app_session() as (_, session):
        link = store.unlink_group(session, group_line_id, "cli")
    click.echo("unlinked" if link else "not linked")


@groups_group.command("digest-time", help="Daily digest time of a group (HH:MM Asia/Bangkok, or 'off').")
@click.argument("group_line_id")
@click.argument("at")
def digest_time_command(group_line_id: str, at: str) -> None:
    from storage import groups as store

    if at != "off":
        datetime.strptime(at, "%H:%M")
    with _app_session() as (_, session):
        link = store.active_link(session, group_line_id)
        if link is None:
            raise click.UsageError("that group is not linked")
        link.digest_time = None if at == "off" else at
    click.echo(f"digest {at}")


@groups_group.command("broadcast", help="Send a message to linked groups (estimate first; --yes sends).")
@click.option("--text", "body", required=True)
@click.option("--group", "group_ids", multiple=True, help="a LINE group id (repeatable)")
@click.option("--province", default=None, help="every linked group of this province")
@click.option("--agency", "agency_id", default=None, help="every linked group of this agency")
@click.option("--image", "image_url", default=None, help="https URL of an image")
@click.option("--link", "link_url", default=None)
@click.option("--at", "send_at", default=None, help="schedule: YYYY-MM-DDTHH:MM Asia/Bangkok")
@click.option("--yes", is_flag=True, help="send without asking")
@click.option("--by", "created_by", default="cli")
def broadcast_command(body: str, group_ids: tuple[str, ...], province: str | None, agency_id: str | None,
                      image_url: str | None, link_url: str | None, send_at: str | None, yes: bool,
                      created_by: str) -> None:
    from bot.groups import broadcasts

    target = broadcasts.Target(tuple(group_ids) if group_ids else None, province, agency_id)
    when = datetime.fromisoformat(send_at).replace(tzinfo=BANGKOK) if send_at else None
    with _app_session() as (services, session):
        cost = broadcasts.estimate(session, services, target)
        remaining = "unlimited" if cost.remaining is None else cost.remaining
        click.echo(f"{cost.groups} groups, {cost.members} members: costs {cost.members} messages "
                   f"(remaining this month: {remaining})")
        if not cost.affordable:
            raise click.ClickException("refused: the remaining monthly quota is short")
        if cost.groups == 0 or not (yes or click.confirm("send?")):
            return
        row = broadcasts.create(session, services, text=body, created_by=created_by, target=target,
                                image_url=image_url, link_url=link_url, send_at=when)
        click.echo(f"broadcast {row.id}: {row.status}")
