"""Changing a case's status: the one function the console, the LINE-group buttons and the API call.

A status change, its history entry and the citizen's notification (an outbox row) are written in the
caller's transaction, so they commit together or not at all: a transactional outbox. The row is delivered
after the commit (queued at once when the session commits inside the app, else found by the sweeper).
Citizens who unfollowed the OA or whose record was deleted get no message.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import messages as catalogue
from bot.jobs import deliver_after_commit
from bot.casework.filing import agency_name
from bot.casework.states import STATES, can_move
from bot.messages.status_cards import rating_question, status_card, timeline_url
from storage import outbox
from storage.models import Case, CaseAttachment, CaseMessage, Citizen, StatusChange, utcnow

log = logging.getLogger(__name__)
REOPENABLE = ("resolved", "closed")  # states in which a citizen's "not solved" reopens the case


class TransitionError(ValueError):
    """The requested status change is not allowed from the case's current status."""


def change_status(session: Session, case: Case, to_status: str, actor: str, note: str | None = None,
                  reason: str | None = None, now: datetime | None = None) -> StatusChange:
    """Move ``case`` to ``to_status`` (a state id) on behalf of ``actor`` and notify its citizen.

    ``reason`` is required for ``rejected`` and shown to the citizen; it is stored in the history's note.
    Raises :class:`TransitionError` for a move ``TRANSITIONS`` does not allow.
    """
    if to_status not in STATES:
        raise TransitionError(f"unknown status {to_status!r}")
    if to_status == "rejected" and not (reason or "").strip():
        raise TransitionError("a rejection needs a reason for the citizen")
    # Lock the case row (PostgreSQL) so two concurrent changes are serialised and validated in turn.
    session.flush()  # a refresh would discard the caller's unflushed changes to the case
    session.refresh(case, with_for_update=True)
    from_status = case.status
    if not can_move(from_status, to_status):
        raise TransitionError(f"case {case.ticket}: {from_status} -> {to_status} is not allowed")
    now = now or utcnow()
    case.status = to_status
    case.updated_at = now
    if to_status == "resolved":
        case.resolved_at = now
        case.citizen_says_solved = None  # a new resolution: the citizen is asked again
    elif to_status in ("closed", "rejected"):
        case.closed_at = now
    elif to_status == "reopened":
        case.resolved_at = None
        case.closed_at = None
    stored_note = "\n\n".join(part for part in (reason, note) if part) or None
    change = StatusChange(case_id=case.id, from_status=from_status, to_status=to_status, actor=actor,
                          note=stored_note, created_at=now)
    session.add(change)
    _notify(session, case, to_status, note, reason)
    session.flush()
    return change


def reopen(session: Session, case: Case, actor: str, note: str | None = None) -> StatusChange:
    return change_status(session, case, "reopened", actor, note=note)


def rate(session: Session, case: Case, stars: int | None, solved: bool | None, actor: str) -> StatusChange | None:
    """Record the citizen's rating (1-5) and/or answer to "really solved?"; "not solved" reopens the case.

    Returns the reopening's history entry, or None. Raises ValueError for stars outside 1-5 and for
    feedback on a case that is not resolved or closed."""
    if case.status not in REOPENABLE:
        raise ValueError(f"case {case.ticket} is {case.status}: feedback is only taken on a resolved case")
    if stars is not None:
        if not 1 <= stars <= 5:
            raise ValueError(f"a rating is 1 to 5 stars, got {stars}")
        case.rating = stars
    if solved is not None:
        case.citizen_says_solved = solved
    case.updated_at = utcnow()
    if solved is False:
        return reopen(session, case, actor, note="citizen: the problem is not solved")
    session.flush()
    return None


def attach_citizen_message(session: Session, citizen_id: int, *, text: str | None = None,
                           content_id: int | None = None, source_event_id: int | None = None) -> Case | None:
    """File a citizen's message under their case that is waiting for information from them.

    Returns that case (the caller then acknowledges), or None when no case of theirs is waiting, in which
    case the message is for the conversation flows as usual."""
    case = session.scalar(select(Case).where(Case.citizen_id == citizen_id, Case.status == "waiting_citizen")
                          .order_by(Case.updated_at.desc(), Case.id.desc()).limit(1))
    if case is None or (text is None and content_id is None):
        return None
    session.add(CaseMessage(case_id=case.id, text=text, content_id=content_id, source_event_id=source_event_id))
    if content_id is not None:
        session.add(CaseAttachment(case_id=case.id, content_id=content_id))
    case.updated_at = utcnow()
    session.flush()
    return case


def _notify(session: Session, case: Case, to_status: str, note: str | None, reason: str | None) -> None:
    citizen = session.get(Citizen, case.citizen_id) if case.citizen_id is not None else None
    if citizen is None or not citizen.active:
        return  # deleted on request (the case keeps no citizen) or unfollowed: nothing is sent
    lang = catalogue.language_of(citizen.language)
    agency = agency_name(session, case.agency_id, lang) or catalogue.text("status_agency_unknown", lang)
    messages = [status_card(ticket=case.ticket, status=to_status, lang=lang, agency_name=agency, note=note,
                            reason=reason, timeline_url=timeline_url(_timeline_base(), case.ticket))]
    if to_status == "resolved":
        messages.append(rating_question(case.id, case.ticket, lang))
    row = outbox.add_message(session, kind="push", recipient=citizen.line_user_id, messages=messages,
                             case_id=case.id)
    deliver_after_commit(session, row.id)


def _timeline_base() -> str:
    if not has_app_context():
        return ""
    return current_app.extensions["siang"].settings.timeline_base_url
