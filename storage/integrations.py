"""Repository of the integrations area: case references, the API's idempotent intake, webhook registrations
and their deliveries (outbox rows of kind ``webhook`` to the recipient ``webhook:<registration id>``, so
they are claimed, retried and logged like every message to LINE, in order per registration)."""

from __future__ import annotations

import json
import secrets
import uuid

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import (
    ApiCaseIntake, Case, CaseReference, OutboxMessage, WebhookRegistration, utcnow,
)
from storage.models.integrations import REFERENCE_KINDS

WEBHOOK_KIND = "webhook"
RECIPIENT_PREFIX = "webhook:"


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- references -------------------------------------------------------------------------------------------

def add_reference(session: Session, case_id: int, kind: str, value: str, added_by: str) -> CaseReference | None:
    """Record another channel's number on a case; the same (kind, value) twice is kept once. Returns the row,
    or None when it was there already."""
    kind, value = kind.strip().lower(), " ".join(value.split())
    if kind not in REFERENCE_KINDS:
        raise ValueError(f"unknown reference kind {kind!r} (one of {', '.join(REFERENCE_KINDS)})")
    if not value or len(value) > 120:
        raise ValueError("a reference is 1 to 120 characters")
    existing = session.scalar(select(CaseReference).where(CaseReference.case_id == case_id,
                                                          CaseReference.kind == kind, CaseReference.value == value))
    if existing is not None:
        return None
    row = CaseReference(case_id=case_id, kind=kind, value=value, added_by=added_by, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def remove_reference(session: Session, case_id: int, reference_id: int) -> CaseReference | None:
    row = session.get(CaseReference, reference_id)
    if row is None or row.case_id != case_id:
        return None
    session.delete(row)
    session.flush()
    return row


def references_of(session: Session, case_id: int) -> list[CaseReference]:
    return list(session.scalars(select(CaseReference).where(CaseReference.case_id == case_id)
                                .order_by(CaseReference.id)))


def cases_with_reference(value: str):
    """A subquery of the ids of cases carrying ``value`` (exact, or as the start of a longer number)."""
    value = " ".join(value.split())
    like = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return select(CaseReference.case_id).where(or_(CaseReference.value == value,
                                                   CaseReference.value.ilike(like, escape="\\")))


# --- intake -----------------------------------------------------------------------------------------------

def intake_case(session: Session, agency_id: str, client_ticket_id: str) -> Case | None:
    case_id = session.scalar(select(ApiCaseIntake.case_id).where(ApiCaseIntake.agency_id == agency_id,
                                                                 ApiCaseIntake.client_ticket_id == client_ticket_id))
    return session.get(Case, case_id) if case_id is not None else None


def claim_intake(session: Session, agency_id: str, client_ticket_id: str, case_id: int,
                 api_key_id: int | None) -> bool:
    """Tie ``client_ticket_id`` to the case just filed; False when another request took it first (the
    caller rolls back and answers with that request's case). One INSERT … ON CONFLICT DO NOTHING: a
    concurrent twin waits on the unique index (PostgreSQL) or on the write lock (SQLite)."""
    inserted = session.execute(
        _insert(session)(ApiCaseIntake).values(agency_id=agency_id, client_ticket_id=client_ticket_id,
                                               case_id=case_id, api_key_id=api_key_id, created_at=utcnow())
        .on_conflict_do_nothing().returning(ApiCaseIntake.id)).scalar()
    return inserted is not None


# --- webhook registrations --------------------------------------------------------------------------------

def add_registration(session: Session, *, name: str, url: str, events: list[str], agency_id: str | None,
                     api_key_id: int | None, created_by: str) -> WebhookRegistration:
    row = WebhookRegistration(name=name[:200], url=url, secret=secrets.token_hex(32), agency_id=agency_id,
                              api_key_id=api_key_id, events=",".join(events), active=True,
                              created_by=created_by, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def registrations(session: Session, agency_id: str | None = None, *, everyone: bool = False,
                  api_key_id: int | None = None) -> list[WebhookRegistration]:
    """Active registrations: all of them (``everyone``), those of one agency, or those of one API key."""
    query = select(WebhookRegistration).where(WebhookRegistration.active.is_(True))
    if api_key_id is not None:
        query = query.where(WebhookRegistration.api_key_id == api_key_id)
    elif not everyone:
        query = query.where(WebhookRegistration.agency_id == agency_id)
    return list(session.scalars(query.order_by(WebhookRegistration.id)))


def registrations_for_event(session: Session, agency_id: str | None, event: str) -> list[WebhookRegistration]:
    """Who hears of an event on a case of ``agency_id``: that agency's registrations and the all-cases ones."""
    rows = session.scalars(select(WebhookRegistration).where(
        WebhookRegistration.active.is_(True),
        or_(WebhookRegistration.agency_id.is_(None), WebhookRegistration.agency_id == agency_id))
        .order_by(WebhookRegistration.id))
    return [row for row in rows if event in row.events.split(",")]


def deactivate_registration(session: Session, registration_id: int) -> WebhookRegistration | None:
    row = session.get(WebhookRegistration, registration_id)
    if row is not None:
        row.active = False
    return row


def registration_of(row: OutboxMessage) -> int | None:
    if not row.recipient.startswith(RECIPIENT_PREFIX):
        return None
    try:
        return int(row.recipient[len(RECIPIENT_PREFIX):])
    except ValueError:
        return None


def add_delivery(session: Session, registration_id: int, body: dict, case_id: int | None) -> OutboxMessage:
    """One webhook POST waiting in the outbox: the JSON body exactly as it will be signed and sent, and its
    own retry key (the same on every attempt, so the receiver can drop a repeat)."""
    row = OutboxMessage(kind=WEBHOOK_KIND, recipient=f"{RECIPIENT_PREFIX}{registration_id}",
                        messages=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                        retry_key=str(uuid.uuid4()), case_id=case_id, status="pending", attempts=0,
                        next_attempt_at=utcnow(), notification_disabled=False)
    session.add(row)
    session.flush()
    return row


def deliveries(session: Session, registration_ids: list[int] | None, *, failures_only: bool = False,
               limit: int = 200) -> list[OutboxMessage]:
    """Webhook deliveries, newest first: of the given registrations (None: all)."""
    query = select(OutboxMessage).where(OutboxMessage.kind == WEBHOOK_KIND)
    if registration_ids is not None:
        query = query.where(OutboxMessage.recipient.in_([f"{RECIPIENT_PREFIX}{i}" for i in registration_ids]))
    if failures_only:
        query = query.where(or_(OutboxMessage.status == "failed", OutboxMessage.attempts > 1,
                                OutboxMessage.last_error.is_not(None)))
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))
