"""Repository functions of the staff console: accounts, sign-in attempts, API keys, audit, notes, corrections,
and seeding the editable agency/category catalogue from ``bot/data``."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import (
    Agency, ApiKey, AuditEntry, CaseNote, Category, CategoryCorrection, LoginAttempt, LoginCounter, StaffUser, utcnow,
)


# --- staff accounts ---------------------------------------------------------------------------------------

def staff_by_username(session: Session, username: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))


def add_staff(session: Session, *, username: str, display_name: str, password_hash: str, role: str,
              agency_id: str | None = None, provinces: str | None = None) -> StaffUser:
    user = StaffUser(username=username.strip().lower(), display_name=display_name, password_hash=password_hash,
                     role=role, agency_id=agency_id or None, provinces=provinces or None, active=True)
    session.add(user)
    session.flush()
    return user


def record_login_attempt(session: Session, username: str, address: str | None, success: bool) -> None:
    session.add(LoginAttempt(username=username.strip().lower()[:64], address=address, success=success))


def count_login_attempt(session: Session, key: str, window: timedelta, now: datetime | None = None) -> int:
    """Add one attempt to ``key``'s current window and return the window's count, in one statement.

    An upsert (PostgreSQL and SQLite alike): two concurrent sign-ins can never both read the same count and
    both pass, as a read-then-write would let them."""
    now = now or utcnow()
    expired = LoginCounter.window_started_at < now - window
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(LoginCounter).values(key=key[:160], window_started_at=now, attempts=1)
    statement = statement.on_conflict_do_update(index_elements=[LoginCounter.key], set_={
        "attempts": case((expired, 1), else_=LoginCounter.attempts + 1),
        "window_started_at": case((expired, now), else_=LoginCounter.window_started_at),
    }).returning(LoginCounter.attempts)
    return int(session.execute(statement).scalar_one())


def uncount_login_attempts(session: Session, key: str, attempts: int = 1) -> None:
    """Take back ``attempts`` (they succeeded), never below zero: other attempts of the window stay counted."""
    session.execute(update(LoginCounter).where(LoginCounter.key == key[:160]).values(
        attempts=case((LoginCounter.attempts > attempts, LoginCounter.attempts - attempts), else_=0)))


def forget_login_attempts(session: Session, key: str) -> None:
    session.execute(delete(LoginCounter).where(LoginCounter.key == key[:160]))


def accept_totp_step(session: Session, user_id: int, step: int) -> bool:
    """Record ``step`` as the account's last TOTP step if it is newer than the last one; False if a code of
    this step (or a later one) was already used, so a code seen over a shoulder cannot sign in again."""
    result = session.execute(update(StaffUser).where(
        StaffUser.id == user_id,
        (StaffUser.totp_last_step.is_(None)) | (StaffUser.totp_last_step < step),
    ).values(totp_last_step=step))
    return result.rowcount == 1


def end_sessions(session: Session, user_id: int) -> None:
    """End every console session of the account (its version no longer matches theirs)."""
    session.execute(update(StaffUser).where(StaffUser.id == user_id)
                    .values(session_version=StaffUser.session_version + 1))


# --- API keys ---------------------------------------------------------------------------------------------

def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, *, name: str, scope: str, agency_id: str | None,
                   created_by: str | None) -> tuple[ApiKey, str]:
    """A new key; the plain key is returned once and never stored."""
    if scope not in ("open311", "agency"):
        raise ValueError(f"unknown API key scope {scope!r}")
    if scope == "agency" and not agency_id:
        raise ValueError("an agency key needs its agency")
    plain = "sk_" + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=plain[:10], key_hash=_digest(plain), scope=scope, agency_id=agency_id,
                 active=True, created_by=created_by)
    session.add(row)
    session.flush()
    return row, plain


def api_key_for(session: Session, plain: str | None, scope: str) -> ApiKey | None:
    if not plain:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(plain.strip())))
    if row is None or not row.active or row.scope != scope:
        return None
    row.last_used_at = utcnow()
    return row


# --- audit, notes, corrections ----------------------------------------------------------------------------

def audit(session: Session, actor: str, action: str, target: str | None = None, details: dict | None = None,
          address: str | None = None) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, target=target, address=address,
                       details=json.dumps(details, ensure_ascii=False, default=str) if details else None)
    session.add(entry)
    return entry


def audit_entries(session: Session, *, actor: str | None = None, action: str | None = None, page: int = 1,
                  per_page: int = 50) -> list[AuditEntry]:
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    query = query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)
    return list(session.scalars(query))


def add_note(session: Session, case_id: int, author: str, text: str, kind: str = "note",
             agency_id: str | None = None) -> CaseNote:
    note = CaseNote(case_id=case_id, author=author, text=text, kind=kind, agency_id=agency_id)
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, case_id: int) -> list[CaseNote]:
    return list(session.scalars(select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id)))


def add_correction(session: Session, *, case_id: int | None, text: str, old: str, new: str,
                   who: str) -> CategoryCorrection:
    row = CategoryCorrection(case_id=case_id, text=text, old_category=old, new_category=new, corrected_by=who)
    session.add(row)
    return row


def corrections_csv(session: Session, since: datetime | None = None) -> str:
    """Corrections as ``text,category`` rows, the format of ``siang nlp train --corrections FILE``."""
    query = select(CategoryCorrection).order_by(CategoryCorrection.id)
    if since is not None:
        query = query.where(CategoryCorrection.created_at >= since)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", "category"])
    for row in session.scalars(query):
        writer.writerow([row.text, row.new_category])
    return out.getvalue()


# --- the editable catalogue -----------------------------------------------------------------------------

def seed_catalogue(session: Session) -> tuple[int, int]:
    """Insert the agencies and categories of ``bot/data`` that the database does not have yet.

    Rows already there are left alone: administrators' edits (targets, names) win over the files."""
    from bot.nlp.categories import categories as catalogue_categories
    from bot.nlp.routing import agencies as catalogue_agencies

    have_agencies = set(session.scalars(select(Agency.id)))
    new_agencies = [Agency(id=a.id, name_th=a.name_th, name_en=a.name_en, level=a.level, hotline=a.hotline,
                           active=True)
                    for a in catalogue_agencies().values() if a.id not in have_agencies]
    have_categories = set(session.scalars(select(Category.id)))
    new_categories = [Category(id=c.id, label_th=c.label_th, label_en=c.label_en, target_days=c.target_days,
                               urgent=c.urgent, active=True, position=i)
                      for i, c in enumerate(catalogue_categories()) if c.id not in have_categories]
    session.add_all(new_agencies + new_categories)
    session.flush()
    return len(new_agencies), len(new_categories)


