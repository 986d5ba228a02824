"""Changing a case's status: the one function the console, the LINE-group buttons and the API call.

A status change, its history entry and the citizen's notification (an outbox row) are written in the
caller's transaction, so they commit together or not at all: a transactional outbox. The row is queued once
the session commits (``Services.after_commit``; the sweeper finds it if the queue is down). The settings
(the timeline link) and the queue come from the ``Services`` that made the session, so a change made in a
request, a worker, a thread or a script behaves the same: no Flask app context is needed.
Everyone following the case hears of it: the filer and every citizen who joined it ("me too"), each by their
own outbox row (own retry key), in their own language. Citizens who unfollowed the OA or whose record was
deleted get no message.

A note is shown to citizens as written: ``note`` in Thai (the default; staff type Thai), ``note_en`` when the
note has an English text (notes the system writes come from the catalogue in both languages).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import messages as catalogue
from bot.jobs import deliver_after_commit
from bot.casework import proof
from bot.casework.states import STATES, can_move
from bot.messages.status_cards import citizen_text, rating_question, status_card, timeline_url
from bot.services import services_of
from storage import cases as case_store
from storage import outbox
from storage.models import Case, CaseAttachment, CaseMessage, Citizen, StatusChange, utcnow
from storage.staff import agency_name

log = logging.getLogger(__name__)
REOPENABLE = ("resolved", "closed")  # states in which a citizen's "not solved" reopens the case


class TransitionError(ValueError):
    """The requested status change is not allowed from the case's current status."""


def change_status(session: Session, case: Case, to_status: str, actor: str, note: str | None = None,
                  reason: str | None = None, now: datetime | None = None,
                  note_en: str | None = None) -> StatusChange:
    """Move ``case`` to ``to_status`` (a state id) on behalf of ``actor`` and notify everyone following it.

    ``reason`` is required for ``rejected`` and shown to the citizen; it is stored in the history's note.
    ``note_en`` is the English text of ``note``, when it has one.
    Raises :class:`TransitionError` for a move ``TRANSITIONS`` does not allow.
    """
    if to_status not in STATES:
        raise TransitionError(f"unknown status {to_status!r}")
    if to_status == "rejected" and not (reason or "").strip():
        raise TransitionError("a rejection needs a reason for the citizen")
    # A forward sets the new owner just before calling: the previous owner's integrators hear of it too.
    owner_history = sa_inspect(case).attrs.agency_id.history
    previous_owner = owner_history.deleted[0] if owner_history.deleted else None
    # Lock the case row (PostgreSQL) so two concurrent changes are serialised and validated in turn.
    session.flush()  # a refresh would discard the caller's unflushed changes to the case
    session.refresh(case, with_for_update=True)
    from_status = case.status
    if not can_move(from_status, to_status):
        raise TransitionError(f"case {case.ticket}: {from_status} -> {to_status} is not allowed")
    if to_status == "resolved":
        try:
            proof.check_resolution(session, case, note)
        except proof.ProofMissing as missing:
            raise TransitionError(str(missing)) from missing
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
    stored_note_en = "\n\n".join(part for part in (reason, note_en) if part) if note_en else None
    change = StatusChange(case_id=case.id, from_status=from_status, to_status=to_status, actor=actor,
                          note=stored_note, note_en=stored_note_en, agency_id=case.agency_id, created_at=now)
    session.add(change)
    _notify(session, case, to_status, note, note_en, reason)
    _announce(session, case, actor, from_status, to_status, stored_note, previous_owner)
    session.flush()
    return change


def _announce(session: Session, case: Case, actor: str, from_status: str | None, to_status: str,
              note: str | None, previous_owner: str | None = None) -> None:
    """Integrators' webhooks and the agencies' groups hear of the change (bot.integrations.hooks); a reopening
    is news the owner's group must see."""
    from bot.api.public import public_text
    from bot.integrations.hooks import case_event

    news = catalogue.text("grp_news_reopened", "th") if to_status == "reopened" else None
    case_event(session, case, "status_changed", actor=actor, news=news, also_agency=previous_owner,
               from_status=from_status, to_status=to_status, note=public_text(case, note) if note else None)


