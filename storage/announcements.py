"""Repository of announcements and subscriptions: the audience query, the fan-out cursor, progress figures.

The audience is read in pages of citizen ids (keyset pagination: ``citizens.id > cursor ORDER BY id LIMIT n``,
each citizen checked with a probe of the partial index ``ix_subscriptions_audience``), so one page costs the
same at the start and at the end of millions of subscribers and nothing is ever loaded whole into memory; the
database hands each page over already cut into multicast-sized JSON arrays (``audience_chunks``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Text, and_, case, cast, func, insert, literal_column, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Announcement,
    AnnouncementAudit,
    AnnouncementBatch,
    Citizen,
    OutboxMessage,
    Subscription,
    utcnow,
)
from storage.models.announcements import ALL

# --- subscriptions ------------------------------------------------------------------------------------------


def subscriptions_of(session: Session, citizen_id: int) -> list[tuple[str, str]]:
    """The citizen's active (topic, province) pairs."""
    rows = session.execute(select(Subscription.topic, Subscription.province)
                           .where(Subscription.citizen_id == citizen_id, Subscription.active)
                           .order_by(Subscription.topic, Subscription.province))
    return [(topic, province) for topic, province in rows]


def set_subscriptions(session: Session, citizen_id: int, pairs: set[tuple[str, str]]) -> None:
    """Make exactly ``pairs`` active for the citizen (rows are kept and switched, never duplicated)."""
    now = utcnow()
    existing = {(s.topic, s.province): s for s in session.scalars(
        select(Subscription).where(Subscription.citizen_id == citizen_id))}
    for key, row in existing.items():
        wanted = key in pairs
        if row.active != wanted:
            row.active, row.updated_at = wanted, now
    for topic, province in pairs - existing.keys():
        session.add(Subscription(citizen_id=citizen_id, topic=topic, province=province, active=True,
                                 created_at=now, updated_at=now))
    session.flush()


def stop_all(session: Session, citizen_id: int) -> int:
    """Unfollow: every subscription of the citizen becomes inactive (following again asks again)."""
    return session.execute(update(Subscription)
                           .where(Subscription.citizen_id == citizen_id, Subscription.active)
                           .values(active=False, updated_at=utcnow())
                           .execution_options(synchronize_session=False)).rowcount


# --- the audience ---------------------------------------------------------------------------------------------


def _matches(topics: list[str], provinces: list[str]):
    """A subscription matches an announcement when its topic is one of the announcement's (or "all") and,
    unless the announcement is for every province, its province is one of them (or "all")."""
    condition = and_(Subscription.active, Subscription.topic.in_([*topics, ALL]))
    if ALL not in provinces:
        condition = and_(condition, Subscription.province.in_([*provinces, ALL]))
    return condition


def _subscribed(topics: list[str], provinces: list[str], after_citizen_id: int | None = None):
    """The citizen (of the outer query) has a matching active subscription: a probe of the audience index.

    ``after_citizen_id`` repeats the page's cursor on the subscriptions side. It changes no result, but the
    statement is prepared (psycopg does so after a few runs) and the generic plan merge-joins the two indexes:
    without the bound it read the subscriptions index from its start on every page (0.1 s per page in the
    middle of a million, quadratic over the fan-out); with it both sides start at the cursor (2 ms)."""
    condition = and_(Subscription.citizen_id == Citizen.id, _matches(topics, provinces))
    if after_citizen_id is not None:
        condition = and_(condition, Subscription.citizen_id > after_citizen_id)
    return select(Subscription.id).where(condition).exists()


def audience_size(session: Session, topics: list[str], provinces: list[str], everyone: bool = False) -> int:
    """Active citizens with at least one matching subscription (each counted once)."""
    if everyone:
        return session.scalar(select(func.count()).select_from(Citizen).where(Citizen.active)) or 0
    return session.scalar(select(func.count()).select_from(Citizen)
                          .where(Citizen.active, _subscribed(topics, provinces))) or 0


@dataclass(frozen=True)
class AudienceChunk:
    """Up to one multicast's worth of the audience: their LINE user ids as a JSON array (built by the
    database), how many, and the last citizen id among them (the cursor after this chunk)."""

    recipients_json: str
    count: int
    last_citizen_id: int


