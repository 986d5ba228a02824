"""Response templates: an agency's own ready texts and the shared ones, optionally tied to a case state."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import ResponseTemplate


def usable(session: Session, agency_id: str | None) -> list[ResponseTemplate]:
    """Active templates an officer of ``agency_id`` may insert: the agency's own first, then the shared ones."""
    query = select(ResponseTemplate).where(ResponseTemplate.active.is_(True))
    query = query.where(or_(ResponseTemplate.agency_id.is_(None), ResponseTemplate.agency_id == agency_id)
                        if agency_id else ResponseTemplate.agency_id.is_(None))
    rows = session.scalars(query.order_by(ResponseTemplate.title, ResponseTemplate.id))
    return sorted(rows, key=lambda row: row.agency_id is None)


def managed_by(session: Session, agency_id: str | None, everything: bool) -> list[ResponseTemplate]:
    """What the templates page lists: every template for an administrator, else the agency's and shared."""
    query = select(ResponseTemplate)
    if not everything:
        query = query.where(or_(ResponseTemplate.agency_id.is_(None), ResponseTemplate.agency_id == agency_id))
    return list(session.scalars(query.order_by(ResponseTemplate.agency_id.is_(None).desc(),
                                               ResponseTemplate.agency_id, ResponseTemplate.title)))


def add(session: Session, *, title: str, body: str, agency_id: str | None, state: str | None, lang: str,
        created_by: str) -> ResponseTemplate:
    row = ResponseTemplate(title=title, body=body, agency_id=agency_id or None, state=state or None,
                           lang=lang or "th", active=True, created_by=created_by)
    session.add(row)
    session.flush()
    return row
