"""What a step function gets: :class:`Turn` (the event's context, the flow, its state) and ways to answer."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from bot import messages
from bot.context import Context
from bot.flows.table import QUESTION, Flow

if TYPE_CHECKING:
    from bot.flows.engine import FlowState

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """What a step function gets: the event's context, the flow and its state, and ways to answer."""

    ctx: Context
    flow: Flow
    state: FlowState

    @property
    def draft(self) -> Any:
        return self.state.draft

    @property
    def step(self) -> str:
        return self.state.step

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
        returning, self.state.returning_to = self.state.returning_to, None
        return returning or next_step

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
        """LINE's typing animation while a slower step works (1:1 chats only; a nicety, never an error).

        On SQLite the step already holds the database's one write lock (the citizen row was written), so the
        call goes out beside the step instead of inside it: a slow LINE must not stall every other chat."""
        arguments = (self.ctx.services.line, self.ctx.user_id, seconds)  # read here: ORM rows stay on this thread
        if self.ctx.session.get_bind().dialect.name == "sqlite":
            threading.Thread(target=_show_loading, args=arguments, daemon=True).start()
        else:
            _show_loading(*arguments)


def _show_loading(line, chat_id: str, seconds: int) -> None:
    try:
        from linebot.v3.messaging import ShowLoadingAnimationRequest

        line.api.show_loading_animation(ShowLoadingAnimationRequest(chatId=chat_id, loadingSeconds=seconds),
                                        _request_timeout=line.timeout)
    except Exception:
        log.info("loading animation not shown", exc_info=True)


def looks_like_question(text: str, max_length: int = 60) -> bool:
    """A short message ending like a question ("...ไหมคะ", "ทำยังไง?"): answer it rather than store it."""
    text = text.strip()
    return len(text) <= max_length and QUESTION.search(text) is not None
