"""Who may see and do what: the roles of the console and the scoping of cases to an agency's staff.

Roles: ``administrator`` (everything), ``agency_staff`` (works the cases of its agency, optionally only some
provinces), ``announcer`` (announcements; no cases), ``executive`` (reads cases and the dashboard, changes
nothing, sees no personal data).
"""

from __future__ import annotations

from sqlalchemy import Select, false, select, true
from sqlalchemy.orm import object_session
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Case, CasePart, StaffUser

ROLE_LABELS = {
    "administrator": "ผู้ดูแลระบบ",
    "agency_staff": "เจ้าหน้าที่หน่วยงาน",
    "announcer": "ผู้ประกาศข่าว",
    "executive": "ผู้บริหาร",
}
CASE_READERS = ("administrator", "agency_staff", "executive")
CASE_WORKERS = ("administrator", "agency_staff")
DASHBOARD_READERS = ("administrator", "executive")


def case_condition(user: StaffUser) -> ColumnElement[bool]:
    """The SQL condition selecting the cases ``user`` may see."""
    if user.role in ("administrator", "executive"):
        return true()
    if user.role != "agency_staff" or not user.agency_id:
        return false()
    # A co-handler sees the case as the lead does: in its queue and by URL.
    condition = (Case.agency_id == user.agency_id) | Case.id.in_(
        select(CasePart.case_id).where(CasePart.agency_id == user.agency_id))
    if user.province_list:
        condition = condition & Case.province.in_(user.province_list)
    return condition


def scoped(query: Select, user: StaffUser) -> Select:
    return query.where(case_condition(user))


def may_see_case(user: StaffUser, case: Case) -> bool:
    if user.role in ("administrator", "executive"):
        return True
    if user.role != "agency_staff" or not (case.agency_id == user.agency_id or co_handles(user, case)):
        return False
    return not user.province_list or case.province in user.province_list


def co_handles(user: StaffUser, case: Case) -> bool:
    """Whether the user's agency is a co-handler of the case (not its lead)."""
    session = object_session(case)
    if session is None or not user.agency_id or case.agency_id == user.agency_id:
        return False
    return session.scalar(select(CasePart.id).where(CasePart.case_id == case.id,
                                                    CasePart.agency_id == user.agency_id)) is not None


def may_work_case(user: StaffUser, case: Case) -> bool:
    """May act on the case at all: the lead's work (status, forward, category, co-handlers) or a part's."""
    return user.role in CASE_WORKERS and may_see_case(user, case)


def leads_case(user: StaffUser, case: Case) -> bool:
    """May do the lead's work: change the case's status, forward it, fix its category, invite co-handlers.
    A co-handler's staff work their own part only."""
    return may_work_case(user, case) and (user.role == "administrator" or case.agency_id == user.agency_id)


def sees_personal_data(user: StaffUser, case: Case) -> bool:
    """Name, phone and LINE identity of the citizen: only for those who work the case, never if anonymous."""
    return user.role in CASE_WORKERS and not case.anonymous


def sees_exact_place(user: StaffUser) -> bool:
    """House address and coordinates: for those who go and fix the problem; executives read district and
    province only (a complaint's exact place is often the citizen's home)."""
    return user.role in CASE_WORKERS