def is_agency(session: Session, agency_id: str | None) -> bool:
    """Whether cases may be sent to ``agency_id``: an active row of the table, or (before seeding, or for an
    agency the table does not list) one of the catalogue's."""
    if not agency_id:
        return False
    row = session.get(Agency, agency_id)
    if row is not None:
        return bool(row.active)
    from bot.nlp.routing import agencies as catalogue_agencies

    return agency_id in catalogue_agencies()


def agency_name(session: Session, agency_id: str | None, lang: str = "th") -> str | None:
    """The agency's name (Thai or English) for citizens, groups and staff; None for no or an unknown agency.

    The one lookup of an agency's name: the editable table first (administrators' names win), then the
    catalogue files (before seeding, or an agency the table does not list). People are told who owns a case
    by name, never by an id such as ``bma-district:1004``. :func:`agency_names` applies the same rule to all."""
    if not agency_id:
        return None
    from bot.nlp.routing import agencies as catalogue_agencies

    row = session.get(Agency, agency_id)
    known = catalogue_agencies().get(agency_id)
    th = (row.name_th if row is not None else None) or (known.name_th if known else None)
    en = (row.name_en if row is not None else None) or (known.name_en if known else None)
    return (en if lang == "en" else None) or th or en


def agency_names(session: Session) -> dict[str, str]:
    """Agency id -> Thai name for every agency, by :func:`agency_name`'s rule (the table's name, else the
    catalogue's), in one query: for lists, pickers and pages that name many agencies."""
    from bot.nlp.routing import agencies as catalogue_agencies

    names = {a.id: a.name_th for a in catalogue_agencies().values()}
    names.update((agency_id, name) for agency_id, name in session.execute(select(Agency.id, Agency.name_th)) if name)
    return names


def category_table(session: Session) -> list[Category]:
    """Categories with their targets, from the table, or transient rows from the catalogue before seeding."""
    rows = list(session.scalars(select(Category).order_by(Category.position, Category.id)))
    if rows:
        return rows
    from bot.nlp.categories import categories as catalogue_categories

    return [Category(id=c.id, label_th=c.label_th, label_en=c.label_en, target_days=c.target_days,
                     urgent=c.urgent, active=True, position=i) for i, c in enumerate(catalogue_categories())]


def resolve_agency(session: Session, picked: str | None) -> str | None:
    """The agency id of what staff picked in an agency list: its Thai (or English) name as the list shows it,
    or an id (older links, scripts). None when it names no agency. Staff pick names; ids stay internal."""
    picked = " ".join((picked or "").split())
    if not picked:
        return None
    names = agency_names(session)
    if picked in names:
        return picked
    wanted = picked.casefold()
    for agency_id, name in names.items():
        if (name or "").casefold() == wanted:
            return agency_id
    from bot.nlp.routing import agencies as catalogue_agencies

    for agency in catalogue_agencies().values():
        if wanted in ((agency.name_en or "").casefold(), agency.name_th.casefold()):
            return agency.id
    return None
