"""What staff (and agency systems) do to a case, each step audited in the caller's transaction.

Status changes go through ``bot.casework.lifecycle.change_status`` (which also writes the citizen's
notification); this module adds the steps staff take everywhere: forwarding, correcting the category, notes
and replies in chat. The console's views, the agencies' LINE groups and the agency API call these; they
never touch a case's status themselves.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bot import messages as catalogue
from bot.casework import forwarding, threads
from bot.casework.filing import route_case
from bot.casework.lifecycle import TransitionError, change_status
from bot.casework.states import STATES
from bot.jobs import deliver_after_commit
from storage import outbox
from storage import staff as staff_store
from storage.models import Case, Category, Citizen, utcnow
from storage.staff import agency_name

__all__ = ["TransitionError", "set_status", "forward", "correct_category", "add_note", "reply_to_citizen", "close_thread"]


def set_status(db: Session, case: Case, to_status: str, actor: str, note: str | None = None,
               reason: str | None = None, address: str | None = None) -> None:
    from_status = case.status
    change_status(db, case, to_status, actor, note=note or None, reason=reason or None)
    staff_store.audit(db, actor, "case_status", case.ticket,
                      {"from": from_status, "to": to_status, "note": note, "reason": reason}, address)


def forward(db: Session, case: Case, agency_id: str, actor: str, note: str | None = None,
            address: str | None = None, override: bool = False) -> None:
    """Send the case to another lead agency (status forwarded, the citizen told); the chain is kept and a
    case going back to an agency that already forwarded it is refused unless ``override`` (administrators)."""
    old = case.agency_id
    row = forwarding.forward_case(db, case, agency_id, actor, note=note or None, override=override)
    staff_store.audit(db, actor, "case_forward", case.ticket,
                      {"from": old, "to": agency_id, "note": note, "loop_override": row.loop_override}, address)
    from bot.groups import post_case_card

    post_case_card(db, case)


def correct_category(db: Session, case: Case, new_category: str, actor: str, address: str | None = None) -> None:
    """Fix the category (and the target date that follows from it); the fix is kept to train the classifier.

    The case is then routed again by the filing rules: a new owner gets it, and the citizen is told who."""
    category = db.get(Category, new_category)
    if category is None:
        from bot.nlp.categories import category as catalogue_category

        try:
            target_days = catalogue_category(new_category).target_days
        except KeyError:
            raise ValueError(f"unknown category {new_category!r}") from None
    else:
        target_days = category.target_days
    old = case.category
    if old == new_category:
        return
    case.category = new_category
    case.target_due_at = case.created_at + timedelta(days=target_days)
    case.updated_at = utcnow()
    staff_store.add_correction(db, case_id=case.id, text=case.description, old=old, new=new_category, who=actor)
    old_agency, new_agency = case.agency_id, _reroute(db, case, actor)
    from bot.integrations.hooks import refresh_cards

    refresh_cards(db, case, actor=actor)  # the groups' cards show the right category
    staff_store.audit(db, actor, "case_category", case.ticket,
                      {"from": old, "to": new_category, "agency_from": old_agency, "agency_to": new_agency}, address)


def _reroute(db: Session, case: Case, actor: str) -> str | None:
    """Send a corrected open case where filing would have sent it with the right category; tell the citizen.

    Returns the new agency id, or None when the owner stays. The change is a history entry (``forwarded``,
    or a same-status entry where forwarding is not an allowed move, as while waiting for the citizen) and
    one push per follower (filer and joiners) naming the new owner in their language; the new owner's LINE groups
    get the case card."""
    if not STATES[case.status].open:
        return None  # a finished case keeps the owner who finished it
    new_agency = route_case(case.category, case.province, case.district).id
    if new_agency == case.agency_id:
        return None
    note, note_en = (catalogue.text("case_rerouted", lang, category=_category_label(db, case.category, lang),
                                    agency=agency_name(db, new_agency, lang)) for lang in ("th", "en"))
    forwarding.forward_case(db, case, new_agency, actor, reroute=True, citizen_notes=(note, note_en))
    from bot.groups import post_case_card

    post_case_card(db, case)
    return new_agency


def _category_label(db: Session, category_id: str, lang: str) -> str:
    row = db.get(Category, category_id)
    if row is not None:
        return (row.label_en if lang == "en" else None) or row.label_th
    from bot.messages.ticket_cards import category_label

    return category_label(category_id, lang)


def add_note(db: Session, case: Case, text: str, actor: str, address: str | None = None,
             agency_id: str | None = None) -> None:
    """An internal note; ``agency_id`` is whose note it is (a co-handler's notes are its own)."""
    if not text.strip():
        raise ValueError("an empty note")
    staff_store.add_note(db, case.id, actor, text.strip(), kind="note", agency_id=agency_id)
    staff_store.audit(db, actor, "case_note", case.ticket, None, address)
    _commented(db, case, actor, "note", text.strip())


def _commented(db: Session, case: Case, actor: str, kind: str, text: str) -> None:
    """Integrators hear of a note or a reply (masked as every text that leaves Siang)."""
    from bot.api.public import public_text
    from bot.integrations.hooks import case_event

    case_event(db, case, "commented", actor=actor, cards=False,
               comment={"kind": kind, "text": public_text(case, text)})


def reply_to_citizen(db: Session, case: Case, text: str, actor: str, address: str | None = None) -> int:
    """A message from staff to the citizen in chat, delivered by push after the commit. Returns the row id."""
    text = text.strip()
    if not text:
        raise ValueError("an empty reply")
    citizen = db.get(Citizen, case.citizen_id) if case.citizen_id is not None else None
    if citizen is None or not citizen.active:
        raise ValueError("this citizen cannot be reached in chat")
    lang = catalogue.language_of(citizen.language)
    body = catalogue.text("thread_staff_reply", lang, text=text[:4500],
                          subject=catalogue.text("thread_subject_case", lang, ticket=case.ticket))
    row = outbox.add_message(db, kind="push", recipient=citizen.line_user_id,
                             messages=[catalogue.text_message(body[:4900])], case_id=case.id)
    staff_store.add_note(db, case.id, actor, text, kind="reply")
    threads.staff_wrote_on_case(db, case, actor)  # the citizen's answers come back to this case
    staff_store.audit(db, actor, "case_reply", case.ticket, {"outbox_id": row.id}, address)
    deliver_after_commit(db, row.id)
    _commented(db, case, actor, "reply", text)
    return row.id



def close_thread(db: Session, case: Case, actor: str, address: str | None = None) -> bool:
    """End the chat opened by a reply: the citizen's next messages are for the bot again (they are told)."""
    closed = threads.close_by_staff(db, actor, case=case)
    if closed:
        staff_store.audit(db, actor, "case_thread_close", case.ticket, None, address)
    return closed
