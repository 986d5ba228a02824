"""Thai text understanding for Siang: category, agency, intent, urgency and personal data of a message.

Pure: imports nothing from the bot's handlers, flows, storage or Flask. ``classify`` is the one call the
conversation flows make. The category model is loaded lazily, once per process, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.nlp.categories import Category, categories, cue_category
from bot.nlp.english import COMMON, english_categories, is_english
from bot.nlp.intent import Intent, detect_intent
from bot.nlp.model import shipped_model
from bot.nlp.normalize import normalize
from bot.nlp.pii import PiiMatch, find_pii, mask_pii
from bot.nlp.routing import Agency, route
from bot.nlp.tokenize import tokenize
from bot.nlp.urgency import Urgency, detect_urgency

N_ALTERNATIVES = 3
MAX_CHARS = 10_000  # longer messages are classified on their start (the problem is stated first)


@dataclass(frozen=True)
class Alternative:
    """A next-best category with its calibrated probability."""

    category: str
    confidence: float


@dataclass(frozen=True)
class Classification:
    """Everything the flows need to know about one message."""

    category: str
    confidence: float
    confident: bool
    alternatives: list[Alternative]
    agency: Agency
    intent: Intent
    urgent: bool
    urgency_reason: str | None
    hotline: str | None
    pii: list[PiiMatch]
    hotlines: tuple[str, ...] = ()  # every number to call for this kind of danger, most important first


def classify(text: str, province: str | None = None, district: str | None = None) -> Classification:
    """Classify one message. Raises ``ValueError`` only for empty or whitespace-only text.

    ``confident`` is true when the calibrated confidence reaches the threshold chosen on held-out data
    (precision >= 0.96 there): the bot routes without asking. Otherwise it offers the top choices.
    Text with no usable words (emoji only, garbage) gets a low-confidence ``อื่นๆ``-leaning answer and
    intent ``other`` - never an exception. A category cue (bot/data/categories.toml: a power cut is
    electricity supply) decides the category over the model and is confident.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if not text.strip():
        raise ValueError("empty text")
    model = shipped_model()
    norm = normalize(text[:MAX_CHARS])
    probs = model.probabilities(model.scores(norm, tokenize(norm)))
    order = [int(i) for i in np.argsort(-probs)]
    cued = cue_category(norm)
    if cued in model.classes:  # a cue overrules the labels the model learnt (a power cut is not a street light)
        order.remove(model.classes.index(cued))
        order.insert(0, model.classes.index(cued))
    best = model.classes[order[0]]
    confidence = float(probs[order[0]])
    if cued == best:
        confidence = max(confidence, model.threshold)
    urgency: Urgency = detect_urgency(text, norm)
    if is_english(text):
        return _english(text, norm, province, district, urgency)
    return Classification(
        category=best,
        confidence=round(confidence, 4),
        confident=bool(norm) and confidence >= model.threshold,
        alternatives=[Alternative(model.classes[i], round(float(probs[i]), 4))
                      for i in order[1 : 1 + N_ALTERNATIVES]],
        agency=route(best, province, district),
        intent=detect_intent(text, norm),
        urgent=urgency.urgent,
        urgency_reason=urgency.reason,
        hotline=urgency.hotline,
        pii=find_pii(text),
        hotlines=urgency.hotlines,
    )


def _english(text: str, norm: str, province: str | None, district: str | None, urgency: Urgency) -> Classification:
    """An English text: its cue category when exactly one matched (confident), else the matched ones or the
    common categories as choices (not confident: the flow shows them as a list)."""
    found = english_categories(text)
    known = {c.id for c in categories()}
    ordered = [c for c in dict.fromkeys([*found, *COMMON]) if c in known]
    best = ordered[0]
    confident = len(found) == 1
    return Classification(
        category=best, confidence=0.97 if confident else (0.5 if found else 0.1), confident=confident,
        alternatives=[Alternative(c, 0.0) for c in ordered[1:1 + max(N_ALTERNATIVES, len(found) - 1)]],
        agency=route(best, province, district), intent=detect_intent(text, norm), urgent=urgency.urgent,
        urgency_reason=urgency.reason, hotline=urgency.hotline, pii=find_pii(text), hotlines=urgency.hotlines)


__all__ = [
    "Agency", "Alternative", "Category", "Classification", "PiiMatch", "Urgency", "categories", "classify",
    "detect_intent", "detect_urgency", "find_pii", "mask_pii", "normalize", "route", "tokenize",
]
