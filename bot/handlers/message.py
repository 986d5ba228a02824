"""Messages a citizen sends: text goes to the conversation flows; media is fetched and kept."""

from __future__ import annotations

from linebot.v3.webhooks import (
    AudioMessageContent,
    FileMessageContent,
    ImageMessageContent,
    LocationMessageContent,
    StickerMessageContent,
    TextMessageContent,
    VideoMessageContent,
)

from bot import flows, messages
from bot.context import Context
from bot.people import citizen_for
from storage import content

MEDIA = {ImageMessageContent: "image", VideoMessageContent: "video", AudioMessageContent: "audio",
         FileMessageContent: "file"}


def on_message(ctx: Context) -> None:
    if ctx.event.source.type != "user":
        return  # groups: ordinary chatter is ignored (group commands come with the groups feature)
    citizen_for(ctx)
    body = ctx.event.message
    if isinstance(body, TextMessageContent):
        flows.on_text(ctx, body.text)
    elif type(body) in MEDIA:
        _keep_media(ctx, body, MEDIA[type(body)])
    elif isinstance(body, LocationMessageContent):
        place = body.title or body.address or f"{body.latitude:.5f}, {body.longitude:.5f}"
        ctx.reply(messages.text_message(ctx.text("received_location", place=place)))
    elif isinstance(body, StickerMessageContent):
        ctx.reply(messages.text_message(ctx.text("received_sticker"), quick_reply=messages.main_menu(ctx.lang)))


def _keep_media(ctx: Context, body, kind: str) -> None:
    provider = getattr(body, "content_provider", None)
    if provider is None or provider.type == "line":
        row = content.expect(ctx.session, body.id, ctx.chat_id, ctx.user_id, kind,
                             file_name=getattr(body, "file_name", None), size=getattr(body, "file_size", None))
        ctx.enqueue_after_commit("fetch_content", row.id)
    ctx.reply(messages.text_message(ctx.text("received_image" if kind == "image" else "received_media")))
