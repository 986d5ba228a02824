"""The control API under `/_emulator/`: what tests, benches and the chat page use to drive the fake platform.

No bearer token: it is not part of LINE. It creates citizens and groups, makes them "do" things (each call
builds the events, sends the signed webhook and returns the bot's answer), reads back what the bot delivered,
and reconfigures limits and faults while running. `emulator.client.EmulatorClient` wraps every route.
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any, Callable

from flask import Blueprint, Response, abort, jsonify, request

from emulator.assets import sample_png
from emulator.events import EventError, EventFactory
from emulator.runtime import Emulator, current
from emulator.settings import DEFAULT_RATE_LIMITS, Faults, Rate
from emulator.state import FRIEND, Group, User, new_id

bp = Blueprint("control", __name__, url_prefix="/_emulator")

_SCALAR_SETTINGS = {"webhook_url": str, "channel_secret": str, "access_token": str, "reply_token_ttl": float,
                    "content_preparing_calls": int, "webhook_timeout": float, "redelivery": bool,
                    "redelivery_delay": float, "redelivery_attempts": int, "retry_key_ttl": float}


def _payload() -> dict[str, Any]:
    return request.get_json(silent=True) or {}


def _bad(message: str, status: int = 400) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


def _config_json(emu: Emulator) -> dict[str, Any]:
    data = asdict(emu.settings)
    data["rate_limits"] = {name: str(emu.settings.rate_for(name)) for name in
                           sorted(set(emu.settings.rate_limits) | set(DEFAULT_RATE_LIMITS))}
    return data


@bp.post("/reset")
def reset() -> Response:
    current().reset()
    return jsonify({"ok": True})


@bp.get("/config")
def get_config() -> Response:
    return jsonify(_config_json(current()))


@bp.post("/config")
def set_config() -> Response:
    """Partial update: only the keys present change; `monthly_quota: null` means unlimited."""
    emu, data = current(), _payload()
    try:
        for key, kind in _SCALAR_SETTINGS.items():
            if key in data:
                setattr(emu.settings, key, None if data[key] is None else kind(data[key]))
        if "monthly_quota" in data:
            emu.settings.monthly_quota = None if data["monthly_quota"] is None else int(data["monthly_quota"])
        for name, rate in (data.get("rate_limits") or {}).items():
            Rate.parse(rate)
            emu.settings.rate_limits[name] = str(rate)
        if "faults" in data:
            _set_faults(emu, data["faults"])
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return jsonify(_config_json(emu))


def _set_faults(emu: Emulator, data: dict[str, Any]) -> None:
    emu.settings.faults = Faults(int(data.get("latency_ms", 0)), float(data.get("fail_500", 0.0)),
                                 float(data.get("fail_429", 0.0)), data.get("seed"),
                                 float(data.get("lose_answer", 0.0)))
    emu.faults.configure(emu.settings.faults)


@bp.post("/faults")
def set_faults() -> Response:
    """Replace all faults at once; fields left out go back to none."""
    emu = current()
    try:
        _set_faults(emu, _payload())
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return jsonify(asdict(emu.settings.faults))


# --- people and groups ----------------------------------------------------------------------------------

@bp.post("/users")
def create_user() -> Response:
    data, platform = _payload(), current().platform
    user = User(data.get("user_id") or new_id("U"), data.get("display_name") or "ผู้ใช้ทดสอบ",
                data.get("language", "th"), data.get("status", FRIEND), data.get("picture_url"),
                data.get("status_message"))
    with platform.lock:
        platform.users[user.user_id] = user
    return jsonify(asdict(user))


@bp.get("/users")
def list_users() -> Response:
    return jsonify({"users": [asdict(u) for u in list(current().platform.users.values())]})


@bp.route("/users/<user_id>", methods=["GET", "PATCH"])
def user(user_id: str) -> Response:
    """GET a user; PATCH `status` (friend/blocked/stranger), `display_name`, `language` without any event."""
    platform = current().platform
    found = platform.users.get(user_id) or abort(404)
    if request.method == "PATCH":
        with platform.lock:
            for key in ("status", "display_name", "language", "picture_url", "status_message"):
                if key in _payload():
                    setattr(found, key, _payload()[key])
    return jsonify(asdict(found))


@bp.post("/groups")
def create_group() -> Response:
    data, platform = _payload(), current().platform
    kind = data.get("kind", "group")
    if kind not in ("group", "room"):
        return _bad("kind must be group or room")
    unknown = [uid for uid in data.get("member_ids", []) if uid not in platform.users]
    if unknown:
        return _bad(f"unknown users: {unknown}")
    group = Group(data.get("group_id") or new_id("C" if kind == "group" else "R"),
                  data.get("name") or "กลุ่มทดสอบ", kind, list(data.get("member_ids", [])),
                  bool(data.get("bot_joined", True)), data.get("picture_url"))
    with platform.lock:
        platform.groups[group.group_id] = group
    return jsonify(asdict(group))


@bp.get("/groups")
def list_groups() -> Response:
    return jsonify({"groups": [asdict(g) for g in list(current().platform.groups.values())]})


# --- "a user does X" ------------------------------------------------------------------------------------

def _bytes(spec: dict[str, Any], caption: str) -> bytes:
    if spec.get("data_base64"):
        return base64.b64decode(spec["data_base64"])
    return sample_png(spec.get("caption") or caption)


def _build(factory: EventFactory, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    uid, chat = spec.get("user_id"), spec.get("group_id") or spec.get("chat_id")
    preparing = int(spec.get("preparing_calls", current().settings.content_preparing_calls))
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "text": lambda: factory.text(uid, spec["text"], chat, spec.get("emojis")),
        "sticker": lambda: factory.sticker(uid, str(spec.get("package_id", "446")),
                                           str(spec.get("sticker_id", "1988")), chat),
        "image": lambda: factory.image(uid, _bytes(spec, "ภาพตัวอย่าง"), spec.get("content_type", "image/png"),
                                       chat, preparing, spec.get("image_set")),
        "video": lambda: factory.video(uid, _bytes(spec, "วิดีโอ"), int(spec.get("duration_ms", 5000)), chat,
                                       preparing),
        "audio": lambda: factory.audio(uid, _bytes(spec, "เสียง"), int(spec.get("duration_ms", 3000)), chat,
                                       preparing),
        "file": lambda: factory.file(uid, _bytes(spec, "ไฟล์"), spec.get("file_name", "document.pdf"), chat),
        "location": lambda: factory.location(uid, float(spec["latitude"]), float(spec["longitude"]),
                                             spec.get("title"), spec.get("address"), chat),
        "postback": lambda: factory.postback(uid, spec["data"], spec.get("params"), chat),
        "follow": lambda: factory.follow(uid),
        "unfollow": lambda: factory.unfollow(uid),
        "join": lambda: factory.join(chat),
        "leave": lambda: factory.leave(chat),
        "member_joined": lambda: factory.member_joined(chat, spec["user_ids"]),
        "member_left": lambda: factory.member_left(chat, spec["user_ids"]),
        "unsend": lambda: factory.unsend(uid, spec["message_id"]),
    }
    if kind not in builders:
        raise EventError(f"unknown event kind {kind!r}; one of {sorted(builders)}")
    return builders[kind]()


def _send(specs: list[dict[str, Any]]) -> Response:
    emu = current()
    factory = EventFactory(emu.platform)
    try:
        events = [_build(factory, spec["kind"], spec) for spec in specs]
    except (EventError, KeyError, TypeError, ValueError) as exc:
        return _bad(f"cannot build event: {exc}")
    return jsonify(emu.webhooks.send(events).to_json())


@bp.post("/send/<kind>")
def send_one(kind: str) -> Response:
    """One event in one webhook request; answers the bot's status, latency and the event sent."""
    return _send([{**_payload(), "kind": kind}])


