"""The daily digest of a linked group: its open cases and those past their target time.

Each link has its own time of day (``GroupLink.digest_time``, Asia/Bangkok, "08:00" unless changed; None
turns it off). The first check at or after that time sends it, once per Bangkok day.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import messages
from bot.casework.states import OPEN_STATES
from bot.groups.cards import in_scope
from bot.groups.sending import push
from bot.messages.ticket_cards import status_label, thai_date
from bot.services import Services
from storage import groups as store
from storage.models import Case, GroupLink
from storage.models.core import BANGKOK

MAX_LISTED = 10


def send_due(services: Services, now: datetime) -> int:
    local = now.astimezone(BANGKOK)
    day, clock = local.date().isoformat(), local.strftime("%H:%M")
    with services.transaction() as session:
        due = [link.id for link in store.digest_links(session)
               if link.digest_time and link.digest_time <= clock and link.last_digest_on != day]
    sent = 0
    for link_id in due:
        with services.transaction() as session:
            if store.claim_digest(session, link_id, day):
                link = session.get(GroupLink, link_id)
                push(session, link.group_line_id, [messages.text_message(digest_text(session, link, now))])
                sent += 1
    return sent


def digest_text(session: Session, link: GroupLink, now: datetime) -> str:
    cases = [case for case in session.scalars(select(Case).where(Case.status.in_(OPEN_STATES)).order_by(Case.id))
             if in_scope(link, case)]
    overdue = [case for case in cases if case.target_due_at is not None and case.target_due_at < now]
    lines = [messages.text("grp_digest", "th", date=thai_date(now, "th"), open=len(cases), overdue=len(overdue))]
    for case in overdue[:MAX_LISTED]:
        days = max(1, (now - case.target_due_at).days)
        lines.append(messages.text("grp_digest_overdue_line", "th", ticket=case.ticket,
                                   status=status_label(case.status, "th"), days=days))
    return "\n".join(lines)
