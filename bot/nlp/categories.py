"""The fixed category set and the mapping of every Traffy label onto it (data in bot/data/categories.toml).

Traffy's taxonomy changed over the years and mixes problems with meta-tags; the classifier needs one
fixed label set, and evaluation needs to know which of our categories a ticket's raw labels accept.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Category:
    """A complaint category: Traffy id, labels, service target and default urgency."""

    id: str
    label_th: str
    label_en: str
    target_days: int
    urgent: bool
    aliases: tuple[str, ...]
    trained: bool


@cache
def _catalogue() -> tuple[tuple[Category, ...], frozenset[str]]:
    raw = tomllib.loads(resources.files("bot.data").joinpath("categories.toml").read_text("utf-8"))
    cats = tuple(
        Category(c["id"], c["label_th"], c["label_en"], int(c["target_days"]), bool(c["urgent"]),
                 tuple(c.get("aliases", ())), bool(c.get("trained", True)))
        for c in raw["category"]
    )
    return cats, frozenset(raw["meta_tags"])


def categories() -> list[Category]:
    """All categories, in catalogue order."""
    return list(_catalogue()[0])


def category(category_id: str) -> Category:
    """The category with this id (KeyError if unknown)."""
    for c in _catalogue()[0]:
        if c.id == category_id:
            return c
    raise KeyError(category_id)


@cache
def _alias_map() -> dict[str, frozenset[str]]:
    mapping: dict[str, set[str]] = {}
    for c in _catalogue()[0]:
        for name in (c.id, *c.aliases):
            mapping.setdefault(name, set()).add(c.id)
    return {k: frozenset(v) for k, v in mapping.items()}


def parse_type(raw: str) -> list[str]:
    """Raw Traffy labels of a ``type`` cell such as ``{ถนน,ทางเท้า}``."""
    return [t.strip() for t in raw.strip().strip("{}").split(",") if t.strip()]


def map_labels(raw_labels: list[str]) -> frozenset[str]:
    """Our categories accepted for a ticket with these raw Traffy labels (meta-tags dropped).

    Unknown labels fall back to ``อื่นๆ`` so that a future Traffy name never silently empties a set.
    """
    meta = _catalogue()[1]
    out: set[str] = set()
    amap = _alias_map()
    for lab in raw_labels:
        if lab in meta:
            continue
        out |= amap.get(lab, frozenset({"อื่นๆ"}))
    return frozenset(out)


def training_targets(accepted: frozenset[str]) -> frozenset[str]:
    """Labels to train on: ``อื่นๆ`` only when nothing more specific is accepted (it is a catch-all), and
    categories marked ``trained = false`` only when nothing else is (Traffy's newer ``ไฟฟ้า`` tickets are
    street lights and cables, which must not teach the electricity-supply category)."""
    untrained = {c.id for c in _catalogue()[0] if not c.trained}
    specific = accepted - {"อื่นๆ"} - untrained
    return specific or (accepted - {"อื่นๆ"}) or accepted
