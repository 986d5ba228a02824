"""Where in Thailand: typed province/district names and LINE locations resolved against a real list.

The list (``bot/data/thai_subdistricts.csv.gz``) is every province, district (อำเภอ/เขต) and sub-district
with the sub-district's centre coordinates, taken from the ``thaiaddress`` package on PyPI (Apache-2.0; see
the file's header). It is kept as data here rather than as a dependency because that package's install
requirements pull in deep-learning tokenisers the bot does not use. English province names and
abbreviations come from PyThaiNLP's province corpus.
"""

from __future__ import annotations

import csv
import gzip
import logging
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

DATA_FILE = "thai_subdistricts.csv.gz"
# A LINE location farther than this from every sub-district centre of Thailand is outside the country.
MAX_DISTANCE_KM = 35.0
PREFIXES = re.compile(r"(จังหวัด|จ\.|อำเภอ|อ\.|เขต|ตำบล|ต\.|แขวง|province|district|amphoe)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    province: str
    district: str | None = None
    subdistrict: str | None = None


@dataclass(frozen=True)
class _Point:
    place: Place
    lat: float
    lon: float


@cache
def _rows() -> tuple[dict[str, str], ...]:
    raw = resources.files("bot.data").joinpath(DATA_FILE).read_bytes()
    lines = [line for line in gzip.decompress(raw).decode("utf-8").splitlines() if not line.startswith("#")]
    return tuple(csv.DictReader(lines))


@cache
def _places() -> tuple[Place, ...]:
    return tuple(Place(r["province"], r["district"], r["subdistrict"]) for r in _rows())


@cache
def _points() -> tuple[_Point, ...]:
    """Sub-district centres with known coordinates (a few rows of the list have none)."""
    return tuple(_Point(Place(r["province"], r["district"], r["subdistrict"]), float(r["latitude"]),
                        float(r["longitude"]))
                 for r in _rows() if _number(r["latitude"]) and _number(r["longitude"]))


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


@cache
def provinces() -> dict[str, str]:
    """Every accepted spelling (Thai, English, abbreviations, lower-cased) -> the Thai province name."""
    names = {p.province: p.province for p in _places()}
    try:
        from pythainlp.corpus import provinces as corpus

        for entry in corpus(details=True):
            for spelling in (entry.get("name_en"), entry.get("abbr_th")):
                if spelling and entry["name_th"] in names:
                    names[spelling.lower()] = entry["name_th"]
    except Exception:  # English names are a convenience; Thai names always work
        logging.getLogger(__name__).warning("English province names unavailable", exc_info=True)
    names.update({"กรุงเทพ": "กรุงเทพมหานคร", "กรุงเทพฯ": "กรุงเทพมหานคร", "โคราช": "นครราชสีมา",
                  "อยุธยา": "พระนครศรีอยุธยา"})
    return names


@cache
def districts() -> dict[str, frozenset[str]]:
    """District name -> the provinces that have a district of that name (a few names repeat)."""
    found: dict[str, set[str]] = {}
    for p in _places():
        found.setdefault(p.district, set()).add(p.province)
    return {name: frozenset(provs) for name, provs in found.items()}


def resolve_text(text: str, province_hint: str | None = None) -> Place | None:
    """A typed place ("อ.เมือง จ.เชียงใหม่", "เขตบางรัก", "ขอนแก่น") -> province and, if named, district."""
    cleaned = PREFIXES.sub(" ", text.strip())
    lowered = cleaned.lower()
    province = province_hint
    # Longest names first, so "นครราชสีมา" is not taken for a shorter name inside it.
    for spelling in sorted(provinces(), key=len, reverse=True):
        if len(spelling) >= 3 and spelling in lowered:
            province = provinces()[spelling]
            lowered = lowered.replace(spelling, " ")
            break
    district = None
    for name in sorted(districts(), key=len, reverse=True):
        if len(name) >= 2 and name in lowered:
            owners = districts()[name]
            if province in owners or (province is None and len(owners) == 1):
                district, province = name, province or next(iter(owners))
                break
    if district is None and province is not None and "เมือง" in lowered:
        capital = f"เมือง{province}"
        district = capital if capital in districts() else None
    return Place(province, district) if province else None


def resolve_location(latitude: float, longitude: float) -> Place | None:
    """The sub-district nearest a LINE location, or None when the point is outside Thailand."""
    best, best_km = None, math.inf
    for point in _points():
        if abs(point.lat - latitude) > 1.0 or abs(point.lon - longitude) > 1.0:
            continue
        km = _haversine_km(latitude, longitude, point.lat, point.lon)
        if km < best_km:
            best, best_km = point, km
    return best.place if best is not None and best_km <= MAX_DISTANCE_KM else None


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))
