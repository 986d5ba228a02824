"""The conversation engine: a flow is a table of named steps (python-telegram-bot's ConversationHandler).

Each :class:`Step` says what it accepts (text, image, location, postback...), how it asks, and a short
handler that validates the input and returns the name of the next step, :data:`DONE`, or a
:class:`Reprompt` (stay, and say in Thai what was wrong). Everything else lives here, once, for every flow:

* global words at every step: ``ยกเลิก`` cancels, ``ย้อนกลับ`` goes back one step, ``เมนู`` leaves for the menu
  (the draft is kept), ``ช่วยเหลือ`` explains the step;
* stickers, unexpected photos or places, stale buttons and questions get a helpful answer and the step's
  question again;
* idle expiry: a flow untouched for ``flow_idle_seconds`` (default 30 minutes) is paused politely; its draft
  is kept (for days) and the citizen may continue or start again.

State is one JSON document per user (``bot.flows.state``): ``{"active": {...} | None, "paused": {flow: {...}}}``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bot import messages
from bot.context import Context
from bot.flows.state import store_for

log = logging.getLogger(__name__)

TEXT, IMAGE, VIDEO, AUDIO, FILE = "text", "image", "video", "audio", "file"
LOCATION, POSTBACK, STICKER = "location", "postback", "sticker"
MEDIA = frozenset({IMAGE, VIDEO, AUDIO, FILE})

DONE = "__done__"
DRAFT_KEEP_SECONDS = 7 * 24 * 3600  # a paused draft waits this long for the citizen to come back

CANCEL_WORDS = frozenset({"ยกเลิก", "cancel", "ยกเลิกค่ะ", "ยกเลิกครับ"})
BACK_WORDS = frozenset({"ย้อนกลับ", "back", "กลับ"})
MENU_WORDS = frozenset({"เมนู", "menu", "เมนูหลัก"})
HELP_WORDS = frozenset({"ช่วยเหลือ", "help", "วิธีใช้", "?"})
QUESTION = re.compile(r"(\?|ไหม|มั้ย|หรือเปล่า|หรือไม่|ยังไง|อย่างไร|ทำไม|อะไร|เท่าไร|เท่าไหร่|ที่ไหน)\s*(คะ|ครับ|คับ|ค่ะ)?\s*$")


@dataclass
class Input:
    """One thing the citizen did, in the engine's words."""

    kind: str
    text: str = ""
    data: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    title: str | None = None
    address: str | None = None
    file_name: str | None = None
    size: int | None = None
    content_id: int | None = None  # the stored-content row of a photo, video or file

    @property
    def word(self) -> str:
        return " ".join(self.text.split()).lower()

    @property
    def value(self) -> str | None:
        """The ``v`` of a step's postback button."""
        return self.data.get("v")


class Reprompt:
    """A step's answer to input it cannot use: stay, and tell the citizen why (a catalogue key)."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key, self.values = key, values

    def __repr__(self) -> str:
        return f"Reprompt({self.key!r})"


StepResult = str | Reprompt


@dataclass(frozen=True)
class Step:
    name: str
    accepts: frozenset[str]
    ask: Callable[[Turn], list[dict]]
    handle: Callable[[Turn, Input], StepResult]


@dataclass(frozen=True)
class Flow:
    """A conversation: its steps in order, and ``begin`` choosing the first one for this citizen."""

    name: str
    title_key: str  # catalogue key naming the flow to the citizen ("the complaint you started")
    steps: tuple[Step, ...]
    begin: Callable[[Turn], str] | None = None

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if len(names) != len(set(names)):
            raise ValueError(f"flow {self.name}: step names repeat: {names}")

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"flow {self.name} has no step {name!r}")


@dataclass
class Turn:
    """What a step function gets: the event's context, the flow and its draft, and ways to answer."""

    ctx: Context
    flow: Flow
    state: dict[str, Any]

    @property
    def draft(self) -> dict[str, Any]:
        return self.state["draft"]

    @property
    def step(self) -> str:
        return self.state["step"]

    @property
    def lang(self) -> str:
        return self.ctx.lang

    def text(self, key: str, **values: Any) -> str:
        return self.ctx.text(key, **values)

    def say(self, key: str, quick: list[dict] | None = None, **values: Any) -> dict:
        return messages.text_message(self.text(key, **values), quick_reply=quick)

    def reply(self, *items: dict) -> None:
        self.ctx.reply(*items)

    def after(self, next_step: str) -> str:
        """The next step, unless the citizen came here from the summary to edit one field."""
        return self.draft.pop("_return", None) or next_step

    def button(self, label_key: str, value: str, display: bool = True, **values: Any) -> dict:
        """A quick-reply postback for this step; the engine refuses it once the step is over."""
        label = self.text(label_key, **values)
        data = urlencode({"f": self.flow.name, "s": self.step, "v": value})
        return messages.postback_action(label, data, label if display else None)

    def said(self, label_key: str, **values: Any) -> dict:
        """A quick reply that sends a word as if typed (``ข้าม``, ``ย้อนกลับ``...)."""
        label = self.text(label_key, **values)
        return messages.message_action(label, label)

    def nav(self) -> list[dict]:
        """The two buttons every step shows last."""
        return [self.said("flow_btn_back"), self.said("flow_btn_cancel")]

    def loading(self, seconds: int = 5) -> None:
        """LINE's typing animation while a slower step works (1:1 chats only; a nicety, never an error)."""
        try:
            from linebot.v3.messaging import ShowLoadingAnimationRequest

            line = self.ctx.services.line
            line.api.show_loading_animation(ShowLoadingAnimationRequest(chatId=self.ctx.user_id,
                                                                        loadingSeconds=seconds),
                                            _request_timeout=line.timeout)
        except Exception:
            log.info("loading animation not shown", exc_info=True)


