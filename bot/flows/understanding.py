"""What the flows need from the NLP package, in one place: intent, category, urgency, routing.

``bot.nlp`` is pure and loads its model once per process. If it cannot be imported (a tools-only install, or
the model missing), the flows still work: the citizen picks the category and the case goes to the provincial
centre, which is the human fallback anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from typing import Any

log = logging.getLogger(__name__)
FALLBACK_CATEGORY = "อื่นๆ"


@dataclass
class Understanding:
    category: str | None
    confidence: float | None
    confident: bool
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    intent: str = "other"
    urgent: bool = False
    urgency_reason: str | None = None
    hotline: str | None = None  # the first number to call for this kind of danger (e.g. 1669), when known
    hotlines: tuple[str, ...] = ()  # every number to call for it, most important first


@dataclass(frozen=True)
class Urgency:
    """Danger to life in a message: its kind (a rule's reason) and the numbers to call, most important
    first."""

    urgent: bool
    reason: str | None = None
    hotlines: tuple[str, ...] = ()


@cache
def _nlp() -> Any | None:
    try:
        from bot import nlp

        nlp.classify  # noqa: B018 - the package is there but not finished yet
        return nlp
    except (ImportError, AttributeError):
        log.warning("bot.nlp is not available: citizens choose categories themselves")
        return None


def available() -> bool:
    return _nlp() is not None


def understand(text: str, province: str | None = None, district: str | None = None) -> Understanding:
    nlp = _nlp()
    if nlp is None:
        return Understanding(None, None, False)
    try:
        result = nlp.classify(text, province=province, district=district)
    except Exception as exc:  # the citizen is asked to choose instead: a broken model must not lose the case
        log.error("classification failed (%s): the citizen chooses the category", type(exc).__name__,
                  exc_info=True)
        return Understanding(None, None, False)
    alternatives = [(a["category"], float(a["confidence"])) if isinstance(a, dict)
                    else (a.category, float(a.confidence)) for a in (result.alternatives or [])]
    return Understanding(result.category, float(result.confidence), bool(result.confident), alternatives,
                         result.intent or "other", bool(result.urgent), result.urgency_reason,
                         getattr(result, "hotline", None), tuple(getattr(result, "hotlines", ()) or ()))


def urgency_of(text: str) -> Urgency:
    """Whether ``text`` signals danger to life now (rules only: cheap enough for every message)."""
    nlp = _nlp()
    if nlp is None:
        return Urgency(False)
    try:
        found = nlp.detect_urgency(text)
    except Exception as exc:
        log.error("urgency detection failed (%s)", type(exc).__name__, exc_info=True)
        return Urgency(False)
    return Urgency(bool(found.urgent), found.reason, tuple(found.hotlines))


def intent_of(text: str) -> str:
    nlp = _nlp()
    if nlp is None:
        return "other"
    try:
        return nlp.detect_intent(text)
    except Exception:
        log.exception("intent detection failed")
        return "other"


def route(category: str | None, province: str | None, district: str | None) -> dict[str, str | None] | None:
    """The agency for a case: ``{"id", "name_th", "name_en"}``, or None when routing is unavailable.

    ``category=None`` ("none of these") gives the place's general owner, as filing does."""
    try:
        from bot.casework.filing import route_case

        agency = route_case(category, province, district)
    except Exception:
        log.exception("routing failed", extra={"category": category})
        return None
    if agency is None:
        return None
    get = agency.get if isinstance(agency, dict) else lambda name: getattr(agency, name, None)
    return {"id": get("id"), "name_th": get("name_th"), "name_en": get("name_en")}


@cache
def _categories() -> dict[str, Any]:
    from bot.nlp.categories import categories

    return {c.id: c for c in categories()}


def category_ids() -> list[str]:
    return list(_categories())


def category_label(category_id: str | None, lang: str) -> str:
    from bot.messages.ticket_cards import category_label as label

    return label(category_id, lang)


def target_days(category_id: str | None) -> int | None:
    category = _categories().get(category_id or "")
    return category.target_days if category else None
