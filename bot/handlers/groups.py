"""The bot joins or leaves groups and rooms; members come and go. Kept so staff can link groups later."""

from __future__ import annotations

import logging

from linebot.v3.messaging import ApiException

from bot import messages
from bot.context import Context
from storage import people

log = logging.getLogger(__name__)


def _chat(ctx: Context) -> tuple[str, str]:
    source = ctx.event.source
    return (source.group_id, "group") if source.type == "group" else (source.room_id, "room")


def on_join(ctx: Context) -> None:
    line_id, kind = _chat(ctx)
    group = people.group_joined(ctx.session, line_id, kind)
    _refresh_details(ctx, group, line_id, kind)
    ctx.reply(messages.text_message(ctx.text("group_hello")))


def on_leave(ctx: Context) -> None:
    line_id, _ = _chat(ctx)
    people.group_left(ctx.session, line_id)


def on_member_joined(ctx: Context) -> None:
    _refresh_count(ctx)


def on_member_left(ctx: Context) -> None:
    _refresh_count(ctx)


def _refresh_count(ctx: Context) -> None:
    line_id, kind = _chat(ctx)
    group = people.get_group(ctx.session, line_id) or people.group_joined(ctx.session, line_id, kind)
    _refresh_details(ctx, group, line_id, kind)


def _refresh_details(ctx: Context, group, line_id: str, kind: str) -> None:
    api, timeout = ctx.services.line.api, ctx.services.line.timeout
    name = count = None
    try:
        if kind == "group":
            name = api.get_group_summary(line_id, _request_timeout=timeout).group_name
            count = api.get_group_member_count(line_id, _request_timeout=timeout).count
        else:
            count = api.get_room_member_count(line_id, _request_timeout=timeout).count
    except ApiException as exc:  # LINE answered (a group the bot is not in, a rate limit): nothing to trace
        log.info("group details not available", extra={"status": exc.status})
    except Exception:  # noqa: BLE001 - details are refreshed on the next member event
        log.warning("group details not available", exc_info=True)
    people.set_group_details(group, name, count)
