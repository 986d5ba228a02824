"""Where in Thailand: the one place type and the one place list, for coordinates and for text.

A LINE location inside Bangkok is placed by the 50 district polygons (``source="polygon"``, sure); elsewhere
by the nearest sub-district centre (``"nearest"``, not sure: no polygons outside Bangkok); farther than
``MAX_DISTANCE_KM`` from every centre it is outside Thailand (``None``). Typed text is read by
``bot.places.text`` (``"text"``). The conversation flows, routing and ``siang place`` all use this module.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from functools import cache
from typing import Literal

import numpy as np

from bot.places.gazetteer import (
    BANGKOK,
    BANGKOK_TH,
    Area,
    bangkok_districts,
    centres,
    district_provinces,
    province_names,
    provinces,
    resolve_district,
    resolve_province,
    subdistrict_places,
)
from bot.places.polygons import bangkok_index
from bot.places.text import read

__all__ = ["BANGKOK", "BANGKOK_TH", "Area", "Place", "bangkok_districts", "bangkok_index", "district_provinces",
           "province_names", "provinces", "resolve", "resolve_district", "resolve_location", "resolve_province",
           "resolve_text", "subdistrict_places"]

Source = Literal["polygon", "nearest", "text"]
# A LINE location farther than this from every sub-district centre of Thailand is outside the country.
MAX_DISTANCE_KM = 35.0
# A district name without its marker counts only in a short answer ("บางกะปิ", "หางดง เชียงใหม่"): inside a
# whole complaint it is a road or an area more often than not (half wrong on the tuning tickets).
UNMARKED_TEXT_CHARS = 40


@dataclass(frozen=True)
class Place:
    """A place in Thailand: Thai names as in the list (districts without เขต/อำเภอ), how it was found, how sure."""

    province: str | None
    district: str | None = None
    subdistrict: str | None = None
    source: Source | None = None
    sure: bool = False

    def as_json(self) -> dict:
        return asdict(self)


# --- coordinates -------------------------------------------------------------------------------------------

@cache
def _centre_arrays(district: str | None = None) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Centres with coordinates: all of Thailand, or one Bangkok district's."""
    located = tuple(c for c in centres() if c.lat is not None and c.lon is not None
                    and (district is None or (c.province == BANGKOK_TH and c.district == district)))
    return np.array([c.lat for c in located]), np.array([c.lon for c in located]), located


def _nearest(lat: float, lon: float, district: str | None = None):
    """The nearest sub-district centre (of one Bangkok district when given) and its distance in km."""
    lats, lons, located = _centre_arrays(district)
    scale = math.cos(math.radians(lat))
    squared = (lats - lat) ** 2 + ((lons - lon) * scale) ** 2
    best = int(np.argmin(squared))
    return located[best], math.sqrt(float(squared[best])) * 111.2


def resolve_location(latitude: float, longitude: float) -> Place | None:
    """The place of a LINE location; None when it is outside Thailand (the flow says so and asks again)."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    district = bangkok_index().district_at(latitude, longitude)
    if district is not None:
        return Place(BANGKOK_TH, district, _subdistrict_in(district, latitude, longitude), "polygon", True)
    centre, km = _nearest(latitude, longitude)
    if km > MAX_DISTANCE_KM:
        return None
    return Place(centre.province, centre.district, centre.subdistrict, "nearest", False)


def _subdistrict_in(district: str, lat: float, lon: float) -> str:
    """The nearest of a Bangkok district's own sub-district centres (a handful: a plain loop beats numpy)."""
    scale = math.cos(math.radians(lat)) ** 2
    own = _centre_arrays(district)[2]
    return min(own, key=lambda c: (c.lat - lat) ** 2 + (c.lon - lon) ** 2 * scale).subdistrict


# --- text --------------------------------------------------------------------------------------------------

def _one(names) -> str | None:
    distinct = set(names)
    return next(iter(distinct)) if len(distinct) == 1 else None


