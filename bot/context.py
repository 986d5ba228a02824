"""What a handler or a flow step gets: the event, a database session, the citizen, and ways to answer.

Answers are never sent directly: ``reply`` and ``push`` add outbox rows in the event's transaction, and the
rows are delivered after it commits (``Services.after_commit``, the one after-commit mechanism: nothing is
queued if the event rolls back). So an event is either fully handled (state + messages) or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from linebot.v3.webhooks import Event
from sqlalchemy.orm import Session

from bot import messages as catalogue
from bot.messages.batching import requests_for
from bot.services import Services
from storage import outbox
from storage.models import Citizen, InboxEvent, utcnow

# LINE honours a reply token for about a minute after the webhook; leave room for the request itself.
REPLY_WINDOW = timedelta(seconds=50)


@dataclass
class Context:
    services: Services
    session: Session
    row: InboxEvent
    event: Event
    citizen: Citizen | None = None
    muted: bool = False  # flood control: the event's content is kept, its answer is not sent
    profile: tuple[str | None, str | None] | None = None  # (name, language) LINE gave before the transaction
    _replies: list[dict] = field(default_factory=list)

    @property
    def chat_id(self) -> str | None:
        return self.row.chat_id

    @property
    def user_id(self) -> str | None:
        return self.row.user_id

    @property
    def lang(self) -> str:
        return catalogue.language_of(self.citizen.language if self.citizen else None)

    def text(self, key: str, **values) -> str:
        return catalogue.text(key, self.lang, **values)

    def reply(self, *messages: dict) -> None:
        """Answer this event; all replies of one event go out together, with its single-use token."""
        if not self.muted:
            self._replies.extend(messages)

    def push(self, to: str, *messages: dict) -> None:
        for request in requests_for(list(messages)):
            self._push_request(to, request)

    def _push_request(self, to: str, request: list[dict]) -> None:
        row = outbox.add_message(self.session, kind="push", recipient=to, messages=request,
                                 source_event_id=self.row.id)
        self.enqueue_after_commit("deliver_outbox", row.id)

    def enqueue_after_commit(self, job: str, row_id: int) -> None:
        """Queue ``job`` for ``row_id`` once the event's transaction commits (never if it rolls back)."""
        self.services.after_commit(self.session, job, row_id)

    def flush(self) -> None:
        """Write the buffered replies to the outbox, before the event's transaction commits."""
        token = getattr(self.event, "reply_token", None)
        if self._replies and self.chat_id:
            # Long texts are split and requests hold five messages: the first goes with the reply token.
            first, *rest = requests_for(self._replies)
            received = self.row.received_at or utcnow()
            row = outbox.add_message(
                self.session, kind="reply" if token else "push", recipient=self.chat_id, messages=first,
                reply_token=token, reply_deadline=received + REPLY_WINDOW if token else None,
                source_event_id=self.row.id,
            )
            self.enqueue_after_commit("deliver_outbox", row.id)
            for request in rest:
                self._push_request(self.chat_id, request)
        self._replies.clear()