@bp.post("/send")
def send_many() -> Response:
    """Several events (`{"events": [{"kind": ..., ...}]}`) in one webhook request, as LINE batches them."""
    return _send(_payload().get("events", []))


@bp.get("/events/<event_id>")
def get_event(event_id: str) -> Response:
    return jsonify(current().platform.events.get(event_id) or abort(404))


@bp.post("/events/<event_id>/redeliver")
def redeliver(event_id: str) -> Response:
    try:
        return jsonify(current().webhooks.redeliver([event_id]).to_json())
    except KeyError:
        return _bad(f"unknown event {event_id}", 404)


@bp.post("/events/<event_id>/duplicate")
def duplicate(event_id: str) -> Response:
    try:
        return jsonify(current().webhooks.duplicate([event_id]).to_json())
    except KeyError:
        return _bad(f"unknown event {event_id}", 404)


# --- what happened --------------------------------------------------------------------------------------

@bp.get("/messages")
def messages() -> Response:
    """Messages the bot sent: `chat_id`, `since` (a cursor), `endpoint`, `include_undelivered=1` filter."""
    args, platform = request.args, current().platform
    since = int(args.get("since", 0))
    records, last_seq = platform.snapshot()
    cursor = max(since, last_seq)
    found = [d for d in platform.sent(since, args.get("chat_id") or None, records)
             if (not args.get("endpoint") or d.endpoint == args["endpoint"])
             and (d.delivered or args.get("include_undelivered") in ("1", "true"))]
    return jsonify({"messages": [asdict(d) for d in found], "cursor": cursor})


