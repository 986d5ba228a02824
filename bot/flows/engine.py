"""The conversation engine: a flow is a table of named steps (python-telegram-bot's ConversationHandler idea).

Each flow module declares its table at the top, one :func:`step` a line::

    step("where", ask_where, on={LOCATION: on_where_location, TEXT: on_where_text}, goes=("district", SUMMARY))

* ``on`` maps an input kind (text, image, video, location, postback...) to the handler that takes it;
* ``goes`` names every step the handlers may return next (:data:`DONE` ends the flow; staying is always
  allowed); a handler may also return a :class:`Reprompt` (stay, and say in Thai what was wrong);
* the flow's ``fallbacks`` take the kinds a step does not list (the complaint keeps a photo or a location
  sent at any step); kinds nobody takes get the engine's polite "not here" answer and the question again.

:class:`Flow` checks its table when it is built, at import: a step named twice, a ``goes`` or ``starts``
naming no step, an unknown input kind all raise :class:`FlowTableError` then, not a ``KeyError`` in a
citizen's conversation. A handler that returns a step its row does not declare raises the same error (a bug
the flow's tests catch at once).

Words that work at every step (ยกเลิก, เมนู, and the other global intents) are decided before the flow sees
the message, by the table in ``bot.flows.intents``; the engine itself keeps ``ย้อนกลับ`` (back one step) and
``ช่วยเหลือ`` (explain the step), and idle expiry: a flow untouched for ``flow_idle_seconds`` (default 30
minutes) is paused politely; its draft is kept (for days) and the citizen may continue or start again.

The table's vocabulary is ``bot.flows.table``, the step functions' helper ``bot.flows.turn``; this module
runs the tables. State is one JSON document per user (``bot.flows.state``): ``{"active": {...} | None,
"paused": {flow: {...}}}``; in code a :class:`Conversation` of :class:`FlowState` dataclasses, each flow's
draft its own dataclass (``Flow.draft``).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from bot import messages
from bot.context import Context
from bot.flows.table import (  # noqa: F401 - the names flows and the router use, in one import
    AUDIO, DONE, FILE, IMAGE, KINDS, LOCATION, MEDIA, POSTBACK, QUESTION, QUIET, STICKER, TEXT, VIDEO, Flow,
    FlowTableError, Input, NoDraft, Quiet, Reprompt, Step, StepResult, step,
)
from bot.flows.turn import Turn, looks_like_question  # noqa: F401

log = logging.getLogger(__name__)
DRAFT_KEEP_SECONDS = 7 * 24 * 3600  # a paused draft waits this long for the citizen to come back


# --- state ---------------------------------------------------------------------------------------------------

def _draft_from(flow: Flow | None, values: dict[str, Any] | None) -> Any:
    cls = flow.draft if flow else NoDraft
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in (values or {}).items() if k in names})


@dataclass
class FlowState:
    """One flow of one citizen: where it stands, its draft, the steps behind it, the events it used."""

    flow: str
    step: str = ""
    draft: Any = field(default_factory=NoDraft)
    history: list[str] = field(default_factory=list)
    updated: float = field(default_factory=time.time)
    events: list[int] = field(default_factory=list)
    returning_to: str | None = None  # the step to go back to after editing one field (the summary)
    forget_all: bool = False  # the flow erased the citizen's data: drop every draft with it

    def to_json(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["draft"] = dataclasses.asdict(self.draft)
        return values

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> FlowState:
        flow = FLOWS.get(values.get("flow", ""))
        names = {f.name for f in dataclasses.fields(cls)} - {"draft"}
        state = cls(**{k: v for k, v in values.items() if k in names})
        state.draft = _draft_from(flow, values.get("draft"))
        return state


@dataclass
class Conversation:
    """Everything the bot remembers of one citizen's conversations: the active flow and the paused ones."""

    active: FlowState | None = None
    paused: dict[str, FlowState] = field(default_factory=dict)

    def waiting(self, name: str) -> FlowState | None:
        if self.active is not None and self.active.flow == name:
            return self.active
        return self.paused.get(name)

    def pause_active(self) -> None:
        if self.active is not None:
            self.paused[self.active.flow] = self.active
            self.active = None


