"""`EmulatorClient`: the Python face of the control API, for tests, benches and `siang dev`.

Every "user does X" method sends one signed webhook to the bot and returns a `SendResult` with the bot's HTTP
status and the events it was sent. Reading methods return plain dicts as the control API gives them. The
client talks HTTP only, so it works the same against an emulator in this process or another.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import requests


class EmulatorError(RuntimeError):
    """The control API refused a call (unknown user, bad configuration...)."""


@dataclass(frozen=True)
class SendResult:
    """The bot's answer to one webhook request."""

    status: int | None
    ok: bool
    latency_ms: float
    error: str | None
    events: list[dict[str, Any]]

    @property
    def event(self) -> dict[str, Any]:
        return self.events[0]

    @property
    def event_id(self) -> str:
        return self.event["webhookEventId"]

    @property
    def reply_token(self) -> str | None:
        return self.event.get("replyToken")

    @property
    def message_id(self) -> str | None:
        return self.event.get("message", {}).get("id")


class EmulatorClient:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, f"{self.base_url}/_emulator{path}", json=json, params=params,
                                      timeout=self.timeout)
        if response.status_code >= 400:
            raise EmulatorError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def _send(self, kind: str, **fields: Any) -> SendResult:
        payload = {key: value for key, value in fields.items() if value is not None}
        return SendResult(**self._call("POST", f"/send/{kind}", payload))

    # --- configuration ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget users, groups, messages, tokens, counters; keep the configuration."""
        self._call("POST", "/reset")

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change settings by name: webhook_url, channel_secret, access_token, reply_token_ttl,
        monthly_quota, rate_limits={"push": "100/s"}, content_preparing_calls, redelivery, redelivery_delay,
        webhook_timeout, faults={...}."""
        return self._call("POST", "/config", changes)

    def set_faults(self, latency_ms: int = 0, fail_500: float = 0.0, fail_429: float = 0.0,
                   seed: int | None = None, lose_answer: float = 0.0) -> dict[str, Any]:
        """`lose_answer`: share of requests carried out in full and then answered 500."""
        return self._call("POST", "/faults", {"latency_ms": latency_ms, "fail_500": fail_500,
                                              "fail_429": fail_429, "seed": seed, "lose_answer": lose_answer})

    def clear_faults(self) -> None:
        self.set_faults()

    def set_rate_limit(self, endpoint: str, rate: str) -> None:
        """E.g. `set_rate_limit("push", "100/s")`; names as in `emulator.settings.DEFAULT_RATE_LIMITS`."""
        self.configure(rate_limits={endpoint: rate})

    def set_quota(self, monthly_quota: int | None) -> None:
        self.configure(monthly_quota=monthly_quota)

    # --- people and groups ------------------------------------------------------------------------------

    def create_user(self, display_name: str = "ผู้ใช้ทดสอบ", language: str = "th", status: str = "friend",
                    user_id: str | None = None, picture_url: str | None = None) -> dict[str, Any]:
        """A simulated citizen; `status` is friend, blocked or stranger (never added the OA)."""
        return self._call("POST", "/users", {"display_name": display_name, "language": language,
                                             "status": status, "user_id": user_id, "picture_url": picture_url})

    def users(self) -> list[dict[str, Any]]:
        return self._call("GET", "/users")["users"]

    def user(self, user_id: str) -> dict[str, Any]:
        return self._call("GET", f"/users/{user_id}")

    def set_user_status(self, user_id: str, status: str) -> dict[str, Any]:
        """Change friend/blocked/stranger silently (no webhook); use follow()/unfollow() for the events."""
        return self._call("PATCH", f"/users/{user_id}", {"status": status})

    def create_group(self, name: str = "กลุ่มทดสอบ", member_ids: list[str] | tuple[str, ...] = (),
                     kind: str = "group", bot_joined: bool = True) -> dict[str, Any]:
        """A group (or `kind="room"`) with members; the bot is already in it unless `bot_joined=False`."""
        return self._call("POST", "/groups", {"name": name, "member_ids": list(member_ids), "kind": kind,
                                              "bot_joined": bot_joined})

    def groups(self) -> list[dict[str, Any]]:
        return self._call("GET", "/groups")["groups"]

    # --- a user does something (each sends one webhook) -------------------------------------------------

    def send_text(self, user_id: str, text: str, group_id: str | None = None,
                  emojis: list[dict[str, Any]] | None = None) -> SendResult:
        return self._send("text", user_id=user_id, text=text, group_id=group_id, emojis=emojis)

    def send_sticker(self, user_id: str, package_id: str = "446", sticker_id: str = "1988",
                     group_id: str | None = None) -> SendResult:
        return self._send("sticker", user_id=user_id, package_id=package_id, sticker_id=sticker_id,
                          group_id=group_id)

    def send_image(self, user_id: str, data: bytes | None = None, content_type: str = "image/png",
                   group_id: str | None = None, caption: str | None = None,
                   preparing_calls: int | None = None, image_set: dict[str, Any] | None = None) -> SendResult:
        """An image message; without `data` a PNG with a Thai `caption` is generated. The content is then
        downloadable from the data API, after `preparing_calls` answers of 202. `image_set` ({"id", "index",
        "total"}) makes it one photo of several sent at once."""
        return self._send("image", user_id=user_id, group_id=group_id, content_type=content_type,
                          caption=caption, preparing_calls=preparing_calls, image_set=image_set,
                          data_base64=base64.b64encode(data).decode() if data else None)

    def send_video(self, user_id: str, data: bytes = b"\x00\x00\x00\x18ftypmp42", duration_ms: int = 5000,
                   group_id: str | None = None, preparing_calls: int | None = None) -> SendResult:
        return self._send("video", user_id=user_id, duration_ms=duration_ms, group_id=group_id,
                          preparing_calls=preparing_calls, data_base64=base64.b64encode(data).decode())

    def send_audio(self, user_id: str, data: bytes = b"\x00\x00\x00\x18ftypM4A ", duration_ms: int = 3000,
                   group_id: str | None = None, preparing_calls: int | None = None) -> SendResult:
        return self._send("audio", user_id=user_id, duration_ms=duration_ms, group_id=group_id,
                          preparing_calls=preparing_calls, data_base64=base64.b64encode(data).decode())

    def send_file(self, user_id: str, data: bytes, file_name: str = "document.pdf",
                  group_id: str | None = None) -> SendResult:
        return self._send("file", user_id=user_id, file_name=file_name, group_id=group_id,
                          data_base64=base64.b64encode(data).decode())

    def send_location(self, user_id: str, latitude: float, longitude: float, title: str | None = None,
                      address: str | None = None, group_id: str | None = None) -> SendResult:
        return self._send("location", user_id=user_id, latitude=latitude, longitude=longitude, title=title,
                          address=address, group_id=group_id)

    def tap_postback(self, user_id: str, data: str, params: dict[str, str] | None = None,
                     group_id: str | None = None) -> SendResult:
        """A postback button tap; `params` carries a datetime picker's `{"date": "2026-11-23"}` etc."""
        return self._send("postback", user_id=user_id, data=data, params=params, group_id=group_id)

    def follow(self, user_id: str) -> SendResult:
        """The user adds (or unblocks) the OA; `follow.isUnblocked` is true if they had blocked it."""
        return self._send("follow", user_id=user_id)

    def unfollow(self, user_id: str) -> SendResult:
        """The user blocks the OA: later pushes to them are accepted but not delivered."""
        return self._send("unfollow", user_id=user_id)

    def join_group(self, group_id: str) -> SendResult:
        return self._send("join", group_id=group_id)

    def leave_group(self, group_id: str) -> SendResult:
        return self._send("leave", group_id=group_id)

    def members_joined(self, group_id: str, user_ids: list[str]) -> SendResult:
        return self._send("member_joined", group_id=group_id, user_ids=user_ids)

    def members_left(self, group_id: str, user_ids: list[str]) -> SendResult:
        return self._send("member_left", group_id=group_id, user_ids=user_ids)

    def unsend(self, user_id: str, message_id: str) -> SendResult:
        """The user unsends a message: its content then answers 410."""
        return self._send("unsend", user_id=user_id, message_id=message_id)

    def send_events(self, *events: dict[str, Any]) -> SendResult:
        """Several events in one webhook request, e.g. `{"kind": "text", "user_id": u, "text": "..."}`."""
        return SendResult(**self._call("POST", "/send", {"events": list(events)}))

    def redeliver(self, event_id: str) -> SendResult:
        """Send a past event again with `isRedelivery: true` (same id and reply token)."""
        return SendResult(**self._call("POST", f"/events/{event_id}/redeliver"))

    def duplicate(self, event_id: str) -> SendResult:
        """Send a past event again exactly as first sent."""
        return SendResult(**self._call("POST", f"/events/{event_id}/duplicate"))

    def event(self, event_id: str) -> dict[str, Any]:
        return self._call("GET", f"/events/{event_id}")

    # --- what the bot did -------------------------------------------------------------------------------

    def messages(self, chat_id: str | None = None, since: int = 0, endpoint: str | None = None,
                 include_undelivered: bool = False) -> dict[str, Any]:
        """`{"messages": [...], "cursor": n}`; pass the cursor as `since` next time to get only newer ones."""
        params = {"chat_id": chat_id, "since": since, "endpoint": endpoint,
                  "include_undelivered": "1" if include_undelivered else None}
        return self._call("GET", "/messages", params={k: v for k, v in params.items() if v is not None})

    def messages_for(self, chat_id: str, since: int = 0, include_undelivered: bool = False) -> list[dict[str, Any]]:
        """Messages the bot delivered to a user or group; each has endpoint, retry_key, request_id,
        timestamp, message_id and `message` (the message object as sent)."""
        return self.messages(chat_id, since, include_undelivered=include_undelivered)["messages"]

    def recipient_counts(self, text: str | None = None,
                         endpoints: tuple[str, ...] = ("multicast", "broadcast", "narrowcast")) -> dict[str, int]:
        """Chat id -> how many multicast/broadcast/narrowcast requests reached it (delivered or not), optionally
        only those with a text message containing `text`; cheap even for a million recipients."""
        params: dict[str, Any] = {"endpoint": list(endpoints)}
        if text is not None:
            params["text"] = text
        return self._call("GET", "/recipients", params=params)["counts"]

    def accepted_times(self, endpoint: str) -> list[int]:
        """When each accepted request of `endpoint` reached the platform (ms since the epoch), in order."""
        return self._call("GET", f"/accepted/{endpoint}")["times"]

    def texts_for(self, chat_id: str, since: int = 0) -> list[str]:
        """Just the text of the text messages delivered to a chat, in order."""
        return [m["message"]["text"] for m in self.messages_for(chat_id, since) if "text" in m["message"]]

    def wait_for_messages(self, chat_id: str, count: int = 1, timeout: float = 5.0,
                          since: int = 0) -> list[dict[str, Any]]:
        """Poll until at least `count` messages reached the chat; raise TimeoutError with what did."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages_for(chat_id, since)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} messages reached {chat_id} in {timeout}s: {found}")
            time.sleep(0.02)

    def timeline(self, chat_id: str, since: int = 0) -> dict[str, Any]:
        return self._call("GET", f"/chats/{chat_id}/timeline", params={"since": since})

    def webhook_attempts(self, since: int = 0) -> list[dict[str, Any]]:
        """Every webhook request sent: status (None if no answer), error, latency_ms, event ids, body."""
        return self._call("GET", "/webhooks", params={"since": since})["attempts"]

    def spec_violations(self) -> list[dict[str, Any]]:
        """Requests whose body broke the OpenAPI spec; a correct bot leaves this empty."""
        return self._call("GET", "/spec-violations")["violations"]

    def assert_no_spec_violations(self) -> None:
        violations = self.spec_violations()
        if violations:
            raise AssertionError(f"the bot sent {len(violations)} request(s) LINE would reject: {violations}")

    def rejections(self) -> dict[str, int]:
        """Refused requests by reason: rate_limit, quota, injected_500, injected_429, invalid_reply_token,
        retry_key_conflict, spec_violation, unauthorized, too_large, invalid_request..."""
        return self._call("GET", "/rejections")["total"]

    def rejections_by_endpoint(self) -> dict[str, dict[str, int]]:
        return self._call("GET", "/rejections")["by_endpoint"]

    def lost_answers(self) -> dict[str, int]:
        """Endpoint -> requests carried out and then answered 500 (the `lose_answer` fault)."""
        return self._call("GET", "/rejections")["lost_answers"]

    def quota_usage(self) -> dict[str, Any]:
        return self._call("GET", "/quota")

    def loading_calls(self) -> list[dict[str, Any]]:
        return self._call("GET", "/loading")["loading"]

    def rich_menu(self, user_id: str | None = None) -> dict[str, Any] | None:
        """The rich menu the user sees (linked, else default) with areas and image URL, or None."""
        return self._call("GET", "/richmenu", params={"user_id": user_id} if user_id else None)