def resolve_text(text: str, province_hint: str | None = None, answer: bool = False) -> Place | None:
    """The place a message names ("อ.เมือง จ.เชียงใหม่", "ซอยลาดพร้าว 101 เขตบางกะปิ"); None when it names none.

    ``province_hint`` (the province already known, e.g. in the flow's district step) settles names several
    provinces share. ``answer``: the text answers a "where?" question, so a short one may name its district
    without a marker ("ลาดพร้าว 101 บางกะปิ"); any other text must be nothing but place names for that
    ("บางกะปิ"). Sure when the district came with its marker.
    """
    found = _at_boundary(read(text), answer)
    province = _one(found.provinces) or province_hint
    marked = bool(found.marked_districts or found.office_districts)
    if province is None and marked and set(found.marked_districts or found.office_districts) <= set(found.khet):
        province = BANGKOK_TH  # "เขตจอมทอง" is Bangkok's, not อำเภอจอมทอง of เชียงใหม่
    bare = found.only_places or (answer and len(text) <= UNMARKED_TEXT_CHARS)
    unmarked = tuple(name for name in found.districts if bare
                     and (province is not None or BANGKOK_TH in district_provinces().get(name, ())))
    district, province = _district(found.marked_districts or found.office_districts or unmarked, province)
    subdistrict, district, province = _subdistrict(found.subdistricts, district, province)
    if district is not None and found.subdistricts and subdistrict is None:
        district = None  # "แขวงทุ่งวัดดอน เขตยานนาวา": the two disagree, so neither is taken
    if district is not None and _named_besides(found, district, province):
        district = None  # "แจ้งเขตจตุจักรแล้ว แต่บอกเป็นเขตพญาไท": which one is the place is not said
    if province is None and district is None:
        return None
    return Place(province, district, subdistrict, "text", bool(district) and (marked or subdistrict is not None))


def _at_boundary(found, answer: bool):
    """Names right after a bridge or a road along a canal: an answer to "which district?" takes them, a complaint
    does not ("ใต้สะพานพิบูลสงคราม เขตบางซื่อ" may be the other bank), though they still count against another."""
    if not found.at_boundary:
        return found
    if not answer:
        return replace(found, elsewhere=found.elsewhere + found.at_boundary)
    districts = tuple(name for level, name in found.at_boundary if level == "district")
    subdistricts = tuple(name for level, name in found.at_boundary if level == "subdistrict")
    return replace(found, marked_districts=found.marked_districts + districts,
                   subdistricts=found.subdistricts + subdistricts)


def _named_besides(found, district: str, province: str | None) -> bool:
    """Another district of the same province stated with a marker anywhere in the text: an office the citizen
    contacted, a way (ไปเขต…), a guess (น่าจะเขต…), or the district of another marked sub-district."""
    others = {name for name in (*found.marked_districts, *found.office_districts) if name != district}
    for level, name in found.elsewhere:
        if level == "district":
            others.add(name)
        elif level == "subdistrict":
            owners = {d for p, d in subdistrict_places().get(name, ()) if province is None or p == province}
            if len(owners) == 1:
                others |= owners
    others -= {district, "เมือง"}
    return any(province is None or province in district_provinces().get(name, ()) for name in others)


def _district(names: tuple[str, ...], province: str | None) -> tuple[str | None, str | None]:
    pairs = set()
    for name in names:
        if name == "เมือง":
            if province and f"เมือง{province}" in district_provinces():
                pairs.add((province, f"เมือง{province}"))
            continue
        for owner in district_provinces().get(name, ()):
            if province is None or owner == province:
                pairs.add((owner, name))
    if len(pairs) != 1:
        return None, province
    owner, name = pairs.pop()
    return name, owner


def _subdistrict(names: tuple[str, ...], district: str | None,
                 province: str | None) -> tuple[str | None, str | None, str | None]:
    triples = {(p, d, name) for name in names for p, d in subdistrict_places().get(name, ())
               if (province is None or p == province) and (district is None or d == district)}
    if len(triples) != 1:
        return None, district, province
    p, d, name = triples.pop()
    return name, d, p


def resolve(latitude: float | None = None, longitude: float | None = None, text: str | None = None) -> Place | None:
    """Coordinates and/or text: a polygon answer wins; otherwise a district the text names beats the nearest centre.

    Coordinates outside Thailand give None whatever the text says: the point is what the citizen chose.
    """
    located = None
    if latitude is not None and longitude is not None:
        located = resolve_location(latitude, longitude)
        if located is None or located.sure:
            return located
    typed = resolve_text(text, located.province if located else None) if text else None
    if typed is not None and typed.district and (located is None or typed.province == located.province):
        return typed
    return located or typed
