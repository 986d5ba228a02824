"""Rows the conversations read and write: consent, duplicates, opinions, volunteers, hand-overs, erasure."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.casework.states import OPEN_STATES
from storage.models import (
    Case,
    CaseAttachment,
    CaseMessage,
    CaseSourceEvent,
    CaseSupporter,
    Citizen,
    Consent,
    HandoverMessage,
    HandoverRequest,
    InboxEvent,
    Opinion,
    OpinionTopic,
    StaffThread,
    StoredContent,
    Volunteer,
    utcnow,
)



# --- consent ------------------------------------------------------------------------------------------

def has_consent(session: Session, citizen_id: int, purpose: str, version: str) -> bool:
    return session.scalar(select(Consent.id).where(
        Consent.citizen_id == citizen_id, Consent.purpose == purpose, Consent.version == version,
        Consent.given.is_(True), Consent.withdrawn_at.is_(None)).limit(1)) is not None


def record_consent(session: Session, citizen_id: int, purpose: str, version: str, given: bool) -> Consent:
    row = Consent(citizen_id=citizen_id, purpose=purpose, version=version, given=given)
    session.add(row)
    return row


# --- cases the flows file or join -----------------------------------------------------------------------

def possible_duplicates(session: Session, category: str, province: str | None, district: str | None,
                        latitude: float | None, longitude: float | None, exclude_citizen: int | None,
                        days: int = 30, limit: int = 3, near_degrees: float = 0.01) -> list[Case]:
    """Open cases of the same category, recent, at the same place (within ~1 km, or the same district)."""
    query = select(Case).where(Case.category == category, Case.status.in_(OPEN_STATES),
                               Case.created_at >= utcnow() - timedelta(days=days))
    if exclude_citizen is not None:
        query = query.where(or_(Case.citizen_id.is_(None), Case.citizen_id != exclude_citizen))
    places = []
    if latitude is not None and longitude is not None:
        places.append(Case.latitude.between(latitude - near_degrees, latitude + near_degrees)
                      & Case.longitude.between(longitude - near_degrees, longitude + near_degrees))
    if district and province:
        places.append((Case.province == province) & (Case.district == district))
    if not places:
        return []
    return list(session.scalars(query.where(or_(*places)).order_by(Case.id.desc()).limit(limit)))


def add_supporter(session: Session, case_id: int, citizen_id: int | None, note: str | None) -> bool:
    exists = session.scalar(select(CaseSupporter.id).where(CaseSupporter.case_id == case_id,
                                                           CaseSupporter.citizen_id == citizen_id))
    if exists:
        return False
    session.add(CaseSupporter(case_id=case_id, citizen_id=citizen_id, note=note))
    return True


def attach_sources(session: Session, case_id: int, event_ids: list[int], content_ids: list[int]) -> None:
    for event_id in dict.fromkeys(event_ids):
        session.add(CaseSourceEvent(case_id=case_id, inbox_event_id=event_id))
    for content_id in dict.fromkeys(content_ids):
        session.add(CaseAttachment(case_id=case_id, content_id=content_id))


def cases_waiting_for(session: Session, citizen_id: int) -> Case | None:
    return session.scalar(select(Case).where(Case.citizen_id == citizen_id, Case.status == "waiting_citizen")
                          .order_by(Case.updated_at.desc()).limit(1))


# --- opinions -----------------------------------------------------------------------------------------------

def add_topic(session: Session, title_th: str, title_en: str | None = None, description: str | None = None,
              opens_at: datetime | None = None, closes_at: datetime | None = None) -> OpinionTopic:
    topic = OpinionTopic(title_th=title_th, title_en=title_en, description=description,
                         opens_at=opens_at or utcnow(), closes_at=closes_at, active=True)
    session.add(topic)
    session.flush()
    return topic


def open_topics(session: Session, now: datetime | None = None, limit: int = 10) -> list[OpinionTopic]:
    now = now or utcnow()
    return list(session.scalars(select(OpinionTopic).where(
        OpinionTopic.active.is_(True), OpinionTopic.opens_at <= now,
        or_(OpinionTopic.closes_at.is_(None), OpinionTopic.closes_at > now)).order_by(OpinionTopic.id).limit(limit)))


def add_opinion(session: Session, topic_id: int, citizen_id: int | None, text: str, rating: int | None) -> Opinion:
    row = Opinion(topic_id=topic_id, citizen_id=citizen_id, text=text, rating=rating)
    session.add(row)
    return row


# --- volunteers and hand-overs ---------------------------------------------------------------------------------

def get_volunteer(session: Session, citizen_id: int) -> Volunteer | None:
    return session.scalar(select(Volunteer).where(Volunteer.citizen_id == citizen_id))


def save_volunteer(session: Session, citizen_id: int, **fields) -> Volunteer:
    row = get_volunteer(session, citizen_id)
    if row is None:
        row = Volunteer(citizen_id=citizen_id)
        session.add(row)
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    return row


def request_handover(session: Session, citizen_id: int | None, line_user_id: str | None, reason: str,
                     message: str | None = None, province: str | None = None,
                     case_id: int | None = None) -> HandoverRequest:
    row = HandoverRequest(citizen_id=citizen_id, line_user_id=line_user_id, reason=reason, message=message,
                          province=province, case_id=case_id, status="open")
    session.add(row)
    session.flush()
    return row


# --- erasure (PDPA) -------------------------------------------------------------------------------------------

def erase_citizen(session: Session, citizen: Citizen, mask_text=None) -> dict[str, int]:
    """Delete or anonymise everything personal about a citizen; cases keep anonymised content for statistics.

    Kept: the citizen row itself (LINE needs the id to answer), the cases' category, place at province and
    district level, dates and statuses. Gone: name, language, phone, exact address and coordinates, photos,
    volunteer record, the link from cases/opinions/hand-overs to the person, stored webhook payloads.
    """
    mask = mask_text or (lambda text: text)
    counts = {"cases": 0, "photos": 0, "events": 0}
    cases = list(session.scalars(select(Case).where(Case.citizen_id == citizen.id)))
    for case in cases:
        case.description = mask(case.description)
        case.phone = case.address = None
        case.latitude = case.longitude = None
        case.citizen_id = None
        case.anonymous = True
        counts["cases"] += 1
    case_ids = [c.id for c in cases]
    for message in session.scalars(select(CaseMessage).where(CaseMessage.case_id.in_(case_ids))) if case_ids \
            else []:
        message.text = mask(message.text) if message.text else None
        message.latitude = message.longitude = None
    content_ids = select(CaseAttachment.content_id).where(CaseAttachment.case_id.in_(case_ids)) if case_ids \
        else select(StoredContent.id).where(False)
    counts["photos"] = session.execute(
        update(StoredContent).where(or_(StoredContent.user_id == citizen.line_user_id,
                                        StoredContent.id.in_(content_ids)))
        .values(data=None, status="deleted", deleted_at=utcnow(), file_name=None)).rowcount or 0
    counts["events"] = session.execute(
        update(InboxEvent).where(InboxEvent.user_id == citizen.line_user_id)
        .values(payload='{"erased": true}')).rowcount or 0
    session.execute(update(Opinion).where(Opinion.citizen_id == citizen.id).values(citizen_id=None))
    session.execute(update(CaseSupporter).where(CaseSupporter.citizen_id == citizen.id).values(citizen_id=None))
    handover_ids = select(HandoverRequest.id).where(HandoverRequest.citizen_id == citizen.id)
    session.execute(delete(HandoverMessage).where(HandoverMessage.handover_id.in_(handover_ids),
                                                  HandoverMessage.sender == "citizen"))
    session.execute(update(StaffThread).where(StaffThread.citizen_id == citizen.id, StaffThread.closed_at.is_(None))
                    .values(closed_at=utcnow(), closed_by="citizen"))
    session.execute(update(HandoverRequest).where(HandoverRequest.citizen_id == citizen.id)
                    .values(citizen_id=None, line_user_id=None, message=None))
    volunteer = get_volunteer(session, citizen.id)
    if volunteer is not None:
        session.delete(volunteer)
    for consent in session.scalars(select(Consent).where(Consent.citizen_id == citizen.id,
                                                         Consent.withdrawn_at.is_(None))):
        consent.withdrawn_at = utcnow()
    citizen.display_name = None
    citizen.language = None
    return counts
