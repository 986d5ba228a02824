"""Staff broadcasts to linked groups: chosen groups, or every group of a province or an agency.

A group push costs one message per member (LINE counts recipients, not requests), so a broadcast is
estimated first (members × groups) and refused when the month's remaining quota (LINE's quota and
consumption endpoints) is short. Sending writes one outbox push per group in one transaction, with a
delivery row each; the outbox's leases and retry keys then deliver each exactly once, whatever dies.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot import messages
from bot.groups.sending import push
from bot.places import resolve_province
from bot.services import Services
from storage import groups as store
from storage.models import ChatGroup, GroupBroadcast, GroupBroadcastDelivery, GroupLink, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    groups: tuple[str, ...] | None = None  # LINE group ids
    province: str | None = None  # a name or code; resolved to a code
    agency_id: str | None = None

    def to_json(self) -> str:
        return json.dumps({"groups": list(self.groups) if self.groups is not None else None,
                           "province": self.province, "agency": self.agency_id}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> "Target":
        data = json.loads(raw)
        return cls(tuple(data["groups"]) if data.get("groups") is not None else None, data.get("province"),
                   data.get("agency"))


@dataclass(frozen=True)
class Estimate:
    groups: int
    members: int  # the quota cost: every member of every group receives the push
    remaining: int | None  # None: the plan has no monthly limit

    @property
    def affordable(self) -> bool:
        return self.remaining is None or self.members <= self.remaining


class QuotaShort(Exception):
    def __init__(self, estimate: Estimate) -> None:
        super().__init__(f"broadcast needs {estimate.members} messages, {estimate.remaining} remain this month")
        self.estimate = estimate


def targets(session: Session, target: Target) -> list[tuple[GroupLink, ChatGroup]]:
    province = resolve_province(target.province) if target.province else None
    if target.province and province is None:
        raise ValueError(f"unknown province {target.province!r}")
    return store.linked_groups(session, group_line_ids=list(target.groups) if target.groups is not None else None,
                               province=province, agency_id=target.agency_id)


def remaining_quota(services: Services) -> int | None:
    api, timeout = services.line.api, services.line.timeout
    quota = api.get_message_quota(_request_timeout=timeout)
    if quota.type != "limited" or quota.value is None:
        return None
    used = api.get_message_quota_consumption(_request_timeout=timeout).total_usage or 0
    return max(0, quota.value - used)


def estimate(session: Session, services: Services, target: Target) -> Estimate:
    chosen = targets(session, target)
    return Estimate(len(chosen), sum(_members(group) for _, group in chosen), remaining_quota(services))


def create(session: Session, services: Services, *, text: str, created_by: str, target: Target,
           image_url: str | None = None, link_url: str | None = None,
           send_at: datetime | None = None) -> GroupBroadcast:
    """Record a broadcast and, unless scheduled for later, fan it out now (in the caller's transaction).

    Raises :class:`QuotaShort` (nothing recorded) when the month's remaining quota cannot cover it."""
    now = utcnow()
    cost = estimate(session, services, target)
    if not cost.affordable:
        raise QuotaShort(cost)
    message_list(text, image_url, link_url)  # refuse a bad message now, not at send time
    row = GroupBroadcast(text=text, image_url=image_url, link_url=link_url, target=target.to_json(),
                         status="scheduled", scheduled_at=send_at, estimated_cost=cost.members,
                         group_count=cost.groups, created_by=created_by, created_at=now)
    session.add(row)
    session.flush()
    if send_at is None or send_at <= now:
        store.claim_broadcast(session, row.id, now)
        _fan_out(session, row)
        session.refresh(row)
    return row


def send_due(services: Services, now: datetime) -> int:
    """Scheduled broadcasts whose time has come; the quota is checked again at sending time."""
    with services.transaction() as session:
        due = store.due_broadcasts(session, now)
    sent = 0
    for broadcast_id in due:
        with services.transaction() as session:
            row = session.get(GroupBroadcast, broadcast_id)
            cost = estimate(session, services, Target.from_json(row.target))
            if not store.claim_broadcast(session, broadcast_id, now):
                continue
            if not cost.affordable:
                row.status, row.refusal = "refused", str(QuotaShort(cost))[:300]
                continue
            _fan_out(session, row)
            sent += 1
    return sent


def message_list(text: str, image_url: str | None, link_url: str | None) -> list[dict]:
    body = text.strip()
    if link_url:
        body = f"{body}\n\n{messages.text('grp_broadcast_link', 'th', url=link_url)}"
    out = [messages.text_message(body)]
    if image_url:
        if not image_url.startswith("https://"):
            raise ValueError("LINE shows images from https URLs only")
        out.append({"type": "image", "originalContentUrl": image_url, "previewImageUrl": image_url})
    return out


def _fan_out(session: Session, row: GroupBroadcast) -> None:
    body = message_list(row.text, row.image_url, row.link_url)
    chosen = targets(session, Target.from_json(row.target))
    for link, group in chosen:
        outbox_row = push(session, group.line_id, body)
        session.add(GroupBroadcastDelivery(broadcast_id=row.id, group_id=group.id, group_line_id=group.line_id,
                                           member_count=_members(group), outbox_id=outbox_row.id))
    row.group_count = len(chosen)
    session.flush()
    log.info("group broadcast fanned out", extra={"count": len(chosen)})


def _members(group: ChatGroup) -> int:
    return group.member_count if group.member_count is not None else 1
