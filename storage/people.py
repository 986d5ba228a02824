"""Citizens and the groups the bot is in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ChatGroup, Citizen, InboxEvent, utcnow

PROFILE_EVENTS = ("follow", "message", "postback")  # a citizen who blocked the bot (unfollow) has no profile


def get_citizen(session: Session, line_user_id: str) -> Citizen | None:
    return session.scalar(select(Citizen).where(Citizen.line_user_id == line_user_id))


def profile_wanted(session: Session, event_id: int) -> str | None:
    """The LINE user whose profile the event's handler will want: the user of a one-to-one chat whom we
    have not asked LINE about yet (new, or their earlier fetch failed)."""
    event = session.execute(select(InboxEvent.user_id, InboxEvent.chat_id, InboxEvent.event_type)
                            .where(InboxEvent.id == event_id)).one_or_none()
    if event is None or not event.user_id or event.chat_id != event.user_id or event.event_type not in PROFILE_EVENTS:
        return None
    known = session.execute(select(Citizen.profile_fetched_at).where(Citizen.line_user_id == event.user_id)).first()
    return event.user_id if known is None or known.profile_fetched_at is None else None


def touch_citizen(session: Session, line_user_id: str, active: bool | None = None) -> Citizen:
    """Fetch the citizen, creating them on first contact, and record that we have seen them now."""
    citizen = get_citizen(session, line_user_id)
    if citizen is None:
        citizen = Citizen(line_user_id=line_user_id, active=True if active is None else active)
        session.add(citizen)
    citizen.last_seen_at = utcnow()
    if active is not None:
        citizen.active = active
    session.flush()
    return citizen


def set_profile(citizen: Citizen, display_name: str | None, language: str | None) -> None:
    citizen.display_name = (display_name or "")[:200] or None
    citizen.language = (language or "")[:16] or None
    citizen.profile_fetched_at = utcnow()


def get_group(session: Session, line_id: str) -> ChatGroup | None:
    return session.scalar(select(ChatGroup).where(ChatGroup.line_id == line_id))


def group_joined(session: Session, line_id: str, kind: str) -> ChatGroup:
    group = get_group(session, line_id)
    if group is None:
        group = ChatGroup(line_id=line_id, kind=kind)
        session.add(group)
    group.active = True
    group.joined_at = utcnow()
    group.left_at = None
    group.updated_at = utcnow()
    session.flush()
    return group


def group_left(session: Session, line_id: str) -> ChatGroup | None:
    group = get_group(session, line_id)
    if group is not None:
        group.active = False
        group.left_at = utcnow()
        group.updated_at = utcnow()
    return group


def set_group_details(group: ChatGroup, name: str | None, member_count: int | None) -> None:
    if name is not None:
        group.name = name[:200]
    if member_count is not None:
        group.member_count = member_count
    group.updated_at = utcnow()
