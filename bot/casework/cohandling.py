"""Co-handling: one lead agency owns a case, other agencies join it with a part of their own (Traffy's "join").

The lead's status is the case's status; each co-handler's part has its own small lifecycle (``PART_STATES``)
and its own notes. Inviting an agency takes nothing from the lead: the case stays in the lead's queue and
appears in the co-handler's queue and LINE groups too. Every part step is a history entry of the case
(``StatusChange.part``, with the agency), so the citizen reads one timeline naming each agency. The case is
resolved when the lead resolves it; the parts still open are listed to the lead (``open_parts``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import messages as catalogue
from bot.casework.states import STATES
from bot.jobs import deliver_after_commit
from storage import cases as case_store
from storage import outbox
from storage import staff as staff_store
from storage.models import Case, CasePart, StatusChange, utcnow
from storage.staff import agency_name

PART_STATES = ("invited", "accepted", "in_progress", "done")
PART_TRANSITIONS: dict[str, frozenset[str]] = {
    "invited": frozenset({"accepted", "in_progress", "done"}),
    "accepted": frozenset({"in_progress", "done"}),
    "in_progress": frozenset({"done"}),
    "done": frozenset({"in_progress"}),  # more work turned up: the part opens again
}


class PartError(ValueError):
    """A co-handling step that is not allowed (unknown agency, the lead itself, a move the part forbids)."""


def part_label(status: str, lang: str = "th") -> str:
    return catalogue.text(f"part_{status}", lang)


def parts_of(session: Session, case: Case) -> list[CasePart]:
    return list(session.scalars(select(CasePart).where(CasePart.case_id == case.id).order_by(CasePart.id)))


def part_of(session: Session, case: Case, agency_id: str | None) -> CasePart | None:
    if not agency_id:
        return None
    return session.scalar(select(CasePart).where(CasePart.case_id == case.id, CasePart.agency_id == agency_id))


def open_parts(session: Session, case: Case) -> list[CasePart]:
    """The co-handlers' parts not finished yet: what the lead is shown before and after resolving."""
    return [part for part in parts_of(session, case) if part.status != "done"]


def invite(session: Session, case: Case, agency_id: str, actor: str, note: str | None = None) -> CasePart:
    """Add ``agency_id`` as a co-handler of ``case``; the lead keeps the case. The citizen hears who joined,
    the co-handler's groups get the case card."""
    if not staff_store.is_agency(session, agency_id):
        raise PartError(f"unknown agency {agency_id!r}")
    if agency_id == case.agency_id:
        raise PartError("this agency already leads the case")
    if not STATES[case.status].open:
        raise PartError(f"case {case.ticket} is {case.status}: only open cases take co-handlers")
    if part_of(session, case, agency_id) is not None:
        raise PartError("this agency already co-handles the case")
    now = utcnow()
    part = CasePart(case_id=case.id, agency_id=agency_id, status="invited", invited_by=actor, created_at=now,
                    updated_at=now)
    session.add(part)
    th, en = (catalogue.text("note_cohandler_joined", lang, agency=_name(session, agency_id, lang))
              for lang in ("th", "en"))
    session.add(StatusChange(case_id=case.id, from_status=None, to_status="invited", actor=actor,
                             note=th, note_en=en, agency_id=agency_id, part=True, created_at=now))
    if (note or "").strip():  # what the lead asks of the co-handler is between agencies, never the citizen's
        staff_store.add_note(session, case.id, actor, note.strip(), agency_id=case.agency_id)
    case.updated_at = now
    _tell(session, case, lambda lang: catalogue.text("cohandler_step_push", lang, ticket=case.ticket,
                                                     agency=_name(session, agency_id, lang),
                                                     step=part_label("invited", lang)))
    session.flush()
    from bot.groups.parts import post_card_to_agency

    post_card_to_agency(session, case, agency_id)
    return part


def move_part(session: Session, case: Case, agency_id: str, to_status: str, actor: str,
              note: str | None = None) -> StatusChange:
    """Move the co-handler's part to ``to_status``; its note is shown to the citizen on the timeline, and
    finishing a part is told to everyone following the case."""
    part = part_of(session, case, agency_id)
    if part is None:
        raise PartError("this agency does not co-handle the case")
    if to_status not in PART_STATES or to_status not in PART_TRANSITIONS[part.status]:
        raise PartError(f"part of {agency_id}: {part.status} -> {to_status} is not allowed")
    now = utcnow()
    change = StatusChange(case_id=case.id, from_status=part.status, to_status=to_status, actor=actor,
                          note=(note or "").strip() or None, agency_id=agency_id, part=True, created_at=now)
    part.status, part.updated_at, case.updated_at = to_status, now, now
    session.add(change)
    if to_status == "done":
        said = (note or "").strip()
        _tell(session, case, lambda lang: catalogue.text(
            "cohandler_step_push", lang, ticket=case.ticket, agency=_name(session, agency_id, lang),
            step=part_label("done", lang)) + (f"\n{said}" if said else ""))
    session.flush()
    return change


def next_part_states(part: CasePart) -> list[str]:
    return [s for s in PART_STATES if s in PART_TRANSITIONS[part.status]]


def _name(session: Session, agency_id: str, lang: str) -> str:
    return agency_name(session, agency_id, lang) or catalogue.text("status_agency_unknown", lang)


def _tell(session: Session, case: Case, say) -> None:
    for citizen in case_store.followers(session, case):
        lang = catalogue.language_of(citizen.language)
        row = outbox.add_message(session, kind="push", recipient=citizen.line_user_id,
                                 messages=[catalogue.text_message(say(lang)[:4900])], case_id=case.id)
        deliver_after_commit(session, row.id)