def looks_like_question(text: str, max_length: int = 60) -> bool:
    """A short message ending like a question ("...ไหมคะ", "ทำยังไง?"): answer it rather than store it."""
    text = text.strip()
    return len(text) <= max_length and QUESTION.search(text) is not None


# --- the registry ------------------------------------------------------------------------------------

FLOWS: dict[str, Flow] = {}


def register(flow: Flow) -> Flow:
    FLOWS[flow.name] = flow
    return flow


# --- state ----------------------------------------------------------------------------------------------

def idle_seconds(ctx: Context) -> int:
    return ctx.services.settings.flow_idle_seconds


def _load(ctx: Context) -> dict[str, Any]:
    document = store_for(ctx.services).load(ctx.session, ctx.user_id) or {}
    document.setdefault("active", None)
    document.setdefault("paused", {})
    return document


def _save(ctx: Context, document: dict[str, Any]) -> None:
    store = store_for(ctx.services)
    if document.get("active") is None and not document.get("paused"):
        store.delete(ctx.session, ctx.user_id)
    else:
        store.save(ctx.session, ctx.user_id, document, DRAFT_KEEP_SECONDS)


# --- entry points -------------------------------------------------------------------------------------

def start(ctx: Context, name: str, draft: dict[str, Any] | None = None, resume_offer: bool = True) -> None:
    """Begin flow ``name``; if an unfinished draft of it waits, offer to continue it first."""
    document = _load(ctx)
    flow = FLOWS[name]
    waiting = document["paused"].get(name)
    if document["active"] and document["active"]["flow"] == name:
        waiting = document["active"]
    if waiting and resume_offer and not draft:
        document["active"] = None
        document["paused"][name] = waiting
        _save(ctx, document)
        _offer_resume(ctx, flow)
        return
    if document["active"]:  # leaving another flow for this one keeps that draft for later
        document["paused"][document["active"]["flow"]] = document["active"]
    document["paused"].pop(name, None)
    state = {"flow": name, "step": "", "draft": dict(draft or {}), "history": [], "updated": time.time(),
             "events": [ctx.row.id]}
    document["active"] = state
    turn = Turn(ctx, flow, state)
    first = flow.begin(turn) if flow.begin else flow.steps[0].name
    _enter(turn, first, document)


def update_active_draft(ctx: Context, name: str, **fields: Any) -> bool:
    """Set ``fields`` in the draft of flow ``name`` if it is the citizen's active flow; whether it was."""
    document = _load(ctx)
    active = document["active"]
    if not active or active["flow"] != name:
        return False
    active["draft"].update(fields)
    _save(ctx, document)
    return True


def handle(ctx: Context, item: Input) -> bool:
    """Give the input to the citizen's flow; False when no flow is active (or a paused one was left)."""
    document = _load(ctx)
    if item.kind == POSTBACK and item.data.get("flow"):
        return _flow_postback(ctx, document, item)
    active = document["active"]
    if active is None:
        return False
    flow = FLOWS.get(active["flow"])
    if flow is None:  # a flow removed since: forget it quietly
        document["active"] = None
        _save(ctx, document)
        return False
    word = item.word if item.kind == TEXT else ""
    if word in CANCEL_WORDS:
        document["active"] = None
        _save(ctx, document)
        ctx.reply(messages.text_message(ctx.text("flow_cancelled", flow=ctx.text(flow.title_key)),
                                        quick_reply=messages.main_menu(ctx.lang)))
        return True
    if word in MENU_WORDS:
        document["paused"][flow.name] = active
        document["active"] = None
        _save(ctx, document)
        ctx.reply(messages.text_message(ctx.text("flow_to_menu", flow=ctx.text(flow.title_key)),
                                        quick_reply=messages.main_menu(ctx.lang)))
        return True
    if time.time() - active.get("updated", 0) > idle_seconds(ctx):
        document["paused"][flow.name] = active
        document["active"] = None
        _save(ctx, document)
        _offer_resume(ctx, flow, expired=True)
        return True
    turn = Turn(ctx, flow, active)
    if ctx.row.id not in active["events"]:
        active["events"].append(ctx.row.id)
    if word in BACK_WORDS:
        if active["history"]:
            previous = active["history"].pop()
            _ask(turn, previous, document, prefix=[turn.say("flow_went_back")], remember=False)
        else:
            _ask(turn, active["step"], document, prefix=[turn.say("flow_first_step")], remember=False)
        return True
    if word in HELP_WORDS:
        general = turn.say("flow_help")
        specific = _help(turn)
        _ask(turn, active["step"], document, prefix=[specific, general] if specific != general else [general],
             remember=False)
        return True
    step = flow.step(active["step"])
    if item.kind == POSTBACK and (item.data.get("f") != flow.name or item.data.get("s") != step.name):
        _ask(turn, step.name, document, prefix=[turn.say("flow_stale_button")], remember=False)
        return True
    if item.kind not in step.accepts:
        _ask(turn, step.name, document, prefix=[turn.say(_unexpected_key(item.kind))], remember=False)
        return True
    result = step.handle(turn, item)
    if isinstance(result, Reprompt):
        prefix = _help(turn) if item.kind == TEXT and QUESTION.search(item.text.strip()) \
            else turn.say(result.key, **result.values)
        _ask(turn, step.name, document, prefix=[prefix], remember=False)
    elif result == DONE:
        document["active"] = None
        if active.get("forget_all"):
            document["paused"] = {}
        _save(ctx, document)
    else:
        _enter(turn, result, document)
    return True