def reopen(session: Session, case: Case, actor: str, note: str | None = None,
           note_en: str | None = None) -> StatusChange:
    return change_status(session, case, "reopened", actor, note=note, note_en=note_en)


def tell_followers(session: Session, case: Case, actor: str, note: str, note_en: str | None = None) -> StatusChange:
    """A history entry that keeps the status (e.g. a new owner while waiting for the citizen), told to everyone
    following the case as a short text in their language."""
    change = StatusChange(case_id=case.id, from_status=case.status, to_status=case.status, actor=actor, note=note,
                          note_en=note_en, agency_id=case.agency_id, created_at=utcnow())
    session.add(change)
    for citizen in case_store.followers(session, case):
        lang = catalogue.language_of(citizen.language)
        said = citizen_text(note, note_en, lang)
        if said:
            _push(session, case, citizen, [catalogue.text_message(f"{case.ticket}: {said}"[:4900])])
    session.flush()
    return change


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
    from bot.integrations.hooks import case_event

    news = catalogue.text("grp_news_rated", "th", stars="★" * stars + "☆" * (5 - stars), rating=stars) \
        if stars is not None else None
    case_event(session, case, "rated", actor=actor, news=news, cards=stars is not None or solved is True,
               rating=stars, solved=solved)
    if solved is False:
        return reopen(session, case, actor, note=catalogue.text("note_citizen_not_solved", "th"),
                      note_en=catalogue.text("note_citizen_not_solved", "en"))
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
    from bot.api.public import public_text
    from bot.integrations.hooks import case_event

    case_event(session, case, "commented", actor="citizen", cards=False,
               comment={"kind": "citizen", "text": public_text(case, text) if text else None,
                        "attachment": content_id is not None})
    return case


def forwarding_notes(session: Session, from_agency: str | None, to_agency: str) -> tuple[str, str]:
    """ "Forwarded from A to B" in Thai and English (``note``, ``note_en``), the agencies by name, never by id."""
    def name(agency_id: str | None, lang: str) -> str:
        return agency_name(session, agency_id, lang) or catalogue.text("status_agency_unknown", lang)

    th, en = (catalogue.text("note_forwarded_between", lang, from_agency=name(from_agency, lang),
                             to_agency=name(to_agency, lang)) for lang in ("th", "en"))
    return th, en


def _notify(session: Session, case: Case, to_status: str, note: str | None, note_en: str | None,
            reason: str | None) -> None:
    """One status card per follower, in their language; the filer alone is asked to rate a resolution (the
    rating and "really solved?" are theirs to give). A resolution's after-photo follows its card as an image."""
    services = services_of(session)
    link = timeline_url(services.settings.timeline_base_url, case.ticket)
    photos = proof.photo_messages(session, case) if to_status == "resolved" else []
    for citizen in case_store.followers(session, case):
        lang = catalogue.language_of(citizen.language)
        agency = agency_name(session, case.agency_id, lang) or catalogue.text("status_agency_unknown", lang)
        messages = [status_card(ticket=case.ticket, status=to_status, lang=lang, agency_name=agency,
                                note=citizen_text(note, note_en, lang), reason=citizen_text(reason, None, lang),
                                timeline_url=link), *photos]
        if to_status == "resolved" and citizen.id == case.citizen_id:
            messages.append(rating_question(case.id, case.ticket, lang))
        _push(session, case, citizen, messages)


def _push(session: Session, case: Case, citizen: Citizen, messages: list[dict]) -> None:
    row = outbox.add_message(session, kind="push", recipient=citizen.line_user_id, messages=messages,
                             case_id=case.id)
    deliver_after_commit(session, row.id)
