"""Who did it, in words: the actor ids of history entries, notes and audits (``staff:4``, ``group:7``,
``api:bma-district:1001``, ``citizen``, ``system``) as staff read them, e.g. "สมศรี ใจดี, สำนักงานเขตบางกะปิ".

Staff never read an id where a name exists. A LINE group member registered as staff without a name is
"เจ้าหน้าที่ทาง LINE" of their agency, never their LINE user id.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import StaffMember, StaffUser
from storage.staff import agency_name

CITIZEN = "ประชาชน (ผู้ร้องเรียน)"
SYSTEM = "ระบบเสียง"
LINE_STAFF = "เจ้าหน้าที่ทาง LINE"
CONSOLE_STAFF = "เจ้าหน้าที่"
API = "ระบบของหน่วยงาน (API)"


def _ids(actors: Iterable[str], prefix: str) -> set[int]:
    found = set()
    for actor in actors:
        if actor and actor.startswith(prefix):
            try:
                found.add(int(actor[len(prefix):]))
            except ValueError:
                pass
    return found


def actor_names(session: Session, actors: Iterable[str | None]) -> dict[str, str]:
    """Each distinct actor id to the words staff read; two queries whatever the number of actors."""
    actors = [a for a in dict.fromkeys(actors) if a]
    users = {u.id: u for u in session.scalars(select(StaffUser).where(StaffUser.id.in_(_ids(actors, "staff:"))))}
    members = {m.id: m for m in session.scalars(select(StaffMember).where(StaffMember.id.in_(_ids(actors, "group:"))))}
    names = {}
    for actor in actors:
        names[actor] = _name(session, actor, users, members)
    return names


def actor_name(session: Session, actor: str | None) -> str:
    return actor_names(session, [actor]).get(actor or "", SYSTEM)


def _with_agency(session: Session, person: str, agency_id: str | None) -> str:
    agency = agency_name(session, agency_id) if agency_id else None
    return f"{person}, {agency}" if agency else person


def _name(session: Session, actor: str, users: dict, members: dict) -> str:
    kind, _, rest = actor.partition(":")
    if kind == "staff":
        user = users.get(int(rest)) if rest.isdigit() else None
        return _with_agency(session, user.display_name, user.agency_id) if user else CONSOLE_STAFF
    if kind == "group":
        member = members.get(int(rest)) if rest.isdigit() else None
        if member is None:
            return LINE_STAFF
        return _with_agency(session, member.display_name or LINE_STAFF, member.agency_id)
    if kind == "api":
        if rest.startswith("open311"):
            return "Open311 (ระบบภายนอก)"
        agency = agency_name(session, rest)
        return f"ระบบของ{agency} (API)" if agency else API
    if kind == "citizen":
        return CITIZEN
    if kind == "system":
        return SYSTEM
    if kind == "line":
        return LINE_STAFF
    return actor if kind in ("", "anonymous") else SYSTEM


def actor_agency(session: Session, actor: str | None) -> str | None:
    """The agency an actor acted for (None for citizens and the system)."""
    if not actor:
        return None
    kind, _, rest = actor.partition(":")
    if kind == "staff" and rest.isdigit():
        user = session.get(StaffUser, int(rest))
        return user.agency_id if user else None
    if kind == "group" and rest.isdigit():
        member = session.get(StaffMember, int(rest))
        return member.agency_id if member else None
    if kind == "api" and not rest.startswith("open311"):
        return rest or None
    return None
