"""A citizen adds the bot (or unblocks it), or blocks it."""

from __future__ import annotations

from bot import messages
from bot.context import Context
from bot.flows import subscription
from bot.people import citizen_for
from storage.announcements import stop_all


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
    subscription.welcome_back(ctx)  # subscribed before unfollowing: ask again


def on_unfollow(ctx: Context) -> None:
    """Blocked: mark inactive so that nothing more is pushed (LINE would accept and drop it anyway)."""
    citizen = citizen_for(ctx, active=False)
    if citizen is not None:
        stop_all(ctx.session, citizen.id)  # unfollowing stops every news subscription