def load(ctx: Context) -> Conversation:
    document = ctx.services.flows.load(ctx.session, ctx.user_id) or {}
    active = document.get("active")
    return Conversation(FlowState.from_json(active) if active else None,
                        {name: FlowState.from_json(s) for name, s in (document.get("paused") or {}).items()
                         if name in FLOWS})


def save(ctx: Context, conversation: Conversation) -> None:
    store = ctx.services.flows
    if conversation.active is None and not conversation.paused:
        store.delete(ctx.session, ctx.user_id)
        return
    document = {"active": conversation.active.to_json() if conversation.active else None,
                "paused": {name: s.to_json() for name, s in conversation.paused.items()}}
    store.save(ctx.session, ctx.user_id, document, DRAFT_KEEP_SECONDS)


def active_flow(ctx: Context) -> str | None:
    """The name of the citizen's active flow, or None."""
    active = load(ctx).active
    return active.flow if active else None


# --- the registry ------------------------------------------------------------------------------------------------

FLOWS: dict[str, Flow] = {}


def register(flow: Flow) -> Flow:
    FLOWS[flow.name] = flow
    return flow


def idle_seconds(ctx: Context) -> int:
    return ctx.services.settings.flow_idle_seconds


# --- entry points ------------------------------------------------------------------------------------------------

def start(ctx: Context, name: str, draft: dict[str, Any] | None = None, resume_offer: bool = True) -> None:
    """Begin flow ``name``; if an unfinished draft of it waits, offer to continue it first."""
    conversation = load(ctx)
    flow = FLOWS[name]
    waiting = conversation.waiting(name)
    if waiting and resume_offer and not draft:
        if conversation.active is waiting:
            conversation.active = None
        conversation.paused[name] = waiting
        save(ctx, conversation)
        _offer_resume(ctx, flow)
        return
    conversation.pause_active()  # leaving another flow for this one keeps that draft for later
    conversation.paused.pop(name, None)
    state = FlowState(name, draft=_draft_from(flow, draft), events=[ctx.row.id])
    conversation.active = state
    turn = Turn(ctx, flow, state)
    _enter(turn, flow.first(turn), conversation)


def cancel(ctx: Context) -> bool:
    """``ยกเลิก``: drop the active flow's draft, or else the draft paused last (``เมนู`` then ``ยกเลิก`` means
    "forget that complaint"); False when there was neither."""
    conversation = load(ctx)
    if conversation.active is not None:
        flow = FLOWS[conversation.active.flow]
        conversation.active = None
    elif conversation.paused:
        flow = FLOWS[conversation.paused.pop(list(conversation.paused)[-1]).flow]
    else:
        return False
    save(ctx, conversation)
    ctx.reply(messages.text_message(ctx.text("flow_cancelled", flow=ctx.text(flow.title_key)),
                                    quick_reply=messages.main_menu(ctx.lang)))
    return True


def to_menu(ctx: Context) -> bool:
    """``เมนู``: pause the active flow (its draft is kept); False when no flow was active."""
    conversation = load(ctx)
    if conversation.active is None:
        return False
    flow = FLOWS[conversation.active.flow]
    conversation.pause_active()
    save(ctx, conversation)
    ctx.reply(messages.text_message(ctx.text("flow_to_menu", flow=ctx.text(flow.title_key)),
                                    quick_reply=messages.main_menu(ctx.lang)))
    return True


def update_active_draft(ctx: Context, name: str, **fields: Any) -> bool:
    """Set ``fields`` in the draft of flow ``name`` if it is the citizen's active flow; whether it was."""
    conversation = load(ctx)
    if conversation.active is None or conversation.active.flow != name:
        return False
    for key, value in fields.items():
        setattr(conversation.active.draft, key, value)
    save(ctx, conversation)
    return True