def audience_chunks(session: Session, topics: list[str], provinces: list[str], after_citizen_id: int,
                    chunk: int, chunks: int) -> list[AudienceChunk]:
    """The next ``chunk * chunks`` active citizens with a matching subscription after the cursor, in
    citizen-id order, cut into ``chunk``-sized pieces; empty when the audience is exhausted.

    One statement with a walk of the citizens' primary key and an index probe per citizen; the database
    numbers the rows, groups them by piece and builds each piece's JSON array of user ids. (Fetching the ids
    row by row and encoding them in Python cost a worker about 1 ms per 500 recipients, and selecting the ids
    first and then their LINE ids with ``IN (…500 ids…)`` cost more than that again.)"""
    piece = literal_column(f"(row_number() OVER (ORDER BY citizens.id) - 1) / {int(chunk)}")  # integer division
    page = (select(Citizen.id.label("citizen_id"), Citizen.line_user_id.label("user_id"), piece.label("piece"))
            .where(Citizen.id > after_citizen_id, Citizen.active, _subscribed(topics, provinces, after_citizen_id))
            .order_by(Citizen.id).limit(chunk * chunks).subquery())
    if session.get_bind().dialect.name == "postgresql":
        as_json = cast(func.json_agg(page.c.user_id), Text)
    else:
        as_json = func.json_group_array(page.c.user_id)
    rows = session.connection().execute(
        select(as_json, func.count(), func.max(page.c.citizen_id))
        .group_by(page.c.piece).order_by(page.c.piece)).all()
    return [AudienceChunk(recipients, count, last) for recipients, count, last in rows]


# --- announcements --------------------------------------------------------------------------------------------


def get(session: Session, announcement_id: int) -> Announcement | None:
    return session.get(Announcement, announcement_id)


def recent(session: Session, limit: int = 50) -> list[Announcement]:
    return list(session.scalars(select(Announcement).order_by(Announcement.id.desc()).limit(limit)))


def audit(session: Session, announcement_id: int, action: str, actor: str, **details) -> None:
    session.add(AnnouncementAudit(announcement_id=announcement_id, action=action, actor=actor,
                                  details=json.dumps(details, ensure_ascii=False, default=str) if details else None))


def history(session: Session, announcement_id: int) -> list[AnnouncementAudit]:
    return list(session.scalars(select(AnnouncementAudit).where(AnnouncementAudit.announcement_id == announcement_id)
                                .order_by(AnnouncementAudit.id)))


def claim_fanout(session: Session, announcement_id: int, lease_seconds: float) -> str | None:
    """Take the fan-out of a due announcement (or of one whose previous worker died); None if not ours."""
    now = utcnow()
    token = str(uuid.uuid4())
    result = session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id,
               Announcement.status.in_(("scheduled", "sending")),
               Announcement.fanned_out_at.is_(None),
               Announcement.scheduled_at <= now,
               or_(Announcement.lease_token.is_(None), Announcement.lease_expires_at < now))
        .values(status="sending", lease_token=token, lease_expires_at=now + timedelta(seconds=lease_seconds),
                started_at=func.coalesce(Announcement.started_at, now))
        .execution_options(synchronize_session=False))
    return token if result.rowcount == 1 else None


def renew_fanout(session: Session, announcement_id: int, token: str, lease_seconds: float) -> bool:
    """Extend our fan-out lease while the fan-out waits for delivery to catch up; False if it is no longer
    ours to write (cancelled, or the lease was taken over)."""
    return session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.lease_token == token,
               Announcement.status == "sending")
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)).rowcount == 1


def lock_for_chunk(session: Session, announcement_id: int, token: str) -> Announcement | None:
    """The announcement, row-locked, if our lease still holds and it was not cancelled meanwhile.

    The lock (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE) serialises a chunk with ``cancel``: a
    cancel either commits before the chunk (which then writes nothing) or waits for it."""
    return session.scalar(select(Announcement)
                          .where(Announcement.id == announcement_id, Announcement.lease_token == token,
                                 Announcement.status == "sending")
                          .with_for_update().execution_options(populate_existing=True))


def add_batch(session: Session, announcement: Announcement, outbox_id: int, recipients: int,
              first_citizen_id: int, last_citizen_id: int) -> None:
    announcement.batches += 1
    announcement.queued += recipients
    session.add(AnnouncementBatch(announcement_id=announcement.id, seq=announcement.batches, outbox_id=outbox_id,
                                  recipients=recipients, first_citizen_id=first_citizen_id,
                                  last_citizen_id=last_citizen_id))


def add_batches(session: Session, announcement: Announcement,
                batches: list[tuple[int, int, int, int]]) -> None:
    """Record outbox rows of the announcement: ``(outbox id, recipients, first citizen id, last citizen id)``
    each, in fan-out order, in one multi-row INSERT (the announcement's counters move once)."""
    if not batches:
        return
    first_seq = announcement.batches + 1
    session.connection().execute(insert(AnnouncementBatch.__table__), [
        {"announcement_id": announcement.id, "seq": first_seq + n, "outbox_id": outbox_id, "recipients": count,
         "first_citizen_id": first, "last_citizen_id": last, "created_at": utcnow()}
        for n, (outbox_id, count, first, last) in enumerate(batches)])
    announcement.batches += len(batches)
    announcement.queued += sum(count for _, count, _, _ in batches)


def release(session: Session, announcement_id: int, token: str) -> None:
    session.execute(update(Announcement).where(Announcement.id == announcement_id, Announcement.lease_token == token)
                    .values(lease_token=None, lease_expires_at=None).execution_options(synchronize_session=False))