# --- internals ------------------------------------------------------------------------------------------

def _enter(turn: Turn, step_name: str, document: dict[str, Any]) -> None:
    if step_name == DONE:
        document["active"] = None
        _save(turn.ctx, document)
        return
    _ask(turn, step_name, document, remember=step_name != turn.state["step"])


def _ask(turn: Turn, step_name: str, document: dict[str, Any], prefix: list[dict] | None = None,
         remember: bool = True) -> None:
    state = turn.state
    if remember and state["step"] and state["step"] != step_name:
        state["history"].append(state["step"])
    state["step"] = step_name
    state["updated"] = time.time()
    document["active"] = state
    _save(turn.ctx, document)
    turn.reply(*(prefix or []), *turn.flow.step(step_name).ask(turn))


def _help(turn: Turn) -> dict:
    key = f"{turn.flow.name}_{turn.step}_help"
    if key not in messages.catalogue():
        key = "flow_help"
    return turn.say(key)


def _unexpected_key(kind: str) -> str:
    return {STICKER: "flow_sticker", IMAGE: "flow_unexpected_image", LOCATION: "flow_unexpected_location",
            POSTBACK: "flow_stale_button"}.get(kind, "flow_unexpected_media" if kind in MEDIA
                                                else "flow_unexpected_text")


def _offer_resume(ctx: Context, flow: Flow, expired: bool = False) -> None:
    title = ctx.text(flow.title_key)
    quick = [
        messages.postback_action(ctx.text("flow_btn_resume"), urlencode({"flow": "resume", "name": flow.name}),
                                 ctx.text("flow_btn_resume")),
        messages.postback_action(ctx.text("flow_btn_restart"), urlencode({"flow": "restart", "name": flow.name}),
                                 ctx.text("flow_btn_restart")),
        messages.postback_action(ctx.text("flow_btn_discard"), urlencode({"flow": "discard", "name": flow.name}),
                                 ctx.text("flow_btn_discard")),
    ]
    key = "flow_expired" if expired else "flow_resume_offer"
    ctx.reply(messages.text_message(ctx.text(key, flow=title), quick_reply=quick))


def _flow_postback(ctx: Context, document: dict[str, Any], item: Input) -> bool:
    action, name = item.data.get("flow"), item.data.get("name", "")
    flow = FLOWS.get(name)
    waiting = document["paused"].get(name) or (document["active"] if document["active"]
                                               and document["active"]["flow"] == name else None)
    if flow is None:
        return False
    if action == "restart":
        document["paused"].pop(name, None)
        if document["active"] and document["active"]["flow"] == name:
            document["active"] = None
        _save(ctx, document)
        start(ctx, name, resume_offer=False)
        return True
    if action == "discard":
        document["paused"].pop(name, None)
        if document["active"] and document["active"]["flow"] == name:
            document["active"] = None
        _save(ctx, document)
        ctx.reply(messages.text_message(ctx.text("flow_cancelled", flow=ctx.text(flow.title_key)),
                                        quick_reply=messages.main_menu(ctx.lang)))
        return True
    if action == "resume":
        if waiting is None:
            ctx.reply(messages.text_message(ctx.text("flow_nothing_to_resume"),
                                            quick_reply=messages.main_menu(ctx.lang)))
            return True
        if document["active"] and document["active"]["flow"] != name:
            document["paused"][document["active"]["flow"]] = document["active"]
        document["paused"].pop(name, None)
        waiting.setdefault("events", []).append(ctx.row.id)
        turn = Turn(ctx, flow, waiting)
        _ask(turn, waiting["step"], document, prefix=[turn.say("flow_resumed", flow=ctx.text(flow.title_key))],
             remember=False)
        return True
    return False
