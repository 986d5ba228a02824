"""Forwarding a case to another lead agency: the history is kept (``case_forwards``) and a loop is refused.

A case that was already with an agency and was forwarded on must not silently bounce back (A -> B -> A): that
is how a complaint circles between two offices for months. Such a forward is refused unless an administrator
confirms it, and the confirmation is recorded on the forward (``loop_override``) and in the audit log.
The console, the LINE groups' "forward" button and category corrections all forward through here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import messages as catalogue
from bot.casework.lifecycle import TransitionError, change_status, forwarding_notes, tell_followers
from bot.casework.states import can_move
from storage import staff as staff_store
from storage.models import Case, CaseForward, CasePart, utcnow
from storage.staff import agency_name


class ForwardLoop(ValueError):
    """The target agency already held the case and forwarded it on."""

    def __init__(self, agency_id: str, message: str) -> None:
        super().__init__(message)
        self.agency_id = agency_id


def chain(session: Session, case: Case) -> list[CaseForward]:
    return list(session.scalars(select(CaseForward).where(CaseForward.case_id == case.id).order_by(CaseForward.id)))


def earlier_leads(session: Session, case: Case) -> set[str]:
    """Agencies that led the case before and handed it on."""
    return {f.from_agency for f in chain(session, case) if f.from_agency}


def forward_case(session: Session, case: Case, to_agency: str, actor: str, note: str | None = None,
                 override: bool = False, reroute: bool = False,
                 citizen_notes: tuple[str, str] | None = None) -> CaseForward:
    """Make ``to_agency`` the case's lead and tell the citizen (status ``forwarded``, agencies by name).

    ``override`` (administrators only; the caller checks) sends a case back to an earlier lead; ``reroute``
    is the system's own re-routing after a category fix, which follows the routing table and may keep the
    status where forwarding is not a move the lifecycle allows; ``citizen_notes`` (Thai, English) replace
    the "forwarded from A to B" the citizen is told. Raises :class:`ForwardLoop`,
    :class:`TransitionError` or ValueError."""
    if not staff_store.is_agency(session, to_agency):
        raise ValueError(f"unknown agency {to_agency!r}")
    if to_agency == case.agency_id:
        raise ValueError("the case is already with this agency")
    if not reroute and not can_move(case.status, "forwarded"):
        raise TransitionError(f"case {case.ticket}: {case.status} cannot be forwarded")
    looped = to_agency in earlier_leads(session, case)
    if looped and not override and not reroute:
        raise ForwardLoop(to_agency, catalogue.text("forward_loop", "th",
                                                     agency=agency_name(session, to_agency, "th") or to_agency))
    # Read before the owner changes: a query autoflushes, and change_status reads the unflushed change of
    # owner to tell the previous owner's integrators.
    joined = session.scalar(select(CasePart).where(CasePart.case_id == case.id, CasePart.agency_id == to_agency))
    th, en = citizen_notes or forwarding_notes(session, case.agency_id, to_agency)
    old = case.agency_id
    case.agency_id = to_agency
    case.assigned_to = None  # the officer was the old agency's
    if joined is not None:
        session.delete(joined)  # a co-handler that becomes the lead has no separate part any more
    if note:
        th = f"{th}\n{note}"
    if can_move(case.status, "forwarded"):
        change_status(session, case, "forwarded", actor, note=th, note_en=en if not note else None)
    else:
        tell_followers(session, case, actor, th, en if not note else None)
    row = CaseForward(case_id=case.id, from_agency=old, to_agency=to_agency, actor=actor, note=note or None,
                      loop_override=bool(looped and (override or reroute)), created_at=utcnow())
    session.add(row)
    staff_store.add_note(session, case.id, actor, th, kind="forward")
    session.flush()
    return row
