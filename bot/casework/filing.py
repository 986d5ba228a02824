"""Filing a new case: a ticket number, its owner, the first history entry, all in the caller's transaction.

Every case has an owner from the moment it is filed: the agency the catalogue routes its category and place
to, or the place's general owner when the category is unknown or unchosen (bot/data/agencies.toml). A case
with no agency would sit in no queue and no LINE group, and the citizen would be told nobody's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.nlp.routing import Agency, general_owner, route
from storage import cases
from storage.models import Case, StatusChange, utcnow

TICKET_PREFIX = "DR"  # Damrongdhama: the cabinet's letters name its centres as the owners of complaints
BUDDHIST_ERA_OFFSET = 543


@dataclass
class CaseDraft:
    """What a conversation has collected when the citizen confirms."""

    description: str
    category: str
    agency_id: str | None = None
    category_confidence: float | None = None
    province: str | None = None
    district: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    occurred_on: str | None = None
    phone: str | None = None
    anonymous: bool = False
    urgent: bool = False
    target_days: float | None = None


def route_case(category: str | None, province: str | None, district: str | None) -> Agency:
    """The owner of a case of ``category`` at this place: the catalogue's rule, else the general owner.

    ``None`` (the citizen chose "none of these", or nothing classified it) goes straight to the general owner;
    the same function routes at filing and after a staff correction, so both follow one set of rules."""
    if category is None:
        return general_owner(province, district)
    return route(category, province, district)


def file_case(session: Session, draft: CaseDraft, citizen_id: int | None, actor: str = "citizen",
              now: datetime | None = None) -> Case:
    """File the draft as a new case; a draft without an agency gets one by :func:`route_case`."""
    now = now or utcnow()
    agency_id = draft.agency_id or route_case(draft.category, draft.province, draft.district).id
    case = Case(
        ticket=next_ticket(session, now),
        citizen_id=citizen_id,
        status="received",
        category=draft.category,
        category_confidence=draft.category_confidence,
        agency_id=agency_id,
        description=draft.description,
        province=draft.province,
        district=draft.district,
        address=draft.address,
        latitude=draft.latitude,
        longitude=draft.longitude,
        occurred_on=draft.occurred_on,
        phone=draft.phone,
        anonymous=draft.anonymous,
        urgent=draft.urgent,
        created_at=now,
        updated_at=now,
        target_due_at=now + timedelta(days=draft.target_days) if draft.target_days else None,
    )
    session.add(case)
    session.flush()
    session.add(StatusChange(case_id=case.id, from_status=None, to_status="received", actor=actor,
                             agency_id=case.agency_id, created_at=now))
    from bot.integrations.hooks import case_event

    case_event(session, case, "created", actor=actor)
    return case


def next_ticket(session: Session, now: datetime) -> str:
    """``DR-2569-000123``: prefix, Buddhist-era year, six-digit number of that year."""
    year_be = now.year + BUDDHIST_ERA_OFFSET
    return f"{TICKET_PREFIX}-{year_be}-{cases.next_ticket_number(session, TICKET_PREFIX, year_be):06d}"