@bp.get("/recipients")
def recipients() -> Response:
    """How many requests to many chats (multicast, broadcast, narrowcast) reached each chat, for checking a large
    fan-out exactly once without listing every message: `endpoint` (repeatable), `text` (a substring of a text
    message of the request). Answers `{"counts": {chat_id: n}, "total": sum}`."""
    endpoints = request.args.getlist("endpoint") or ["multicast", "broadcast", "narrowcast"]
    counts = current().platform.recipient_counts(endpoints, request.args.get("text") or None)
    return jsonify({"counts": counts, "total": sum(counts.values())})


@bp.get("/accepted/<endpoint>")
def accepted(endpoint: str) -> Response:
    """When each accepted request of an endpoint (`multicast`, `push`...) was recorded, ms since the epoch."""
    return jsonify({"times": current().platform.accepted_times(endpoint)})


@bp.get("/chats/<chat_id>/timeline")
def timeline(chat_id: str) -> Response:
    """Both directions of one chat in order, for the chat page: the citizen's messages and the bot's."""
    platform, since = current().platform, int(request.args.get("since", 0))
    with platform.lock:  # both directions read at one moment, so the cursor below skips nothing
        records, _ = platform.snapshot()
        items = [{"seq": r["seq"], "from": r["user_id"], "message": r["message"], "timestamp": r["timestamp"],
                  "message_id": r["message"]["id"], "unsent": r["unsent"]}
                 for r in platform.user_messages.values() if r["chat_id"] == chat_id and r["seq"] > since]
        loading = [entry for entry in platform.loading if entry["chatId"] == chat_id]
    items += [{"seq": d.seq, "from": "bot", "message": d.message, "timestamp": d.timestamp,
               "message_id": d.message_id} for d in platform.sent(since, chat_id, records) if d.delivered]
    items.sort(key=lambda item: item["seq"])
    return jsonify({"items": items, "cursor": max([since] + [i["seq"] for i in items]),
                    "loading": loading[-1] if loading else None})


@bp.get("/webhooks")
def webhook_attempts() -> Response:
    since = int(request.args.get("since", 0))
    attempts = [asdict(a) for a in list(current().platform.webhook_attempts) if a.seq > since]
    return jsonify({"attempts": attempts})


@bp.get("/spec-violations")
def spec_violations() -> Response:
    return jsonify({"violations": list(current().platform.spec_violations)})


@bp.get("/rejections")
def rejections() -> Response:
    """Refused Messaging API requests counted by reason (`rate_limit`, `quota`, `spec_violation`...)."""
    platform = current().platform
    with platform.lock:
        return jsonify({"total": dict(platform.rejections),
                        "by_endpoint": {k: dict(v) for k, v in platform.rejections_by_endpoint.items()},
                        "lost_answers": dict(platform.lost_answers)})


@bp.get("/quota")
def quota() -> Response:
    emu = current()
    return jsonify({"limit": emu.settings.monthly_quota, "used": emu.platform.quota_used})


@bp.get("/loading")
def loading() -> Response:
    return jsonify({"loading": list(current().platform.loading)})


@bp.get("/richmenu")
def rich_menu() -> Response:
    """The rich menu a user sees (their own link, else the default), with areas and an image URL; or null."""
    menu = current().platform.effective_rich_menu(request.args.get("user_id"))
    if menu is None or menu.image is None:
        return jsonify(None)
    return jsonify({"richMenuId": menu.rich_menu_id, "size": menu.body.get("size"),
                    "areas": menu.body.get("areas", []), "chatBarText": menu.body.get("chatBarText"),
                    "imageUrl": f"/_emulator/richmenu/{menu.rich_menu_id}/image"})


@bp.get("/richmenu/<rich_menu_id>/image")
def rich_menu_image(rich_menu_id: str) -> Response:
    menu = current().platform.rich_menus.get(rich_menu_id)
    if menu is None or menu.image is None:
        abort(404)
    return Response(menu.image, content_type=menu.image_type)


@bp.get("/content/<message_id>")
def content(message_id: str) -> Response:
    """A citizen's uploaded content, for the chat page (ignores the "preparing" and unsend rules)."""
    found = current().platform.contents.get(message_id) or abort(404)
    return Response(found.data, content_type=found.content_type)
