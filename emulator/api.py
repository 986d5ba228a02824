"""The Messaging API paths the bot calls, on one host for both api.line.me and api-data.line.me.

line-bot-sdk v3 with `Configuration(host=...)` sends blob calls to the same host as messaging calls
(line-platform.md §19), so content download and rich-menu image upload live here beside push and reply.
Every request passes the same gate in `_run` — size, bearer token, injected faults, rate limit, retry-key
header, OpenAPI schema, documented limits — in that order, and each refusal is counted by reason.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Response, g, jsonify, request

from emulator.errors import (
    QUOTA_MESSAGE,
    RATE_LIMIT_MESSAGE,
    SERVER_ERROR_MESSAGE,
    LineApiError,
    bad_request,
    detail,
)
from emulator.faults import LOST
from emulator.limits import CHAT_ID, MAX_BODY_BYTES, MAX_MULTICAST_RECIPIENTS, USER_ID, message_violations
from emulator.runtime import Emulator, current
from emulator.state import BLOCKED, FRIEND, AcceptedRetryKey, Content, Group, RichMenu, now_ms

bp = Blueprint("line_api", __name__)

RETRY_KEY_ENDPOINTS = {"push", "multicast", "narrowcast", "broadcast"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NOT_FOUND = LineApiError(404, "Not found", "not_found")

Result = Response | tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """What a handler needs to know about the request besides its body."""

    endpoint: str
    request_id: str
    retry_key: str | None


def line_api(rule: str, endpoint: str, methods: tuple[str, ...] = ("POST",)) -> Callable:
    def register(handler: Callable[..., Result]) -> Callable[..., Result]:
        def view(**path_args: str) -> Response:
            return _run(endpoint, handler, path_args)
        bp.add_url_rule(rule, endpoint=handler.__name__, view_func=view, methods=list(methods))
        return handler
    return register


def error_response(error: LineApiError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _json_body() -> Any:
    if not request.data:
        return None
    try:
        return request.get_json(force=True)
    except Exception as exc:
        raise LineApiError(400, "The request body could not be parsed as JSON", "malformed_json") from exc


def _check_spec(emu: Emulator, body: Any) -> None:
    if emu.validator is None or body is None:
        return
    operation = emu.validator.find(request.method, request.path)
    if operation is None:
        return
    details = emu.validator.validate(operation, body)
    if details:
        with emu.platform.lock:
            emu.platform.spec_violations.append({
                "method": request.method, "path": request.path, "operation": operation.operation_id,
                "details": details, "body": body, "request_id": g.request_id, "timestamp": now_ms()})
        raise bad_request(details, reason="spec_violation")


def _gate(emu: Emulator, endpoint: str) -> tuple[str | None, bool]:
    """Everything that can refuse a request before its handler runs; returns the retry key and whether the
    answer is to be lost once the request is carried out (an injected fault)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        request.get_data()
        raise LineApiError(413, "Request Entity Too Large", "too_large")
    if request.headers.get("Authorization") != f"Bearer {emu.settings.access_token}":
        raise LineApiError(401, "Authentication failed due to the following reason: invalid token. Confirm that "
                                "the access token in the authorization header is valid.", "unauthorized")
    emu.faults.delay()
    fault = emu.faults.draw()
    if fault == 500:
        raise LineApiError(500, SERVER_ERROR_MESSAGE, "injected_500")
    if fault == 429:
        raise LineApiError(429, RATE_LIMIT_MESSAGE, "injected_429")
    if not emu.limiter.allow(endpoint):
        raise LineApiError(429, RATE_LIMIT_MESSAGE, "rate_limit")
    key = request.headers.get("X-Line-Retry-Key")
    if key is not None and endpoint not in RETRY_KEY_ENDPOINTS:
        raise LineApiError(400, "The X-Line-Retry-Key header cannot be used with this API", "retry_key_not_allowed")
    if key is not None and not _UUID.match(key):
        raise LineApiError(400, "The X-Line-Retry-Key header must be a UUID", "retry_key_invalid")
    return key, fault == LOST


