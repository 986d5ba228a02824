"""Webhook events built exactly as LINE sends them, with every field the v3 SDK's parser requires.

A missing `mode`, `webhookEventId`, `deliveryContext`, `quoteToken` or `follow.isUnblocked` makes the SDK fail or
silently produce `UnknownEvent` (line-platform.md §19), so each builder fills them all. Builders also apply the
event's effect on the platform (a follow makes a friend, an unsend makes content 410, a join adds the bot), so
the Messaging API afterwards answers as LINE would.
"""

from __future__ import annotations

import secrets
from typing import Any

from ulid import ULID

from emulator.state import BLOCKED, FRIEND, Content, Group, Platform, now_ms

# Events that LINE gives a reply token (line-platform.md §5).
_REPLYABLE = {"message", "follow", "join", "memberJoined", "postback"}


class EventError(ValueError):
    """The requested event makes no sense for the platform's state (unknown user, group...)."""


class EventFactory:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def _source(self, user_id: str | None, chat_id: str | None) -> tuple[dict[str, Any], str]:
        if user_id is not None and user_id not in self.platform.users:
            raise EventError(f"unknown user {user_id}")
        if chat_id is None or chat_id == user_id:
            return {"type": "user", "userId": user_id}, str(user_id)
        group = self.platform.groups.get(chat_id)
        if group is None:
            raise EventError(f"unknown group or room {chat_id}")
        key = "groupId" if group.kind == "group" else "roomId"
        source: dict[str, Any] = {"type": group.kind, key: chat_id}
        if user_id is not None:
            source["userId"] = user_id
        return source, chat_id

    def _event(self, kind: str, user_id: str | None, chat_id: str | None, **fields: Any) -> dict[str, Any]:
        source, reply_chat = self._source(user_id, chat_id)
        event: dict[str, Any] = {
            "type": kind, "mode": "active", "timestamp": now_ms(), "source": source,
            "webhookEventId": str(ULID()), "deliveryContext": {"isRedelivery": False}}
        if kind in _REPLYABLE:
            event["replyToken"] = self.platform.issue_reply_token(reply_chat)
        event.update(fields)
        return event

    def _message(self, user_id: str, chat_id: str | None, content: dict[str, Any],
                 data: bytes | None = None, content_type: str = "application/octet-stream",
                 preparing_calls: int = 0) -> dict[str, Any]:
        message_id = self.platform.next_message_id()
        message = {"id": message_id, **content}
        if content["type"] in ("text", "image", "video", "sticker"):
            message["quoteToken"] = secrets.token_urlsafe(24)
        message["markAsReadToken"] = secrets.token_urlsafe(16)
        event = self._event("message", user_id, chat_id, message=message)
        with self.platform.lock:
            if data is not None:
                self.platform.contents[message_id] = Content(data, content_type, preparing_calls)
            self.platform.user_messages[message_id] = {
                "seq": self.platform.next_seq(), "chat_id": chat_id or user_id, "user_id": user_id,
                "message": message, "timestamp": event["timestamp"], "unsent": False}
        return event

    def text(self, user_id: str, text: str, chat_id: str | None = None,
             emojis: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"type": "text", "text": text}
        if emojis:
            content["emojis"] = emojis
        return self._message(user_id, chat_id, content)

    def sticker(self, user_id: str, package_id: str = "446", sticker_id: str = "1988",
                chat_id: str | None = None, keywords: list[str] | None = None) -> dict[str, Any]:
        content = {"type": "sticker", "packageId": package_id, "stickerId": sticker_id,
                   "stickerResourceType": "STATIC", "keywords": keywords or ["Happy"]}
        return self._message(user_id, chat_id, content)

    def image(self, user_id: str, data: bytes, content_type: str = "image/png", chat_id: str | None = None,
              preparing_calls: int = 0, image_set: dict[str, Any] | None = None) -> dict[str, Any]:
        """An image; ``image_set`` ({"id", "index", "total"}) marks one of several photos sent at once, as
        LINE does for up to 20 images chosen together (one event each, the same set id)."""
        content: dict[str, Any] = {"type": "image", "contentProvider": {"type": "line"}}
        if image_set:
            content["imageSet"] = {"id": str(image_set["id"]), "index": int(image_set["index"]),
                                   "total": int(image_set["total"])}
        return self._message(user_id, chat_id, content, data, content_type, preparing_calls)

    def video(self, user_id: str, data: bytes, duration_ms: int = 5000, chat_id: str | None = None,
              preparing_calls: int = 0) -> dict[str, Any]:
        return self._message(user_id, chat_id, {"type": "video", "duration": duration_ms,
                                                "contentProvider": {"type": "line"}},
                             data, "video/mp4", preparing_calls)

    def audio(self, user_id: str, data: bytes, duration_ms: int = 3000, chat_id: str | None = None,
              preparing_calls: int = 0) -> dict[str, Any]:
        return self._message(user_id, chat_id, {"type": "audio", "duration": duration_ms,
                                                "contentProvider": {"type": "line"}},
                             data, "audio/m4a", preparing_calls)

    def file(self, user_id: str, data: bytes, file_name: str, chat_id: str | None = None) -> dict[str, Any]:
        return self._message(user_id, chat_id, {"type": "file", "fileName": file_name, "fileSize": len(data)},
                             data, "application/octet-stream")

    def location(self, user_id: str, latitude: float, longitude: float, title: str | None = None,
                 address: str | None = None, chat_id: str | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"type": "location", "latitude": latitude, "longitude": longitude}
        if title:
            content["title"] = title
        if address:
            content["address"] = address
        return self._message(user_id, chat_id, content)

    def postback(self, user_id: str, data: str, params: dict[str, str] | None = None,
                 chat_id: str | None = None) -> dict[str, Any]:
        postback: dict[str, Any] = {"data": data}
        if params:
            postback["params"] = params
        return self._event("postback", user_id, chat_id, postback=postback)

    def follow(self, user_id: str) -> dict[str, Any]:
        user = self.platform.users.get(user_id)
        unblocked = user is not None and user.status == BLOCKED
        event = self._event("follow", user_id, None, follow={"isUnblocked": unblocked})
        with self.platform.lock:
            self.platform.users[user_id].status = FRIEND
        return event

    def unfollow(self, user_id: str) -> dict[str, Any]:
        event = self._event("unfollow", user_id, None)
        with self.platform.lock:
            self.platform.users[user_id].status = BLOCKED
        return event

    def _group(self, chat_id: str) -> Group:
        group = self.platform.groups.get(chat_id)
        if group is None:
            raise EventError(f"unknown group or room {chat_id}")
        return group

    def join(self, chat_id: str) -> dict[str, Any]:
        self._group(chat_id).bot_joined = True
        return self._event("join", None, chat_id)

    def leave(self, chat_id: str) -> dict[str, Any]:
        event = self._event("leave", None, chat_id)
        self._group(chat_id).bot_joined = False
        return event

    def member_joined(self, chat_id: str, user_ids: list[str]) -> dict[str, Any]:
        group = self._group(chat_id)
        with self.platform.lock:
            group.member_ids.extend(uid for uid in user_ids if uid not in group.member_ids)
        members = [{"type": "user", "userId": uid} for uid in user_ids]
        return self._event("memberJoined", None, chat_id, joined={"members": members})

    def member_left(self, chat_id: str, user_ids: list[str]) -> dict[str, Any]:
        group = self._group(chat_id)
        with self.platform.lock:
            group.member_ids[:] = [uid for uid in group.member_ids if uid not in user_ids]
        members = [{"type": "user", "userId": uid} for uid in user_ids]
        return self._event("memberLeft", None, chat_id, left={"members": members})

    def unsend(self, user_id: str, message_id: str) -> dict[str, Any]:
        record = self.platform.user_messages.get(message_id)
        if record is None or record["user_id"] != user_id:
            raise EventError(f"{user_id} sent no message {message_id}")
        chat_id = record["chat_id"] if record["chat_id"] != user_id else None
        with self.platform.lock:
            record["unsent"] = True
            if message_id in self.platform.contents:
                self.platform.contents[message_id].unsent = True
        return self._event("unsend", user_id, chat_id, unsend={"messageId": message_id})
