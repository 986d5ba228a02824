"""Buttons a citizen taps (quick replies, Flex buttons, the rich menu) arrive as postbacks."""

from __future__ import annotations

from urllib.parse import parse_qs

from bot import flows
from bot.context import Context
from bot.handlers.flood import slowed_down
from bot.people import citizen_for


def on_postback(ctx: Context) -> None:
    if ctx.event.source.type == "user" and slowed_down(ctx):
        return
    citizen_for(ctx)
    data = {key: values[0] for key, values in parse_qs(ctx.event.postback.data or "").items()}
    params = ctx.event.postback.params or {}
    flows.on_postback(ctx, data, dict(params))