def _run(endpoint: str, handler: Callable[..., Result], path_args: dict[str, str]) -> Response:
    emu = current()
    try:
        key, lose_answer = _gate(emu, endpoint)
        body = _json_body() if request.mimetype in ("application/json", "") else None
        _check_spec(emu, body)
        call = Call(endpoint, g.request_id, key)
        if key is None:
            result = handler(emu, body, call, **path_args)
        else:
            result = _once_per_retry_key(emu, key, lambda: handler(emu, body, call, **path_args))
        if lose_answer and 200 <= _status(result) < 300:
            with emu.platform.lock:
                emu.platform.lost_answers[endpoint] += 1
            return error_response(LineApiError(500, SERVER_ERROR_MESSAGE, "injected_lost_answer"))
    except LineApiError as error:
        emu.platform.reject(endpoint, error.reason)
        return error_response(error)
    if isinstance(result, Response):
        return result
    status, payload = result
    response = jsonify(payload)
    response.status_code = status
    return response


def _once_per_retry_key(emu: Emulator, key: str, send: Callable[[], Result]) -> Result:
    """Run `send` unless `key` was accepted in the last 24 h; the lock makes concurrent twins send once."""
    p = emu.platform
    with p.lock:
        accepted = p.retry_keys.get(key)
        if accepted and time.time() - accepted.accepted_at < emu.settings.retry_key_ttl:
            extra = {k: v for k, v in accepted.body.items() if k == "sentMessages"}
            raise LineApiError(409, "The retry key is already accepted", "retry_key_conflict", extra_body=extra,
                               headers={"X-Line-Accepted-Request-Id": accepted.request_id})
        result = send()
        if 200 <= _status(result) < 300:
            payload = {} if isinstance(result, Response) else result[1]
            p.retry_keys[key] = AcceptedRetryKey(g.request_id, time.time(), payload)
        return result


def _status(result: Result) -> int:
    return result.status_code if isinstance(result, Response) else result[0]


# --- sending ---------------------------------------------------------------------------------------------

def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    problems = message_violations(body.get("messages"))
    if problems:
        raise bad_request(problems)
    return body["messages"]


def _charge(emu: Emulator, people: int) -> None:
    """Monthly quota: one per recipient person; refuse the whole request when it would go over."""
    quota = emu.settings.monthly_quota
    with emu.platform.lock:
        if quota is not None and emu.platform.quota_used + people > quota:
            raise LineApiError(429, QUOTA_MESSAGE, "quota")
        emu.platform.quota_used += people


