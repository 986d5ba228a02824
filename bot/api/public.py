"""A case as the outside world may see it: personal data masked (phones, IDs, e-mails, titled names, the
citizen's own names, house numbers), place given only to district level."""

from __future__ import annotations

import math
from datetime import datetime

from bot.casework.states import STATES
from sqlalchemy import select
from sqlalchemy.orm import object_session

from storage.models import Case, Volunteer
from storage.models.core import BANGKOK



def w3c(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(BANGKOK).replace(microsecond=0).isoformat()


def citizen_names(case: Case) -> list[str]:
    """The names the citizen gave the bot (LINE profile name, volunteer form), masked wherever they appear
    in what the case publishes, even without a title before them."""
    citizen = case.citizen
    if citizen is None:
        return []
    names = [citizen.display_name] if citizen.display_name else []
    session = object_session(case)
    if session is not None:
        names += [n for n in session.scalars(select(Volunteer.name).where(Volunteer.citizen_id == citizen.id)) if n]
    return names


def public_text(case: Case, text: str | None) -> str:
    """Any text about ``case`` (its story, a staff note) as it may leave Siang."""
    from bot.nlp.pii import mask_public

    return mask_public(text or "", citizen_names(case))


def public_description(case: Case) -> str:
    return public_text(case, case.description)[:4000]


def public_place(case: Case) -> str | None:
    """District and province only: the citizen's own address may be their home."""
    return " ".join(part for part in (case.district, case.province) if part) or None


def rounded(value: float | None) -> float | None:
    """About 100 m: enough to find a pothole, not enough to find a house."""
    return None if value is None or not math.isfinite(value) else round(value, 3)


def is_open(case: Case) -> bool:
    state = STATES.get(case.status)
    return bool(state and state.open)
