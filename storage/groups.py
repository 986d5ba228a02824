"""Repository of the groups area: link codes, group links, staff identities, case cards, audit, broadcasts.

Codes are redeemed with one conditional UPDATE, so a code works once even when two groups type it at the
same moment (on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    ChatGroup,
    GroupAction,
    GroupBroadcast,
    GroupCaseCard,
    GroupLink,
    GroupNoteRequest,
    LinkCode,
    StaffMember,
    utcnow,
)
from storage.models.core import BANGKOK

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: codes are read aloud and retyped
CODE_LENGTH = 8
DIGEST_TIME = "08:00"  # default daily digest time of a new link, Asia/Bangkok


# --- codes ------------------------------------------------------------------------------------------------

def create_code(session: Session, *, purpose: str, agency_id: str, provinces: list[str], created_by: str,
                ttl: timedelta, now: datetime | None = None) -> LinkCode:
    now = now or utcnow()
    row = LinkCode(code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)), purpose=purpose,
                   agency_id=agency_id, provinces=json.dumps(provinces), created_by=created_by,
                   created_at=now, expires_at=now + ttl)
    session.add(row)
    session.flush()
    return row


def redeem_code(session: Session, code: str, purpose: str, user_id: str | None, group_line_id: str,
                now: datetime | None = None) -> tuple[str, LinkCode | None]:
    """("ok", code) once; afterwards ("used", code); ("expired", code) or ("unknown", None) otherwise."""
    now = now or utcnow()
    code = code.strip().upper()
    row = session.scalar(select(LinkCode).where(LinkCode.code == code, LinkCode.purpose == purpose))
    if row is None:
        return "unknown", None
    if row.used_at is not None:
        return "used", row
    if row.expires_at <= now:
        return "expired", row
    taken = session.execute(
        update(LinkCode).where(LinkCode.id == row.id, LinkCode.used_at.is_(None))
        .values(used_at=now, used_by=user_id, used_in=group_line_id)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        return "used", row
    session.refresh(row)
    return "ok", row


# --- links ------------------------------------------------------------------------------------------------

def active_link(session: Session, group_line_id: str) -> GroupLink | None:
    return session.scalar(select(GroupLink).where(GroupLink.group_line_id == group_line_id, GroupLink.active)
                          .order_by(GroupLink.id.desc()).limit(1))


def link_group(session: Session, group: ChatGroup, agency_id: str, provinces: list[str], linked_by: str,
               code_id: int | None = None, now: datetime | None = None) -> GroupLink:
    """Link ``group``; a group serves one agency at a time, so an earlier link of it is ended."""
    now = now or utcnow()
    previous = active_link(session, group.line_id)
    if previous is not None:
        previous.active, previous.unlinked_at, previous.unlinked_by = False, now, linked_by
    local = now.astimezone(BANGKOK)
    link = GroupLink(group_id=group.id, group_line_id=group.line_id, agency_id=agency_id,
                     provinces=json.dumps(provinces), linked_by=linked_by, code_id=code_id, linked_at=now,
                     active=True, digest_time=DIGEST_TIME,
                     # linked after today's digest time: the first digest is tomorrow's, not one right away
                     last_digest_on=local.date().isoformat() if local.strftime("%H:%M") >= DIGEST_TIME else None)
    session.add(link)
    session.flush()
    return link


def unlink_group(session: Session, group_line_id: str, by: str, now: datetime | None = None) -> GroupLink | None:
    link = active_link(session, group_line_id)
    if link is not None:
        link.active, link.unlinked_at, link.unlinked_by = False, now or utcnow(), by
    return link


def provinces_of(link: GroupLink) -> list[str]:
    return list(json.loads(link.provinces or "[]"))


def links_for_case(session: Session, agency_id: str | None, province_code: str | None) -> list[GroupLink]:
    """Active links of groups in still-joined chats that serve the case's agency or cover its province."""
    rows = session.scalars(select(GroupLink).join(ChatGroup, ChatGroup.id == GroupLink.group_id)
                           .where(GroupLink.active, ChatGroup.active).order_by(GroupLink.id))
    return [link for link in rows
            if (agency_id and link.agency_id == agency_id) or (province_code and province_code in provinces_of(link))]


def linked_groups(session: Session, *, group_line_ids: list[str] | None = None, province: str | None = None,
                  agency_id: str | None = None) -> list[tuple[GroupLink, ChatGroup]]:
    """Targets of a broadcast: the chosen groups, or every linked group of a province or an agency."""
    query = (select(GroupLink, ChatGroup).join(ChatGroup, ChatGroup.id == GroupLink.group_id)
             .where(GroupLink.active, ChatGroup.active).order_by(GroupLink.id))
    if group_line_ids is not None:
        query = query.where(GroupLink.group_line_id.in_(group_line_ids))
    if agency_id is not None:
        query = query.where(GroupLink.agency_id == agency_id)
    rows = [(link, group) for link, group in session.execute(query).all()]
    if province is not None:
        rows = [(link, group) for link, group in rows
                if province in provinces_of(link) or link.agency_id.endswith(f":{province}")]
    return rows


