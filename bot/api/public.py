"""A case as the outside world may see it: personal data masked, place given only to district level."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.casework.states import STATES
from storage.models import Case

BANGKOK = timezone(timedelta(hours=7))


def w3c(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(BANGKOK).replace(microsecond=0).isoformat()


def public_description(case: Case) -> str:
    from bot.nlp import mask_pii

    return mask_pii(case.description or "")[:4000]


def public_place(case: Case) -> str | None:
    """District and province only: the citizen's own address may be their home."""
    return " ".join(part for part in (case.district, case.province) if part) or None


def rounded(value: float | None) -> float | None:
    """About 100 m: enough to find a pothole, not enough to find a house."""
    return None if value is None else round(value, 3)


def is_open(case: Case) -> bool:
    state = STATES.get(case.status)
    return bool(state and state.open)
