"""The lists of Thai places: provinces and Bangkok districts with their codes, and every sub-district.

Three data files in ``bot/data/`` (see its NOTICE.md): ``provinces.csv`` (77 provinces, ISO 3166-2:TH codes,
Thai and English names), ``bangkok_districts.csv`` (the 50 เขต with BMA codes) and ``thai_subdistricts.csv.gz``
(province, district and sub-district names with the sub-district's centre). Names everywhere else in Siang are
the Thai names of these files, districts without their prefix (เขต/อำเภอ).
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

BANGKOK = "10"
BANGKOK_TH = "กรุงเทพมหานคร"
_BANGKOK_ALIASES = {"กทม", "กรุงเทพ", "กรุงเทพฯ", "bkk", "krung thep", "bangkok metropolis"}
# Everyday names of a few provinces beside the official ones.
_PROVINCE_NICKNAMES = {"กรุงเทพ": BANGKOK_TH, "กรุงเทพฯ": BANGKOK_TH, "กทม": BANGKOK_TH, "กทม.": BANGKOK_TH,
                       "โคราช": "นครราชสีมา", "อยุธยา": "พระนครศรีอยุธยา"}


@dataclass(frozen=True)
class Area:
    """A province or a Bangkok district as the agency catalogue knows it: code and names."""

    code: str
    name_th: str
    name_en: str


@dataclass(frozen=True)
class Centre:
    """One sub-district of the list with its centre (a few rows have no coordinates: lat/lon None)."""

    province: str
    district: str
    subdistrict: str
    lat: float | None
    lon: float | None


def _read(name: str) -> str:
    return resources.files("bot.data").joinpath(name).read_text("utf-8")


@cache
def provinces() -> dict[str, Area]:
    """The 77 provinces by code (ISO 3166-2:TH number)."""
    return {r["code"]: Area(r["code"], r["name_th"], r["name_en"])
            for r in csv.DictReader(_read("provinces.csv").splitlines())}


@cache
def bangkok_districts() -> dict[str, Area]:
    """The 50 Bangkok districts (เขต) by BMA code."""
    return {r["code"]: Area(r["code"], r["name_th"], r["name_en"])
            for r in csv.DictReader(_read("bangkok_districts.csv").splitlines())}


@cache
def centres() -> tuple[Centre, ...]:
    """Every sub-district. The list's one Bangkok "district" that is not among the 50 (บางนาใต้, a แขวง) is left out."""
    raw = resources.files("bot.data").joinpath("thai_subdistricts.csv.gz").read_bytes()
    lines = [line for line in gzip.decompress(raw).decode("utf-8").splitlines() if not line.startswith("#")]
    bangkok = {d.name_th for d in bangkok_districts().values()}
    out = []
    for r in csv.DictReader(lines):
        if r["province"] == BANGKOK_TH and r["district"] not in bangkok:
            continue
        out.append(Centre(r["province"], r["district"], r["subdistrict"], _number(r["latitude"]),
                          _number(r["longitude"])))
    return tuple(out)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


@cache
def province_names() -> dict[str, str]:
    """Every accepted spelling (Thai, English, abbreviations, lower-cased) -> the Thai province name."""
    names = {p.name_th: p.name_th for p in provinces().values()}
    names.update({p.name_en.lower(): p.name_th for p in provinces().values()})
    try:
        from pythainlp.corpus import provinces as corpus

        for entry in corpus(details=True):
            for spelling in (entry.get("name_en"), entry.get("abbr_th")):
                if spelling and entry["name_th"] in names:
                    names[spelling.lower()] = entry["name_th"]
    except Exception:  # the abbreviations are a convenience; Thai and English names always work
        logging.getLogger(__name__).warning("province abbreviations unavailable", exc_info=True)
    names.update(_PROVINCE_NICKNAMES)
    return names


@cache
def district_provinces() -> dict[str, frozenset[str]]:
    """District name -> the provinces that have a district of that name (a few names repeat)."""
    found: dict[str, set[str]] = {}
    for c in centres():
        found.setdefault(c.district, set()).add(c.province)
    return {name: frozenset(provs) for name, provs in found.items()}


@cache
def subdistrict_places() -> dict[str, frozenset[tuple[str, str]]]:
    """Sub-district name -> the (province, district) pairs that have one of that name."""
    found: dict[str, set[tuple[str, str]]] = {}
    for c in centres():
        found.setdefault(c.subdistrict, set()).add((c.province, c.district))
    return {name: frozenset(pairs) for name, pairs in found.items()}


def _key(s: str) -> str:
    return re.sub(r"[\s.\-]", "", s.strip().lower())


def resolve_province(name: str | None) -> str | None:
    """Province code for a Thai/English name, code, or common variant; None when unknown."""
    if not name or not name.strip():
        return None
    k = _key(name)
    for prefix in ("จังหวัด", "จ.", "changwat", "province"):
        k = k.removeprefix(_key(prefix))
    k = k.removesuffix("province")
    if k in {_key(a) for a in _BANGKOK_ALIASES}:
        return BANGKOK
    for p in provinces().values():
        if k in (p.code, _key(p.name_th), _key(p.name_en)):
            return p.code
    return None


def resolve_district(name: str | None) -> str | None:
    """Bangkok district code for ``บางรัก``, ``เขตบางรัก``, ``Bang Rak`` or ``1004``; None otherwise."""
    if not name or not name.strip():
        return None
    k = _key(name)
    for prefix in ("เขต", "khet"):
        k = k.removeprefix(prefix)
    k = k.removesuffix("district")
    for d in bangkok_districts().values():
        if k in (d.code, _key(d.name_th), _key(d.name_en)):
            return d.code
    return None
