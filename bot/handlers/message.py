"""Messages a citizen sends: slowed down if flooding (never a cry for help, never a complaint's content),
media recorded for download, then to the flows."""

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

from bot import flows, groups
from bot.casework import threads
from bot.flows import understanding
from bot.context import Context
from bot.handlers.flood import slowed_down
from bot.people import citizen_for
from storage import content

MEDIA = {ImageMessageContent: "image", VideoMessageContent: "video", AudioMessageContent: "audio",
         FileMessageContent: "file"}


def on_message(ctx: Context) -> None:
    if ctx.event.source.type != "user":
        if isinstance(ctx.event.message, TextMessageContent):
            groups.on_group_text(ctx, ctx.event.message.text)  # commands and notes; chatter is ignored
        elif isinstance(ctx.event.message, ImageMessageContent):
            groups.on_group_image(ctx, ctx.event.message.id)  # an after-photo after "resolved"; else ignored
        return
    body = ctx.event.message
    image_set = _image_set(body)
    if image_set is None and not _danger_to_life(body) and slowed_down(ctx):
        if not _is_content(ctx, body):
            return
        ctx.muted = True  # slow the answers, keep the content: the photo or text still reaches its draft
    citizen_for(ctx)
    if threads.route_to_open_thread(ctx):  # an officer's reply or a hand-over is open: the message is theirs
        return
    if isinstance(body, TextMessageContent):
        flows.on_text(ctx, body.text)
    elif type(body) in MEDIA:
        flows.on_media(ctx, MEDIA[type(body)], keep_media(ctx, body, MEDIA[type(body)]), body.id, image_set)
    elif isinstance(body, LocationMessageContent):
        flows.on_location(ctx, body.latitude, body.longitude, body.title, body.address)
    elif isinstance(body, StickerMessageContent):
        flows.on_sticker(ctx)


def _image_set(body) -> tuple[str, int, int] | None:
    """LINE's image set (several photos sent at once, up to 20): (id, index, total). One gesture of the
    citizen, so its photos are not counted as flooding."""
    found = getattr(body, "image_set", None) if isinstance(body, ImageMessageContent) else None
    if found is None or not found.id:
        return None
    return found.id, int(found.index or 0), int(found.total or 0)


def _is_content(ctx: Context, body) -> bool:
    """A photo or video, or a text while a complaint is open: kept even from a citizen sending fast."""
    if isinstance(body, (ImageMessageContent, VideoMessageContent)):
        return True
    return isinstance(body, TextMessageContent) and flows.engine.active_flow(ctx) == "complaint"


def _danger_to_life(body) -> bool:
    """A text about danger to life is answered even from a citizen sending fast: people in danger do."""
    return isinstance(body, TextMessageContent) and understanding.urgency_of(body.text).urgent


def keep_media(ctx: Context, body, kind: str) -> int | None:
    """Record the content and fetch it right after commit: LINE keeps it for an undisclosed time only."""
    provider = getattr(body, "content_provider", None)
    if provider is not None and provider.type != "line":
        return None
    row = content.expect(ctx.session, body.id, ctx.chat_id, ctx.user_id, kind,
                         file_name=getattr(body, "file_name", None), size=getattr(body, "file_size", None))
    ctx.enqueue_after_commit("fetch_content", row.id)
    return row.id