def handle(ctx: Context, item: Input, claim_only: bool = False) -> bool:
    """Give the input to the citizen's active flow; False when no flow took it.

    With ``claim_only`` a text the step cannot use (its handler answers :class:`Reprompt`) is not answered
    and False is returned, so that the router may give it to a global intent (a new complaint typed while
    the news settings are open); nothing is saved then.
    """
    conversation = load(ctx)
    if item.kind == POSTBACK and item.data.get("flow"):
        return _flow_postback(ctx, conversation, item)
    active = conversation.active
    if active is None:
        return False
    flow = FLOWS[active.flow]
    if time.time() - active.updated > idle_seconds(ctx):
        if claim_only:
            return False
        conversation.pause_active()
        save(ctx, conversation)
        _offer_resume(ctx, flow, expired=True)
        return True
    turn = Turn(ctx, flow, active)
    word = item.word if item.kind == TEXT else ""
    if word in messages.words("words_back"):
        if active.history:
            _ask(turn, active.history.pop(), conversation, prefix=[turn.say("flow_went_back")], remember=False)
        else:
            _ask(turn, active.step, conversation, prefix=[turn.say("flow_first_step")], remember=False)
        return True
    if word in messages.words("words_help"):
        general = turn.say("flow_help")
        specific = _help(turn)
        _ask(turn, active.step, conversation, prefix=[specific, general] if specific != general else [general],
             remember=False)
        return True
    row = flow.step(active.step)
    if item.kind == POSTBACK and (item.data.get("f") != flow.name or item.data.get("s") != row.name):
        _ask(turn, row.name, conversation, prefix=[turn.say("flow_stale_button")], remember=False)
        return True
    handler, goes = flow.handler_for(row, item.kind)
    if handler is None:
        _ask(turn, row.name, conversation, prefix=[turn.say(_unexpected_key(item.kind))], remember=False)
        return True
    if ctx.row.id not in active.events:
        active.events.append(ctx.row.id)
    result = handler(turn, item)
    if isinstance(result, Reprompt):
        if claim_only and item.kind == TEXT:
            return False
        prefix = _help(turn) if item.kind == TEXT and QUESTION.search(item.text.strip()) \
            else turn.say(result.key, **result.values)
        _ask(turn, row.name, conversation, prefix=[prefix], remember=False)
    elif isinstance(result, Quiet):
        active.updated = time.time()
        save(ctx, conversation)
    elif result == DONE:
        conversation.active = None
        if active.forget_all:
            conversation.paused = {}
        save(ctx, conversation)
    else:
        if result != row.name and result not in goes:
            raise FlowTableError(f"flow {flow.name}: step {row.name} went to {result!r}, not among {goes}")
        _enter(turn, result, conversation)
    return True


# --- internals ---------------------------------------------------------------------------------------------------

def _enter(turn: Turn, step_name: str, conversation: Conversation) -> None:
    if step_name == DONE:
        conversation.active = None
        save(turn.ctx, conversation)
        return
    _ask(turn, step_name, conversation, remember=step_name != turn.state.step)


def _ask(turn: Turn, step_name: str, conversation: Conversation, prefix: list[dict] | None = None,
         remember: bool = True) -> None:
    state = turn.state
    if remember and state.step and state.step != step_name:
        state.history.append(state.step)
    state.step = step_name
    state.updated = time.time()
    conversation.active = state
    asked = turn.flow.step(step_name).ask(turn)  # may note in the draft what it offered: saved below
    save(turn.ctx, conversation)
    turn.reply(*(prefix or []), *asked)


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


def _flow_postback(ctx: Context, conversation: Conversation, item: Input) -> bool:
    action, name = item.data.get("flow"), item.data.get("name", "")
    flow = FLOWS.get(name)
    if flow is None:
        return False
    waiting = conversation.waiting(name)
    if action in ("restart", "discard"):
        conversation.paused.pop(name, None)
        if conversation.active is not None and conversation.active.flow == name:
            conversation.active = None
        save(ctx, conversation)
        if action == "restart":
            start(ctx, name, resume_offer=False)
        else:
            ctx.reply(messages.text_message(ctx.text("flow_cancelled", flow=ctx.text(flow.title_key)),
                                            quick_reply=messages.main_menu(ctx.lang)))
        return True
    if action == "resume":
        if waiting is None:
            ctx.reply(messages.text_message(ctx.text("flow_nothing_to_resume"),
                                            quick_reply=messages.main_menu(ctx.lang)))
            return True
        if conversation.active is not None and conversation.active.flow != name:
            conversation.pause_active()
        conversation.paused.pop(name, None)
        waiting.events.append(ctx.row.id)
        turn = Turn(ctx, flow, waiting)
        _ask(turn, waiting.step, conversation, prefix=[turn.say("flow_resumed", flow=ctx.text(flow.title_key))],
             remember=False)
        return True
    return False
