"""The vocabulary of flow tables: input kinds, :class:`Input`, step results and :class:`Step` / :class:`Flow`.

A flow module declares its table with :func:`step` rows and one :class:`Flow`; the checks that make a bad
table fail at import (:class:`FlowTableError`) are here, in ``Flow.__post_init__``. How a table runs is
``bot.flows.engine``'s; what a step function gets is ``bot.flows.turn.Turn``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.flows.turn import Turn

TEXT, IMAGE, VIDEO, AUDIO, FILE = "text", "image", "video", "audio", "file"
LOCATION, POSTBACK, STICKER = "location", "postback", "sticker"
MEDIA = frozenset({IMAGE, VIDEO, AUDIO, FILE})
KINDS = frozenset({TEXT, IMAGE, VIDEO, AUDIO, FILE, LOCATION, POSTBACK, STICKER})

DONE = "__done__"
QUESTION = re.compile(r"(\?|ไหม|มั้ย|หรือเปล่า|หรือไม่|ยังไง|อย่างไร|ทำไม|อะไร|เท่าไร|เท่าไหร่|ที่ไหน)\s*(คะ|ครับ|คับ|ค่ะ)?\s*$")


class FlowTableError(ValueError):
    """A flow's table names a step, a kind or a transition that does not exist."""


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
    image_set: tuple[str, int, int] | None = None  # LINE's image set: (id, index, total)

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


class Quiet:
    """A step's answer that needs no reply yet (a photo in the middle of an image set): stay silently."""

    def __repr__(self) -> str:
        return "Quiet()"


QUIET = Quiet()
StepResult = str | Reprompt | Quiet
Handler = Callable[["Turn", Input], StepResult]


@dataclass(frozen=True)
class Step:
    """One row of a flow's table: its name, how it asks, what it accepts, where it may go."""

    name: str
    ask: Callable[[Turn], list[dict]]
    on: Mapping[str, Handler]
    goes: tuple[str, ...] = ()

    @property
    def accepts(self) -> frozenset[str]:
        return frozenset(self.on)


def step(name: str, ask: Callable[[Turn], list[dict]], on: Mapping[str, Handler],
         goes: tuple[str, ...] = ()) -> Step:
    return Step(name, ask, dict(on), tuple(goes))


@dataclass
class NoDraft:
    """The draft of a flow that keeps nothing between steps."""


@dataclass(frozen=True)
class Flow:
    """A conversation: its table of steps, the steps ``begin`` may choose first, its fallbacks and draft type."""

    name: str
    title_key: str  # catalogue key naming the flow to the citizen ("the complaint you started")
    steps: tuple[Step, ...]
    begin: Callable[[Turn], str] | None = None
    starts: tuple[str, ...] = ()  # every step ``begin`` may return (the first step when there is no begin)
    fallbacks: Mapping[str, Handler] = field(default_factory=dict)
    fallbacks_go: tuple[str, ...] = ()
    draft: type = NoDraft

    def __post_init__(self) -> None:
        names = [s.name for s in self.steps]
        if not names or len(names) != len(set(names)):
            raise FlowTableError(f"flow {self.name}: step names missing or repeated: {names}")
        known = {*names, DONE}
        for row in self.steps:
            for kind, handler in row.on.items():
                if kind not in KINDS or not callable(handler):
                    raise FlowTableError(f"flow {self.name}, step {row.name}: unknown kind {kind!r} or handler")
            for target in row.goes:
                if target not in known:
                    raise FlowTableError(f"flow {self.name}, step {row.name} goes to undeclared step {target!r}")
        for target in (*self.starts, *self.fallbacks_go):
            if target not in known:
                raise FlowTableError(f"flow {self.name}: starts or fallbacks go to undeclared step {target!r}")
        for kind in self.fallbacks:
            if kind not in KINDS:
                raise FlowTableError(f"flow {self.name}: unknown fallback kind {kind!r}")
        if not dataclasses.is_dataclass(self.draft):
            raise FlowTableError(f"flow {self.name}: the draft must be a dataclass")

    def step(self, name: str) -> Step:
        for row in self.steps:
            if row.name == name:
                return row
        raise FlowTableError(f"flow {self.name} has no step {name!r}")

    def has(self, name: str) -> bool:
        return any(row.name == name for row in self.steps)

    def first(self, turn: Turn) -> str:
        chosen = self.begin(turn) if self.begin else self.steps[0].name
        if self.begin and chosen not in self.starts:
            raise FlowTableError(f"flow {self.name}: begin chose {chosen!r}, not among starts {self.starts}")
        return chosen

    def handler_for(self, row: Step, kind: str) -> tuple[Handler | None, tuple[str, ...]]:
        if kind in row.on:
            return row.on[kind], row.goes
        if kind in self.fallbacks:
            return self.fallbacks[kind], (*row.goes, *self.fallbacks_go)
        return None, ()
