"""Flood control: a citizen sending faster than a person can is slowed down politely; others are unaffected.

A sliding window over the events' own LINE timestamps (not the time a worker happens to process them, which
bunches up behind a backlog): more than ``flood_burst`` events of one user within ``flood_window_seconds``
are dropped, and the first dropped one gets a polite "please wait" reply. The window is the app's
``Services.flood`` (``bot.floodwindow``): in Redis in production, in this process in embedded mode.
"""

from __future__ import annotations

import time

from bot import messages
from bot.context import Context


def slowed_down(ctx: Context) -> bool:
    """True when this event is over the user's limit (and has been answered, at most once per window)."""
    user_id = ctx.user_id
    if not user_id:
        return False
    settings = ctx.services.settings
    stamp = (getattr(ctx.event, "timestamp", None) or time.time() * 1000) / 1000.0
    over, first = ctx.services.flood.hit(user_id, f"{ctx.row.id}", stamp, settings.flood_burst,
                                         settings.flood_window_seconds)
    if over and first:
        ctx.reply(messages.text_message(ctx.text("flood_slow_down")))
    return over
