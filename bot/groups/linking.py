"""Linking a group to an agency (or centre and its provinces) with a one-time code, and unlinking it.

Staff create the code (console or ``siang groups code``); anyone in the group who types
``เชื่อมกลุ่ม <code>`` links it, because holding a fresh code is the proof. ``ลงทะเบียนเจ้าหน้าที่ <code>``
registers the typist's LINE user id as staff of the code's agency, so they may press case-card buttons.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bot import messages
from bot.context import Context
from bot.nlp.routing import agencies
from bot.places import resolve_province
from storage import groups as store
from storage import people
from storage.models import LinkCode
from storage.staff import agency_name

DEFAULT_TTL = timedelta(hours=24)


class UnknownAgency(ValueError):
    """The agency id is not in the catalogue (``bot/data/agencies.toml``)."""


def create_code(session: Session, agency_id: str, created_by: str, provinces: list[str] | None = None,
                ttl: timedelta = DEFAULT_TTL, purpose: str = "group") -> LinkCode:
    """A one-time code for ``agency_id``; ``provinces`` (names or codes) default to a provincial agency's own."""
    if agency_id not in agencies():
        raise UnknownAgency(agency_id)
    codes = []
    for name in provinces or []:
        code = resolve_province(name)
        if code is None:
            raise ValueError(f"unknown province {name!r}")
        codes.append(code)
    if not codes and ":" in agency_id and resolve_province(agency_id.rsplit(":", 1)[1]):
        codes = [agency_id.rsplit(":", 1)[1]]  # damrongdhama:XX covers province XX
    return store.create_code(session, purpose=purpose, agency_id=agency_id, provinces=codes,
                             created_by=created_by, ttl=ttl)


def _redeem(ctx: Context, command: str, argument: str, purpose: str, action: str):
    """Redeem a typed code once, audit the attempt, and answer a refusal; the code when it worked."""
    if not argument:
        ctx.reply(messages.text_message(ctx.text("grp_code_missing", command=command)))
        return None
    group_line_id, _ = _chat(ctx)
    outcome, code = store.redeem_code(ctx.session, argument, purpose, ctx.user_id, group_line_id)
    store.audit(ctx.session, group_line_id=group_line_id, line_user_id=ctx.user_id, action=action,
                outcome="done" if outcome == "ok" else outcome, detail=code.agency_id if code else None,
                inbox_event_id=ctx.row.id)
    if outcome != "ok":
        ctx.reply(messages.text_message(ctx.text(f"grp_code_{outcome}")))
        return None
    return code


def link_command(ctx: Context, command: str, argument: str) -> None:
    code = _redeem(ctx, command, argument, "group", "link")
    if code is None:
        return
    group_line_id, kind = _chat(ctx)
    group = people.get_group(ctx.session, group_line_id) or people.group_joined(ctx.session, group_line_id, kind)
    store.link_group(ctx.session, group, code.agency_id, store.provinces_of(code), f"line:{ctx.user_id or '-'}",
                     code_id=code.id)
    ctx.reply(messages.text_message(ctx.text("grp_linked", agency=agency_name(ctx.session, code.agency_id) or "-")))


def staff_command(ctx: Context, command: str, argument: str) -> None:
    if not ctx.user_id:
        ctx.reply(messages.text_message(ctx.text("grp_no_user")))
        return
    code = _redeem(ctx, command, argument, "staff", "register_staff")
    if code is None:
        return
    store.register_staff(ctx.session, ctx.user_id, code.agency_id, registered_by=f"code:{code.id}",
                         display_name=_member_name(ctx))
    agency = agency_name(ctx.session, code.agency_id) or "-"
    ctx.reply(messages.text_message(ctx.text("grp_staff_registered", agency=agency)))


def unlink_command(ctx: Context, command: str, argument: str) -> None:
    """Only registered staff of the linked agency may unlink (anyone could otherwise cut an office off)."""
    group_line_id, _ = _chat(ctx)
    link = store.active_link(ctx.session, group_line_id)
    if link is None:
        ctx.reply(messages.text_message(ctx.text("grp_not_linked")))
        return
    staff = store.staff_member(ctx.session, ctx.user_id, link.agency_id)
    store.audit(ctx.session, group_line_id=group_line_id, line_user_id=ctx.user_id, staff=staff, action="unlink",
                outcome="done" if staff else "refused", detail=link.agency_id, inbox_event_id=ctx.row.id)
    if staff is None:
        agency = agency_name(ctx.session, link.agency_id) or "-"
        ctx.reply(messages.text_message(ctx.text("grp_refused", agency=agency)))
        return
    store.unlink_group(ctx.session, group_line_id, f"line:{ctx.user_id}")
    ctx.reply(messages.text_message(ctx.text("grp_unlinked", agency=agency_name(ctx.session, link.agency_id) or "-")))


def status_command(ctx: Context, command: str, argument: str) -> None:
    link = store.active_link(ctx.session, _chat(ctx)[0])
    if link is None:
        ctx.reply(messages.text_message(ctx.text("grp_not_linked")))
        return
    ctx.reply(messages.text_message(ctx.text("grp_status", agency=agency_name(ctx.session, link.agency_id) or "-",
                                             digest=link.digest_time or "-")))


def _chat(ctx: Context) -> tuple[str, str]:
    source = ctx.event.source
    return (source.group_id, "group") if source.type == "group" else (source.room_id, "room")


def _member_name(ctx: Context) -> str | None:
    """The officer's LINE display name in this group, so cards and the console name them (never by LINE id).
    None when LINE does not tell (a profile not shared): they are then "เจ้าหน้าที่ทาง LINE" of their agency."""
    group_line_id, kind = _chat(ctx)
    api, timeout = ctx.services.line.api, ctx.services.line.timeout
    try:
        if kind == "group":
            profile = api.get_group_member_profile(group_line_id, ctx.user_id, _request_timeout=timeout)
        else:
            profile = api.get_room_member_profile(group_line_id, ctx.user_id, _request_timeout=timeout)
    except Exception:  # noqa: BLE001 - a name is a nicety; registering must not fail for it
        return None
    return getattr(profile, "display_name", None)


def backlog_command(ctx: Context, command: str, argument: str) -> None:
    """``เรื่องค้าง``: the open cases of the group's agency it has never seen (filed before it was linked), as
    cards it can act on, ten at a time, oldest first; typing it again shows the next ones."""
    from bot.groups.cards import BACKLOG_PAGE, backlog, case_card

    group_line_id, _ = _chat(ctx)
    link = store.active_link(ctx.session, group_line_id)
    if link is None:
        ctx.reply(messages.text_message(ctx.text("grp_not_linked")))
        return
    cases, total = backlog(ctx.session, link, BACKLOG_PAGE)
    store.audit(ctx.session, group_line_id=group_line_id, line_user_id=ctx.user_id, action="backlog",
                outcome="done", detail=str(total), inbox_event_id=ctx.row.id)
    agency = agency_name(ctx.session, link.agency_id) or "-"
    if not cases:
        ctx.reply(messages.text_message(ctx.text("grp_backlog_none", agency=agency)))
        return
    bubbles = [case_card(ctx.session, case)["contents"] for case in cases]
    more = ctx.text("grp_backlog_more") if total > len(cases) else ""
    summary = ctx.text("grp_backlog", agency=agency, shown=len(cases), total=total, more=more)
    ctx.reply(messages.text_message(summary),
              {"type": "flex", "altText": summary[:400], "contents": {"type": "carousel", "contents": bubbles}})
    for case in cases:
        store.add_card(ctx.session, case.id, link, case.status, None)
