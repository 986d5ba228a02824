"""Category + place -> the agency that must act, read from bot/data/agencies.toml (a table, not code).

Places come from citizens and data sources in many spellings (``จังหวัดนนทบุรี``, ``กทม.``, ``Bangkok``,
``เขตบางรัก``); ``bot.places`` resolves them to province / Bangkok-district codes first, then the first matching rule
wins, with the provincial Damrongdhama centre (or the national one) as the default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from bot.places import BANGKOK, bangkok_districts, provinces, resolve_district, resolve_province

Level = Literal["national", "provincial", "local"]


@dataclass(frozen=True)
class Agency:
    """An agency a case can be sent to."""

    id: str
    name_th: str
    name_en: str
    level: Level
    hotline: str | None = None


def _read(name: str) -> str:
    return resources.files("bot.data").joinpath(name).read_text("utf-8")


@cache
def _catalogue() -> dict:
    return tomllib.loads(_read("agencies.toml"))


@cache
def agencies() -> dict[str, Agency]:
    """Every agency the catalogue can produce, templates expanded (for seeding and checks)."""
    out = {a["id"]: Agency(a["id"], a["name_th"], a["name_en"], a["level"], a.get("hotline"))
           for a in _catalogue()["agency"]}
    for t in _catalogue()["agency_template"]:
        places = bangkok_districts() if t["over"] == "bangkok_district" else provinces()
        for p in places.values():
            name_th = t.get("name_th_special", {}).get(p.code) or t["name_th"].format(name_th=p.name_th)
            aid = t["id"].format(code=p.code)
            out[aid] = Agency(aid, name_th, t["name_en"].format(name_en=p.name_en), t["level"], t.get("hotline"))
    return out


def route(category: str, province: str | None = None, district: str | None = None) -> Agency:
    """The agency for a category at a place. A Bangkok district alone implies Bangkok.

    Never None: a category no rule takes (or an unknown one) goes to the place's general owner."""
    prov, dist = _place_codes(province, district)
    return _first_match(category, prov, dist)


def general_owner(province: str | None = None, district: str | None = None) -> Agency:
    """Who takes a case whose category is unknown or unchosen at this place: the Bangkok district office
    (the BMA when the district is unknown), the provincial Damrongdhama centre, or the national one."""
    prov, dist = _place_codes(province, district)
    return _first_match(None, prov, dist)


def _place_codes(province: str | None, district: str | None) -> tuple[str | None, str | None]:
    prov = resolve_province(province)
    dist = resolve_district(district)
    if prov is None and dist is not None and not province:
        prov = BANGKOK
    if prov != BANGKOK:
        dist = None
    return prov, dist


def _first_match(category: str | None, prov: str | None, dist: str | None) -> Agency:
    """The first catalogue rule taking this category (None: only the general-owner rules) at this place."""
    prov_th = provinces()[prov].name_th if prov else None
    for rule in _catalogue()["rule"]:
        if "*" not in rule["categories"] and category not in rule["categories"]:
            continue
        wanted = rule["provinces"]
        if prov_th is None:
            if not rule.get("anywhere"):
                continue
        elif "*" not in wanted and prov_th not in wanted:
            continue
        if rule.get("needs_district") and dist is None:
            continue
        return agencies()[rule["agency"].format(province=prov, district=dist)]
    return agencies()[f"damrongdhama:{prov}" if prov else "damrongdhama"]
