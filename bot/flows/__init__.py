"""Conversations. For now the menu and an acknowledgement; the conversation flows replace this."""

from __future__ import annotations

from bot import messages
from bot.context import Context


def on_text(ctx: Context, text: str) -> None:
    ctx.reply(messages.text_message(ctx.text("received_text")),
              messages.text_message(ctx.text("menu_prompt"), quick_reply=messages.main_menu(ctx.lang)))


def on_postback(ctx: Context, data: dict[str, str], params: dict[str, str]) -> None:
    service = data.get("menu")
    if service:
        ctx.reply(messages.text_message(ctx.text("coming_soon", service=ctx.text(f"menu_{service}"))
                                        if f"menu_{service}" in messages.catalogue() else ctx.text("menu_prompt"),
                                        quick_reply=messages.main_menu(ctx.lang)))
    else:
        ctx.reply(messages.text_message(ctx.text("menu_prompt"), quick_reply=messages.main_menu(ctx.lang)))
