"""Buttons a citizen taps (quick replies, Flex buttons, the rich menu) arrive as postbacks."""

from __future__ import annotations

from urllib.parse import parse_qs

from bot import flows, groups
from bot.casework import threads
from bot.context import Context
from bot.handlers.flood import slowed_down
from bot.people import citizen_for


def on_postback(ctx: Context) -> None:
    data = {key: values[0] for key, values in parse_qs(ctx.event.postback.data or "").items()}
    if ctx.event.source.type != "user":
        groups.on_group_postback(ctx, data)  # staff pressing a case card's buttons
        return
    if slowed_down(ctx):
        return
    citizen_for(ctx)
    if threads.on_citizen_postback(ctx, data):  # "end chat"; a menu button also ends a thread, then goes on
        return
    params = ctx.event.postback.params or {}
    flows.on_postback(ctx, data, dict(params))
