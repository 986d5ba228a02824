"""The announcement service: the one way staff pages (and tests, and the CLI) change an announcement.

Every state change is audited. Publishing only marks the announcement due; the fan-out job
(``bot.announcements.fanout``) computes the audience when it actually runs.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from bot.announcements import compose
from bot.announcements.compose import Draft
from bot.services import Services
from storage import announcements as repo
from storage import outbox
from storage.models import Announcement, utcnow

TIMEZONE = "Asia/Bangkok"


class AnnouncementError(ValueError):
    """The request cannot be done; ``problems`` are sentences for staff."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def known_provinces() -> set[str]:
    from bot import places  # the one province list

    return set(places.province_names().values())


def create(services: Services, draft: Draft, actor: str) -> int:
    problems = compose.validate(draft, known_provinces())
    if problems:
        raise AnnouncementError(problems)
    topics, provinces = compose.audience_lists(draft)
    with services.transaction() as session:
        row = Announcement(title=draft.title.strip(), text=draft.text.strip(), image_url=draft.image_url or None,
                           link_url=draft.link_url or None, topics=topics, provinces=provinces,
                           everyone=draft.everyone, status="draft", created_by=actor)
        session.add(row)
        session.flush()
        repo.audit(session, row.id, "created", actor)
        return row.id


def preview(services: Services, announcement_id: int) -> list[dict]:
    """The message objects exactly as every recipient will get them."""
    with services.transaction() as session:
        return compose.messages_of(_get(session, announcement_id))


def estimate_audience(services: Services, announcement_id: int) -> int:
    with services.transaction() as session:
        row = _get(session, announcement_id)
        return repo.audience_size(session, json.loads(row.topics), json.loads(row.provinces), row.everyone)


def send_test(services: Services, announcement_id: int, line_user_id: str, actor: str) -> int:
    """Push the announcement to one staff member's own LINE account (through the outbox, like everything)."""
    with services.transaction() as session:
        row = _get(session, announcement_id)
        message = outbox.add_message(session, kind="push", recipient=line_user_id, messages=compose.messages_of(row))
        repo.audit(session, row.id, "test_sent", actor, to=line_user_id)
        outbox_id = message.id
        services.after_commit(session, "deliver_outbox", outbox_id)
    return outbox_id


def publish(services: Services, announcement_id: int, actor: str, at: datetime | None = None) -> None:
    """Send now (``at`` None) or at ``at``; only a draft (or a scheduled one, to move it) can be published."""
    now = utcnow()
    if at is not None and at.tzinfo is None:
        raise AnnouncementError(["scheduled time needs a time zone"])
    if at is not None:
        at = at.astimezone(timezone.utc)  # stored in UTC: SQLite keeps no offset
    with services.transaction() as session:
        row = _get(session, announcement_id, lock=True)
        if row.status not in ("draft", "scheduled"):
            raise AnnouncementError([f"announcement is {row.status}"])
        row.status, row.scheduled_at = "scheduled", max(at, now) if at else now
        row.published_by, row.published_at = actor, now
        repo.audit(session, row.id, "published", actor, scheduled_at=row.scheduled_at.isoformat())
        if at is None or at <= now:
            services.after_commit(session, "publish_announcement", announcement_id)


def cancel(services: Services, announcement_id: int, actor: str, wait_seconds: float | None = None) -> int:
    """Cancel; returns once no request of it is in flight at LINE (or after ``wait_seconds``), so that
    nobody gets it after the cancellation is acknowledged. Returns the requests still in flight (normally 0)."""
    with services.transaction() as session:
        if not repo.cancel(session, announcement_id, actor):
            raise AnnouncementError(["announcement cannot be cancelled now"])
        repo.audit(session, announcement_id, "cancelled", actor)
    if wait_seconds is None:
        wait_seconds = services.settings.line_timeout_seconds + 2
    deadline = time.monotonic() + wait_seconds
    while True:
        # A row that was in flight and failed retryably goes back to "pending": withdraw it too.
        with services.transaction() as session:
            repo.withdraw_pending(session, announcement_id)
            busy = repo.in_flight(session, announcement_id)
        if busy == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    with services.transaction() as session:
        row = _get(session, announcement_id)
        row.finished_at = row.finished_at or utcnow()
    return busy


def progress(services: Services, announcement_id: int) -> repo.Progress:
    with services.transaction() as session:
        row = _get(session, announcement_id)
        if row.status == "sending":
            repo.finish_if_done(session, announcement_id)
        return repo.progress(session, row)


def _get(session, announcement_id: int, lock: bool = False) -> Announcement:
    row = repo.get(session, announcement_id)
    if row is None:
        raise AnnouncementError([f"no announcement {announcement_id}"])
    return row
