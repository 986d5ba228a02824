"""Builders of the rows tests start from: citizens, staff accounts and cases.

Cases are filed through the case service (``bot.casework.file_case``), as chat files them: routed, numbered and
given their target, so a test starts from a real case, and a change to filing is made here once, not in every
test file. A builder sets only what it is given (a case gets a description and a category of its own): what a
test relies on, it passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Any

from sqlalchemy.orm import Session

from bot.casework import CaseDraft, file_case
from storage import people
from storage import staff as staff_store
from storage.models import Case, Citizen, StaffUser

UNUSABLE_PASSWORD = "!"  # no password hashes to it: for accounts a test never signs in with

CASE = {"description": "ถนนหน้าบ้านเป็นหลุม", "category": "ถนน"}

POTHOLE = {"description": "ถนนหน้าบ้านเป็นหลุมใหญ่ โทร 0812345678", "category": "ถนน", "agency_id": "bma",
           "province": "กรุงเทพมหานคร", "phone": "0812345678", "target_days": 15, "latitude": 13.7563,
           "longitude": 100.5018}
"""The console's usual case: a located Bangkok pothole with the citizen's phone number in its text (masking)."""

_line_ids = count(1)


def new_line_user_id() -> str:
    """A LINE user id of the right shape, different in each call."""
    return f"U{next(_line_ids):032x}"


def citizen(session: Session, line_user_id: str | None = None, *, language: str | None = None,
            display_name: str | None = None) -> Citizen:
    """The citizen of ``line_user_id`` (a new one by default), as a first message makes them."""
    row = people.touch_citizen(session, line_user_id or new_line_user_id())
    if language is not None:
        row.language = language
    if display_name is not None:
        row.display_name = display_name
    return row


def case(session: Session, by: Citizen | None = None, *, now: datetime | None = None, **fields: Any) -> Case:
    """A case filed by ``by`` (none: filed without a citizen, as Open311 may); ``fields`` are the draft's."""
    return file_case(session, CaseDraft(**{**CASE, **fields}), by.id if by else None, now=now)


@dataclass(frozen=True)
class Filed:
    """A case filed and committed: what a test needs of it once its transaction is over."""

    id: int
    ticket: str
    citizen_id: int | None


def filed(services, line_user_id: str | None = None, *, language: str | None = None, display_name: str | None = None,
          now: datetime | None = None, **fields: Any) -> Filed:
    """A case filed in its own transaction, by the citizen of ``line_user_id`` if one is given."""
    with services.transaction() as session:
        by = citizen(session, line_user_id, language=language, display_name=display_name) if line_user_id else None
        row = case(session, by, now=now, **fields)
        return Filed(row.id, row.ticket, row.citizen_id)


def console_case(services, line_user_id: str | None = None, *, display_name: str = "สมชาย ใจดี", now: datetime | None = None,
            **fields: Any) -> str:
    """The console's usual case (:data:`POTHOLE`, ``fields`` over it), filed by a citizen named ``display_name``
    if ``line_user_id`` is given; returns its ticket."""
    return filed(services, line_user_id, display_name=display_name if line_user_id else None, now=now,
                 **{**POTHOLE, **fields}).ticket


def staff(session: Session, username: str, role: str = "agency_staff", agency_id: str | None = None, *,
          password_hash: str = UNUSABLE_PASSWORD, provinces: str | None = None,
          totp_secret: str | None = None) -> StaffUser:
    """A staff account named คุณ<username>."""
    user = staff_store.add_staff(session, username=username, display_name=f"คุณ{username}",
                                 password_hash=password_hash, role=role, agency_id=agency_id, provinces=provinces)
    user.totp_secret = totp_secret
    return user
