"""A citizen unsent a message: LINE asks us to delete it, and the personal-data law agrees."""

from __future__ import annotations

from bot.context import Context
from storage import content, inbox


def on_unsend(ctx: Context) -> None:
    message_id = ctx.event.unsend.message_id
    content.delete_for_unsend(ctx.session, message_id)
    inbox.forget_message_text(ctx.session, message_id)