@line_api("/v2/bot/message/reply", "reply")
def reply(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    messages = _messages(body)
    token = emu.platform.take_reply_token(str(body.get("replyToken")), emu.settings.reply_token_ttl)
    if token is None:
        raise LineApiError(400, "Invalid reply token", "invalid_reply_token")
    sent = emu.platform.deliver(token.chat_id, "reply", call.request_id, None, messages, delivered=True)
    return 200, {"sentMessages": sent}


@line_api("/v2/bot/message/push", "push")
def push(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    messages = _messages(body)
    to = str(body.get("to"))
    if not CHAT_ID.match(to):
        raise bad_request([detail("The property, 'to', in the request body is invalid", "to")])
    with emu.platform.lock:
        people = emu.platform.chat_members(to)
        _charge(emu, len(people))
        sent = emu.platform.deliver(to, "push", call.request_id, call.retry_key, messages, delivered=bool(people))
    return 200, {"sentMessages": sent}


@line_api("/v2/bot/message/multicast", "multicast")
def multicast(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    messages = _messages(body)
    to = body.get("to") or []
    if not 1 <= len(to) <= MAX_MULTICAST_RECIPIENTS:
        raise bad_request([detail(f"Size must be between 1 and {MAX_MULTICAST_RECIPIENTS}", "to")])
    if not _all_user_ids(to):
        raise bad_request([detail("The property, 'to', in the request body is invalid", f"to[{i}]")
                           for i, uid in enumerate(to) if not isinstance(uid, str) or not USER_ID.match(uid)])
    people = list(dict.fromkeys(to))  # a user id given twice gets the message once
    with emu.platform.lock:
        users = emu.platform.users  # user ids only (checked above): a friend is reached, anyone else is not
        reachable = [uid for uid in people if (user := users.get(uid)) is not None and user.status == FRIEND]
        _charge(emu, len(reachable))
        emu.platform.fan_out(people, "multicast", call.request_id, call.retry_key, messages, reachable)
    return 200, {}


_USER_ID_LINES = re.compile(r"(?:U[0-9a-f]{32}\n)*")


def _all_user_ids(values: list[Any]) -> bool:
    """Every value is a user id: one regex over the joined list (500 separate matches cost ~0.3 ms). Every
    value being 33 characters long keeps each one aligned with one ``U…\n`` of the pattern."""
    return all(isinstance(value, str) and len(value) == 33 for value in values) \
        and _USER_ID_LINES.fullmatch("".join(value + "\n" for value in values)) is not None


def _to_all_friends(emu: Emulator, body: dict[str, Any], call: Call) -> int:
    messages = _messages(body)
    with emu.platform.lock:
        friends = [u.user_id for u in emu.platform.users.values() if u.status == FRIEND]
        _charge(emu, len(friends))
        emu.platform.fan_out(friends, call.endpoint, call.request_id, call.retry_key, messages, friends)
    return len(friends)


@line_api("/v2/bot/message/broadcast", "broadcast")
def broadcast(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    _to_all_friends(emu, body, call)
    return 200, {}


@line_api("/v2/bot/message/narrowcast", "narrowcast")
def narrowcast(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    """Filters are not simulated: every friend is a target, and the job succeeds at once."""
    accepted = now_ms()
    count = _to_all_friends(emu, body, call)
    with emu.platform.lock:
        emu.platform.narrowcasts[call.request_id] = {
            "phase": "succeeded", "successCount": count, "failureCount": 0, "targetCount": count,
            "acceptedTime": _iso(accepted), "completedTime": _iso(now_ms())}
    return 202, {}


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


@line_api("/v2/bot/message/progress/narrowcast", "narrowcast_progress", ("GET",))
def narrowcast_progress(emu: Emulator, body: Any, call: Call) -> Result:
    progress = emu.platform.narrowcasts.get(request.args.get("requestId", ""))
    if progress is None:
        raise NOT_FOUND
    return 200, progress


@line_api("/v2/bot/message/validate/<kind>", "validate")
def validate(emu: Emulator, body: dict[str, Any], call: Call, kind: str) -> Result:
    if kind not in ("reply", "push", "multicast", "narrowcast", "broadcast"):
        raise NOT_FOUND
    _messages(body or {})
    return 200, {}


@line_api("/v2/bot/message/quota", "quota", ("GET",))
def quota(emu: Emulator, body: Any, call: Call) -> Result:
    limit = emu.settings.monthly_quota
    return 200, {"type": "none"} if limit is None else {"type": "limited", "value": limit}


@line_api("/v2/bot/message/quota/consumption", "quota", ("GET",))
def quota_consumption(emu: Emulator, body: Any, call: Call) -> Result:
    return 200, {"totalUsage": emu.platform.quota_used}


# --- people and groups ----------------------------------------------------------------------------------

@line_api("/v2/bot/profile/<user_id>", "profile", ("GET",))
def profile(emu: Emulator, body: Any, call: Call, user_id: str) -> Result:
    user = emu.platform.users.get(user_id)
    if user is None or user.status == BLOCKED:
        raise NOT_FOUND
    return 200, user.profile()


def _chat(emu: Emulator, chat_id: str, kind: str) -> Group:
    group = emu.platform.groups.get(chat_id)
    if group is None or group.kind != kind or not group.bot_joined:
        raise NOT_FOUND
    return group


@line_api("/v2/bot/group/<group_id>/summary", "group", ("GET",))
def group_summary(emu: Emulator, body: Any, call: Call, group_id: str) -> Result:
    group = _chat(emu, group_id, "group")
    summary = {"groupId": group.group_id, "groupName": group.name}
    if group.picture_url:
        summary["pictureUrl"] = group.picture_url
    return 200, summary


def _member_count(emu: Emulator, chat_id: str, kind: str) -> Result:
    return 200, {"count": len(_chat(emu, chat_id, kind).member_ids)}


def _member_profile(emu: Emulator, chat_id: str, kind: str, user_id: str) -> Result:
    group = _chat(emu, chat_id, kind)
    user = emu.platform.users.get(user_id)
    if user is None or user_id not in group.member_ids:
        raise NOT_FOUND
    return 200, {k: v for k, v in user.profile().items() if k != "language"}


def _leave(emu: Emulator, chat_id: str, kind: str) -> Result:
    with emu.platform.lock:
        _chat(emu, chat_id, kind).bot_joined = False
    return 200, {}


@line_api("/v2/bot/group/<group_id>/members/count", "group", ("GET",))
def group_member_count(emu: Emulator, body: Any, call: Call, group_id: str) -> Result:
    return _member_count(emu, group_id, "group")


@line_api("/v2/bot/group/<group_id>/member/<user_id>", "group", ("GET",))
def group_member_profile(emu: Emulator, body: Any, call: Call, group_id: str, user_id: str) -> Result:
    return _member_profile(emu, group_id, "group", user_id)


@line_api("/v2/bot/group/<group_id>/leave", "group")
def leave_group(emu: Emulator, body: Any, call: Call, group_id: str) -> Result:
    return _leave(emu, group_id, "group")


@line_api("/v2/bot/room/<room_id>/members/count", "room", ("GET",))
def room_member_count(emu: Emulator, body: Any, call: Call, room_id: str) -> Result:
    return _member_count(emu, room_id, "room")


@line_api("/v2/bot/room/<room_id>/member/<user_id>", "room", ("GET",))
def room_member_profile(emu: Emulator, body: Any, call: Call, room_id: str, user_id: str) -> Result:
    return _member_profile(emu, room_id, "room", user_id)


@line_api("/v2/bot/room/<room_id>/leave", "room")
def leave_room(emu: Emulator, body: Any, call: Call, room_id: str) -> Result:
    return _leave(emu, room_id, "room")


@line_api("/v2/bot/chat/loading/start", "loading")
def loading_start(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    chat_id = str((body or {}).get("chatId"))
    if not USER_ID.match(chat_id):
        raise bad_request([detail("The property, 'chatId', in the request body is invalid", "chatId")])
    seconds = int(body.get("loadingSeconds", 20))
    with emu.platform.lock:
        emu.platform.loading.append({"chatId": chat_id, "loadingSeconds": seconds, "timestamp": now_ms()})
    return 202, {}


@line_api("/v2/bot/chat/markAsRead", "mark_as_read")
def mark_as_read(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    return 200, {}


@line_api("/v2/bot/info", "info", ("GET",))
def bot_info(emu: Emulator, body: Any, call: Call) -> Result:
    return 200, {"userId": emu.settings.bot_user_id, "basicId": "@siang", "displayName":
                 emu.settings.bot_display_name, "chatMode": "bot", "markAsReadMode": "auto"}


# --- content (api-data host) ----------------------------------------------------------------------------

def _content(emu: Emulator, message_id: str) -> Content:
    content = emu.platform.contents.get(message_id)
    if content is None:
        raise NOT_FOUND
    if content.unsent:
        raise LineApiError(410, "Gone", "gone")
    return content


@line_api("/v2/bot/message/<message_id>/content", "content", ("GET",))
def message_content(emu: Emulator, body: Any, call: Call, message_id: str) -> Result:
    with emu.platform.lock:
        content = _content(emu, message_id)
        if content.preparing_calls > 0:
            content.preparing_calls -= 1
            return 202, {}
    return Response(content.data, 200, content_type=content.content_type)


@line_api("/v2/bot/message/<message_id>/content/preview", "content", ("GET",))
def message_content_preview(emu: Emulator, body: Any, call: Call, message_id: str) -> Result:
    content = _content(emu, message_id)
    return Response(content.data, 200, content_type=content.content_type)


@line_api("/v2/bot/message/<message_id>/content/transcoding", "content", ("GET",))
def message_content_transcoding(emu: Emulator, body: Any, call: Call, message_id: str) -> Result:
    content = _content(emu, message_id)
    return 200, {"status": "processing" if content.preparing_calls > 0 else "succeeded"}


# --- rich menus -----------------------------------------------------------------------------------------

def _rich_menu_violations(menu: dict[str, Any]) -> list[dict[str, str]]:
    size, problems = menu.get("size") or {}, []
    width, height = size.get("width", 0), size.get("height", 0)
    if not (800 <= width <= 2500 and height >= 250 and width / max(height, 1) >= 1.45):
        problems.append(detail("size must be 800-2500 wide, at least 250 high, aspect ratio >= 1.45", "size"))
    if len(menu.get("areas") or []) > 20:
        problems.append(detail("Size must be between 0 and 20", "areas"))
    if len(str(menu.get("chatBarText", ""))) > 14:
        problems.append(detail("Length must be between 0 and 14", "chatBarText"))
    return problems


def _rich_menu(emu: Emulator, rich_menu_id: str) -> RichMenu:
    menu = emu.platform.rich_menus.get(rich_menu_id)
    if menu is None:
        raise NOT_FOUND
    return menu


@line_api("/v2/bot/richmenu", "richmenu_create")
def create_rich_menu(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    problems = _rich_menu_violations(body or {})
    if problems:
        raise bad_request(problems)
    menu_id = "richmenu-" + secrets.token_hex(16)
    with emu.platform.lock:
        emu.platform.rich_menus[menu_id] = RichMenu(menu_id, body)
    return 200, {"richMenuId": menu_id}


@line_api("/v2/bot/richmenu/validate", "richmenu")
def validate_rich_menu(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    problems = _rich_menu_violations(body or {})
    if problems:
        raise bad_request(problems)
    return 200, {}


@line_api("/v2/bot/richmenu/<rich_menu_id>/content", "richmenu")
def upload_rich_menu_image(emu: Emulator, body: Any, call: Call, rich_menu_id: str) -> Result:
    menu = _rich_menu(emu, rich_menu_id)
    if request.mimetype not in ("image/png", "image/jpeg"):
        raise LineApiError(415, "Unsupported Media Type", "unsupported_media_type")
    data = request.get_data()
    if len(data) > 1024 * 1024:
        raise LineApiError(400, "The image size must be 1 MB or less", "invalid_request")
    with emu.platform.lock:
        if menu.image is not None:
            raise LineApiError(400, "An image has already been uploaded to the richmenu", "invalid_request")
        menu.image, menu.image_type = data, request.mimetype
    return 200, {}


@line_api("/v2/bot/richmenu/<rich_menu_id>/content", "richmenu", ("GET",))
def download_rich_menu_image(emu: Emulator, body: Any, call: Call, rich_menu_id: str) -> Result:
    menu = _rich_menu(emu, rich_menu_id)
    if menu.image is None:
        raise NOT_FOUND
    return Response(menu.image, 200, content_type=menu.image_type)


def _rich_menu_json(menu: RichMenu) -> dict[str, Any]:
    return {"richMenuId": menu.rich_menu_id, **menu.body}


@line_api("/v2/bot/richmenu/<rich_menu_id>", "richmenu", ("GET",))
def get_rich_menu(emu: Emulator, body: Any, call: Call, rich_menu_id: str) -> Result:
    return 200, _rich_menu_json(_rich_menu(emu, rich_menu_id))


@line_api("/v2/bot/richmenu/<rich_menu_id>", "richmenu_delete", ("DELETE",))
def delete_rich_menu(emu: Emulator, body: Any, call: Call, rich_menu_id: str) -> Result:
    p = emu.platform
    with p.lock:
        _rich_menu(emu, rich_menu_id)
        del p.rich_menus[rich_menu_id]
        if p.default_rich_menu == rich_menu_id:
            p.default_rich_menu = None
        p.user_rich_menus = {u: m for u, m in p.user_rich_menus.items() if m != rich_menu_id}
    return 200, {}


@line_api("/v2/bot/richmenu/list", "richmenu_list", ("GET",))
def list_rich_menus(emu: Emulator, body: Any, call: Call) -> Result:
    return 200, {"richmenus": [_rich_menu_json(m) for m in list(emu.platform.rich_menus.values())]}


def _linkable(emu: Emulator, rich_menu_id: str) -> None:
    if _rich_menu(emu, rich_menu_id).image is None:
        raise LineApiError(400, "must upload richmenu image before applying it to user", "invalid_request")


@line_api("/v2/bot/user/all/richmenu/<rich_menu_id>", "richmenu")
def set_default_rich_menu(emu: Emulator, body: Any, call: Call, rich_menu_id: str) -> Result:
    _linkable(emu, rich_menu_id)
    emu.platform.default_rich_menu = rich_menu_id
    return 200, {}


@line_api("/v2/bot/user/all/richmenu", "richmenu", ("GET",))
def get_default_rich_menu(emu: Emulator, body: Any, call: Call) -> Result:
    if emu.platform.default_rich_menu is None:
        raise LineApiError(404, "no default richmenu", "not_found")
    return 200, {"richMenuId": emu.platform.default_rich_menu}


@line_api("/v2/bot/user/all/richmenu", "richmenu", ("DELETE",))
def cancel_default_rich_menu(emu: Emulator, body: Any, call: Call) -> Result:
    emu.platform.default_rich_menu = None
    return 200, {}


@line_api("/v2/bot/user/<user_id>/richmenu/<rich_menu_id>", "richmenu")
def link_rich_menu(emu: Emulator, body: Any, call: Call, user_id: str, rich_menu_id: str) -> Result:
    _linkable(emu, rich_menu_id)
    if user_id not in emu.platform.users:
        raise LineApiError(400, "The property, 'userId', is invalid", "invalid_request")
    with emu.platform.lock:
        emu.platform.user_rich_menus[user_id] = rich_menu_id
    return 200, {}


@line_api("/v2/bot/user/<user_id>/richmenu", "richmenu", ("GET",))
def get_user_rich_menu(emu: Emulator, body: Any, call: Call, user_id: str) -> Result:
    menu_id = emu.platform.user_rich_menus.get(user_id)
    if menu_id is None:
        raise LineApiError(404, "the user has no richmenu", "not_found")
    return 200, {"richMenuId": menu_id}


@line_api("/v2/bot/user/<user_id>/richmenu", "richmenu", ("DELETE",))
def unlink_rich_menu(emu: Emulator, body: Any, call: Call, user_id: str) -> Result:
    with emu.platform.lock:
        emu.platform.user_rich_menus.pop(user_id, None)
    return 200, {}


@line_api("/v2/bot/richmenu/bulk/link", "richmenu")
def bulk_link_rich_menu(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    _linkable(emu, str(body.get("richMenuId")))
    with emu.platform.lock:
        for uid in body.get("userIds") or []:
            emu.platform.user_rich_menus[uid] = body["richMenuId"]
    return 202, {}


@line_api("/v2/bot/richmenu/bulk/unlink", "richmenu")
def bulk_unlink_rich_menu(emu: Emulator, body: dict[str, Any], call: Call) -> Result:
    with emu.platform.lock:
        for uid in body.get("userIds") or []:
            emu.platform.user_rich_menus.pop(uid, None)
    return 202, {}
