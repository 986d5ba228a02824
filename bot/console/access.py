"""Who may see and do what: the roles of the console and the scoping of cases to an agency's staff.

Roles: ``administrator`` (everything), ``agency_staff`` (works the cases of its agency, optionally only some
provinces), ``announcer`` (announcements; no cases), ``executive`` (reads cases and the dashboard, changes
nothing, sees no personal data).
"""

from __future__ import annotations

from sqlalchemy import Select, false, true
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Case, StaffUser

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
    condition = Case.agency_id == user.agency_id
    if user.province_list:
        condition = condition & Case.province.in_(user.province_list)
    return condition


def scoped(query: Select, user: StaffUser) -> Select:
    return query.where(case_condition(user))


def may_see_case(user: StaffUser, case: Case) -> bool:
    if user.role in ("administrator", "executive"):
        return True
    if user.role != "agency_staff" or case.agency_id != user.agency_id:
        return False
    return not user.province_list or case.province in user.province_list


def may_work_case(user: StaffUser, case: Case) -> bool:
    return user.role in CASE_WORKERS and may_see_case(user, case)


def sees_personal_data(user: StaffUser, case: Case) -> bool:
    """Name, phone and LINE identity of the citizen: only for those who work the case, never if anonymous."""
    return user.role in CASE_WORKERS and not case.anonymous


def sees_exact_place(user: StaffUser) -> bool:
    """House address and coordinates: for those who go and fix the problem; executives read district and
    province only (a complaint's exact place is often the citizen's home)."""
    return user.role in CASE_WORKERS
