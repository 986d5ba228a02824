"""Assignment: which officer of an agency works a case (the lead's officer on the case, a co-handler's on its
part). Unassigned work sits in the agency's queue; every assignment and reassignment is audited and shown on
the case's staff timeline, naming the officers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import staff as staff_store
from storage.models import Case, CasePart, StaffUser


class AssignmentError(ValueError):
    """The officer is not an active officer of the agency whose work is being assigned."""


def officers_of(session: Session, agency_id: str | None) -> list[StaffUser]:
    if not agency_id:
        return []
    return list(session.scalars(select(StaffUser).where(
        StaffUser.agency_id == agency_id, StaffUser.role == "agency_staff", StaffUser.active.is_(True))
        .order_by(StaffUser.display_name, StaffUser.id)))


def assign(session: Session, case: Case, agency_id: str, officer_id: int | None, actor: str,
           address: str | None = None) -> None:
    """Give ``agency_id``'s work on ``case`` to ``officer_id`` (None: back to the agency's queue).

    ``agency_id`` is the lead (the case is assigned) or a co-handler (its part is)."""
    part = None
    if agency_id != case.agency_id:
        part = session.scalar(select(CasePart).where(CasePart.case_id == case.id, CasePart.agency_id == agency_id))
        if part is None:
            raise AssignmentError("this agency neither leads nor co-handles the case")
    officer = session.get(StaffUser, officer_id) if officer_id is not None else None
    if officer_id is not None and (officer is None or not officer.active or officer.role != "agency_staff"
                                   or officer.agency_id != agency_id):
        raise AssignmentError("this officer does not work for the agency")
    holder = part if part is not None else case
    before = session.get(StaffUser, holder.assigned_to) if holder.assigned_to else None
    if (before.id if before else None) == officer_id:
        return
    holder.assigned_to = officer_id
    text = f"มอบหมายให้ {officer.display_name}" if officer else "คืนเรื่องเข้าคิวของหน่วยงาน"
    if before is not None:
        text += f" (เดิม: {before.display_name})"
    staff_store.add_note(session, case.id, actor, text, kind="assign", agency_id=agency_id)
    staff_store.audit(session, actor, "case_assign", case.ticket,
                      {"agency": agency_id, "from": before.id if before else None, "to": officer_id}, address)
    session.flush()
