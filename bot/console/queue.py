"""The case queue as a query: filters, text/ticket search, sorting and pagination, scoped to the user.

Open urgent cases (danger to life) come first whatever the sort: an officer opening the queue sees them
before anything else. In an officer's own list ("my cases", or filtered by officer) their overdue cases come
next, before the rest in the chosen order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from bot.casework.states import OPEN_STATES, STATES
from bot.console.access import scoped
from bot.console.params import page_number
from storage.integrations import cases_with_reference
from storage.models import Case, CasePart, StaffUser, utcnow

SORTS = {
    "newest": (Case.created_at.desc(), Case.id.desc()),
    "oldest": (Case.created_at.asc(), Case.id.asc()),
    "due": (Case.target_due_at.asc(), Case.id.asc()),
    "updated": (Case.updated_at.desc(), Case.id.desc()),
}
PER_PAGE = 25
URGENT_FIRST = case((and_(Case.urgent.is_(True), Case.status.in_(OPEN_STATES)), 0), else_=1)


def overdue_first():
    return case((and_(Case.status.in_(OPEN_STATES), Case.target_due_at < utcnow()), 0), else_=1)


def officer_of(user: StaffUser, args: Mapping[str, str]) -> int | None:
    """The officer whose list is asked for: ``mine=1`` is the user, ``officer=<id>`` another one."""
    if args.get("mine") == "1":
        return user.id
    try:
        return int(args["officer"]) if args.get("officer") else None
    except ValueError:
        return None


def assigned_to(officer_id: int):
    """Cases the officer works: assigned to them as the lead's officer, or their part as a co-handler's."""
    return (Case.assigned_to == officer_id) | Case.id.in_(
        select(CasePart.case_id).where(CasePart.assigned_to == officer_id))


@dataclass
class QueuePage:
    cases: list[Case]
    total: int
    page: int
    pages: int


def filtered(user: StaffUser, args: Mapping[str, str], agency_id: str | None = None) -> Select:
    """``agency_id``: the ``agency`` argument resolved from the name staff picked."""
    query = scoped(select(Case), user)
    if args.get("status") == "open":
        query = query.where(Case.status.in_(OPEN_STATES))
    elif args.get("status") in STATES:
        query = query.where(Case.status == args["status"])
    for field, column in (("category", Case.category), ("province", Case.province)):
        if args.get(field):
            query = query.where(column == args[field])
    officer = officer_of(user, args)
    if officer is not None:
        query = query.where(assigned_to(officer))
    if args.get("agency"):  # the agency's name as picked from the list (an id still works)
        query = query.where(Case.agency_id == (agency_id or args["agency"]))
    if args.get("urgent") == "1":
        query = query.where(Case.urgent.is_(True))
    if args.get("overdue") == "1":
        query = query.where(Case.status.in_(OPEN_STATES), Case.target_due_at < utcnow())
    text = (args.get("q") or "").strip()
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Case.ticket == text.upper(), Case.ticket.ilike(like, escape="\\"),
                                Case.description.ilike(like, escape="\\"),
                                Case.id.in_(cases_with_reference(text))))  # 1111, 1567, Traffy, letter numbers
    return query


def queue_page(db: Session, user: StaffUser, args: Mapping[str, str]) -> QueuePage:
    from storage.staff import resolve_agency

    query = filtered(user, args, resolve_agency(db, args.get("agency")) if args.get("agency") else None)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = page_number(args.get("page"))
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    order = SORTS.get(args.get("sort", "newest"), SORTS["newest"])
    first = (URGENT_FIRST, overdue_first()) if officer_of(user, args) is not None else (URGENT_FIRST,)
    rows = db.scalars(query.order_by(*first, *order).offset((page - 1) * PER_PAGE).limit(PER_PAGE))
    return QueuePage(list(rows), total, page, pages)