# --- staff ------------------------------------------------------------------------------------------------

def staff_member(session: Session, line_user_id: str | None, agency_id: str) -> StaffMember | None:
    if not line_user_id:
        return None
    return session.scalar(select(StaffMember).where(StaffMember.line_user_id == line_user_id,
                                                    StaffMember.agency_id == agency_id, StaffMember.active))


def register_staff(session: Session, line_user_id: str, agency_id: str, registered_by: str,
                   display_name: str | None = None) -> StaffMember:
    row = session.scalar(select(StaffMember).where(StaffMember.line_user_id == line_user_id,
                                                   StaffMember.agency_id == agency_id))
    if row is None:
        row = StaffMember(line_user_id=line_user_id, agency_id=agency_id, registered_by=registered_by)
        session.add(row)
    row.active = True
    if display_name:
        row.display_name = display_name[:200]
    session.flush()
    return row


# --- cards, audit, notes ----------------------------------------------------------------------------------

def add_card(session: Session, case_id: int, link: GroupLink, status: str, outbox_id: int) -> GroupCaseCard:
    card = GroupCaseCard(case_id=case_id, link_id=link.id, group_line_id=link.group_line_id, status=status,
                         outbox_id=outbox_id)
    session.add(card)
    return card


def cards_of(session: Session, case_id: int) -> list[GroupCaseCard]:
    return list(session.scalars(select(GroupCaseCard).where(GroupCaseCard.case_id == case_id)
                                .order_by(GroupCaseCard.id)))


def audit(session: Session, *, group_line_id: str, line_user_id: str | None, action: str, outcome: str,
          case_id: int | None = None, staff: StaffMember | None = None, from_status: str | None = None,
          to_status: str | None = None, detail: str | None = None, inbox_event_id: int | None = None) -> None:
    session.add(GroupAction(case_id=case_id, group_line_id=group_line_id, line_user_id=line_user_id,
                            staff_member_id=staff.id if staff else None, action=action, outcome=outcome,
                            from_status=from_status, to_status=to_status, detail=detail,
                            inbox_event_id=inbox_event_id, at=utcnow()))


def open_note_request(session: Session, case_id: int, group_line_id: str, line_user_id: str,
                      from_status: str) -> GroupNoteRequest:
    for waiting in session.scalars(select(GroupNoteRequest).where(
            GroupNoteRequest.group_line_id == group_line_id, GroupNoteRequest.line_user_id == line_user_id,
            GroupNoteRequest.done_at.is_(None))):
        waiting.done_at = utcnow()  # a newer "resolved" press replaces an unanswered one
    row = GroupNoteRequest(case_id=case_id, group_line_id=group_line_id, line_user_id=line_user_id,
                           from_status=from_status)
    session.add(row)
    session.flush()
    return row


def waiting_note(session: Session, group_line_id: str, line_user_id: str | None,
                 since: datetime) -> GroupNoteRequest | None:
    if not line_user_id:
        return None
    return session.scalar(select(GroupNoteRequest).where(
        GroupNoteRequest.group_line_id == group_line_id, GroupNoteRequest.line_user_id == line_user_id,
        GroupNoteRequest.done_at.is_(None), GroupNoteRequest.created_at >= since)
        .order_by(GroupNoteRequest.id.desc()).limit(1))


# --- broadcasts and digests -------------------------------------------------------------------------------

def due_broadcasts(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(GroupBroadcast.id).where(
        GroupBroadcast.status == "scheduled",
        or_(GroupBroadcast.scheduled_at.is_(None), GroupBroadcast.scheduled_at <= now)).limit(20)))


def claim_broadcast(session: Session, broadcast_id: int, now: datetime) -> bool:
    """Take a scheduled broadcast for fan-out; the caller's transaction commits the claim with the rows."""
    return session.execute(
        update(GroupBroadcast).where(GroupBroadcast.id == broadcast_id, GroupBroadcast.status == "scheduled")
        .values(status="sent", fanned_out_at=now).execution_options(synchronize_session=False)).rowcount == 1


def claim_digest(session: Session, link_id: int, day: str) -> bool:
    """Mark today's digest of a link as sent; True for the one caller that did it."""
    return session.execute(
        update(GroupLink).where(GroupLink.id == link_id, GroupLink.active,
                                or_(GroupLink.last_digest_on.is_(None), GroupLink.last_digest_on != day))
        .values(last_digest_on=day).execution_options(synchronize_session=False)).rowcount == 1


def digest_links(session: Session) -> list[GroupLink]:
    return list(session.scalars(select(GroupLink).join(ChatGroup, ChatGroup.id == GroupLink.group_id)
                                .where(GroupLink.active, ChatGroup.active, GroupLink.digest_time.is_not(None))))