def cancel(session: Session, announcement_id: int, actor: str) -> bool:
    """Stop an announcement: no further chunk is written, and its outbox rows not yet taken are withdrawn."""
    announcement = session.scalar(select(Announcement).where(Announcement.id == announcement_id)
                                  .with_for_update().execution_options(populate_existing=True))
    if announcement is None or announcement.status not in ("draft", "scheduled", "sending"):
        return False
    announcement.status, announcement.cancelled_by, announcement.cancelled_at = "cancelled", actor, utcnow()
    withdraw_pending(session, announcement_id)
    return True


def withdraw_pending(session: Session, announcement_id: int) -> int:
    """Outbox rows of a cancelled announcement that no worker holds become ``cancelled`` (never claimed)."""
    batch_rows = select(AnnouncementBatch.outbox_id).where(AnnouncementBatch.announcement_id == announcement_id)
    return session.execute(update(OutboxMessage)
                           .where(OutboxMessage.id.in_(batch_rows), OutboxMessage.status == "pending")
                           .values(status="cancelled", last_error="announcement cancelled")
                           .execution_options(synchronize_session=False)).rowcount


def in_flight(session: Session, announcement_id: int) -> int:
    batch_rows = select(AnnouncementBatch.outbox_id).where(AnnouncementBatch.announcement_id == announcement_id)
    return session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.id.in_(batch_rows), OutboxMessage.status == "sending")) or 0


def due(session: Session, limit: int = 100) -> list[int]:
    """Announcements whose fan-out should run now: scheduled and due, or sending with no live worker."""
    now = utcnow()
    scheduled = and_(Announcement.status == "scheduled", Announcement.scheduled_at <= now)
    orphaned = and_(Announcement.status == "sending", Announcement.fanned_out_at.is_(None),
                    or_(Announcement.lease_token.is_(None), Announcement.lease_expires_at < now))
    return list(session.scalars(select(Announcement.id).where(or_(scheduled, orphaned))
                                .order_by(Announcement.id).limit(limit)))


def fanned_out_unfinished(session: Session, limit: int = 100) -> list[int]:
    return list(session.scalars(select(Announcement.id)
                                .where(Announcement.status == "sending", Announcement.fanned_out_at.is_not(None))
                                .order_by(Announcement.id).limit(limit)))


# --- progress -------------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """What staff see while an announcement goes out (recipients, not requests)."""

    status: str
    audience: int | None
    queued: int
    batches: int
    delivered: int = 0  # accepted by LINE (2xx, or 409: accepted earlier)
    waiting: int = 0  # in outbox rows not yet accepted (pending or being sent)
    failed: int = 0
    cancelled: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # reason -> recipients
    quota_used: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_sent_at: datetime | None = None
    audience_seconds: float | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or self.last_sent_at or utcnow()
        return max(0.0, (end - self.started_at).total_seconds())


def progress(session: Session, announcement: Announcement) -> Progress:
    state = case((OutboxMessage.status == "sent", "delivered"),
                 (OutboxMessage.status == "failed", "failed"),
                 (OutboxMessage.status == "cancelled", "cancelled"), else_="waiting")
    reason = case((OutboxMessage.status == "failed", OutboxMessage.last_error), else_=None)
    rows = session.execute(
        select(state, reason, func.sum(AnnouncementBatch.recipients), func.max(OutboxMessage.sent_at),
               func.max(OutboxMessage.kind))
        .join(OutboxMessage, OutboxMessage.id == AnnouncementBatch.outbox_id)
        .where(AnnouncementBatch.announcement_id == announcement.id)
        .group_by(state, reason))
    result = Progress(status=announcement.status, audience=announcement.audience, queued=announcement.queued,
                      batches=announcement.batches, started_at=announcement.started_at,
                      finished_at=announcement.finished_at, audience_seconds=announcement.audience_seconds)
    for bucket, why, recipients, last_sent, _ in rows:
        recipients = int(recipients or 0)
        setattr(result, bucket, getattr(result, bucket) + recipients)
        if bucket == "failed":
            key = (why or "failed")[:200]
            result.failures[key] = result.failures.get(key, 0) + recipients
        if last_sent is not None and (result.last_sent_at is None or last_sent > result.last_sent_at):
            result.last_sent_at = last_sent
    # LINE counts one message per recipient person reached (blocked friends are not counted), so this is the
    # most the announcement can have used of the monthly quota.
    result.quota_used = result.delivered
    return result


def finish_if_done(session: Session, announcement_id: int) -> bool:
    """Close an announcement whose chunks are all written and all settled (sent, failed or withdrawn)."""
    announcement = session.scalar(select(Announcement).where(Announcement.id == announcement_id)
                                  .with_for_update().execution_options(populate_existing=True))
    if announcement is None or announcement.status != "sending" or announcement.fanned_out_at is None:
        return False
    figures = progress(session, announcement)
    if figures.waiting:
        return False
    announcement.status = "sent"
    announcement.finished_at = figures.last_sent_at or utcnow()
    return True
