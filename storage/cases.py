"""Case rows: ticket numbers, lookups, history."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import Case, CaseSupporter, Citizen, TicketCounter


def next_ticket_number(session: Session, prefix: str, year_be: int) -> int:
    """The next number of (prefix, year): dense and unique across processes.

    The counter row is created if missing (insert-or-ignore), then incremented with one UPDATE ... RETURNING,
    which row-locks on PostgreSQL and write-locks on SQLite, so two processes never get the same number.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(TicketCounter).values(prefix=prefix, year_be=year_be, last_number=0)
                    .on_conflict_do_nothing())
    return session.execute(
        update(TicketCounter)
        .where(TicketCounter.prefix == prefix, TicketCounter.year_be == year_be)
        .values(last_number=TicketCounter.last_number + 1)
        .returning(TicketCounter.last_number)
    ).scalar_one()


def get_by_ticket(session: Session, ticket: str) -> Case | None:
    return session.scalar(select(Case).where(Case.ticket == ticket.strip().upper()))


def for_citizen(session: Session, citizen_id: int, limit: int = 10) -> list[Case]:
    """The citizen's cases, newest first: those they filed and those they joined ("me too"), which they follow
    just the same."""
    joined = select(CaseSupporter.case_id).where(CaseSupporter.citizen_id == citizen_id)
    return list(session.scalars(select(Case).where(or_(Case.citizen_id == citizen_id, Case.id.in_(joined)))
                                .order_by(Case.id.desc()).limit(limit)))


def followers(session: Session, case: Case) -> list[Citizen]:
    """Who hears of the case's changes: its filer, then those who joined it ("me too"), in the order they came.

    Only citizens who can be reached: one who unfollowed (blocked) the OA is inactive, one whose data was
    deleted on request is no longer linked (the case and the supporter rows keep no citizen). Each once."""
    joined = (select(CaseSupporter.citizen_id)
              .where(CaseSupporter.case_id == case.id, CaseSupporter.citizen_id.is_not(None))
              .order_by(CaseSupporter.id))
    ids = list(dict.fromkeys([*([case.citizen_id] if case.citizen_id is not None else []),
                              *session.scalars(joined)]))
    if not ids:
        return []
    reachable = select(Citizen).where(Citizen.id.in_(ids), Citizen.active.is_(True))
    found = {citizen.id: citizen for citizen in session.scalars(reachable)}
    return [found[i] for i in ids if i in found]
