"""A citizen adds the bot (or unblocks it), or blocks it."""

from __future__ import annotations

from bot import messages
from bot.context import Context
from bot.people import citizen_for


def on_follow(ctx: Context) -> None:
    citizen = citizen_for(ctx, active=True)
    name = (citizen.display_name if citizen else None) or ""
    unblocked = bool(getattr(ctx.event.follow, "is_unblocked", False))
    greeting = ctx.text("greeting_again" if unblocked else "greeting", name=name).replace("  ", " ")
    ctx.reply(
        messages.text_message(greeting),
        messages.text_message(ctx.text("privacy_notice")),
        messages.text_message(ctx.text("menu_prompt"), quick_reply=messages.main_menu(ctx.lang)),
    )


def on_unfollow(ctx: Context) -> None:
    """Blocked: mark inactive so that nothing more is pushed (LINE would accept and drop it anyway)."""
    citizen_for(ctx, active=False)
