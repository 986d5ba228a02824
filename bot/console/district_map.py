"""The dashboard's map: Bangkok's 50 district polygons (``bot/data/bangkok_districts.geojson.gz``, the copy
``bot/places`` reads, attribution in ``bot/data/NOTICE.md``) shaded by the district's open cases, as SVG
drawn on the server (no map tiles, no script, nothing fetched from elsewhere).

The counts are one small grouped read of open Bangkok cases by district (``ix_cases_province_status``); the
dashboard's roll-up tables are not involved. The polygon outlines are simplified once per process (about
50 m), which keeps the page a few tens of kilobytes.
"""

from __future__ import annotations

import math
from functools import cache
from html import escape

import shapely
from markupsafe import Markup
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.casework.states import STATES
from storage.models import Case, utcnow

BANGKOK_NAMES = ("กรุงเทพมหานคร", "กรุงเทพฯ", "กรุงเทพ", "Bangkok")
SHADES = ("#eef2f4", "#fde0c5", "#f9b27c", "#ec7b3e", "#c4461c", "#8c2410")  # 0, then five classes
SIMPLIFY_DEGREES = 0.0005
ATTRIBUTION = "ขอบเขตเขต: pcrete/gsvloader-demo (MIT)"


def open_by_district(db: Session) -> dict[str, tuple[int, int]]:
    """District (without "เขต") -> (open cases, of which overdue), Bangkok only."""
    open_states = [s.id for s in STATES.values() if s.open]
    overdue = func.sum(case((Case.target_due_at < utcnow(), 1), else_=0))
    rows = db.execute(select(Case.district, func.count(), overdue)
                      .where(Case.province.in_(BANGKOK_NAMES), Case.status.in_(open_states))
                      .group_by(Case.district)).all()
    counts: dict[str, tuple[int, int]] = {}
    for district, n, late in rows:
        name = (district or "").strip().removeprefix("เขต")
        if name:
            before = counts.get(name, (0, 0))
            counts[name] = (before[0] + n, before[1] + int(late or 0))
    return counts


@cache
def _outlines(width: int) -> tuple[list[tuple[str, str, tuple[float, float]]], int]:
    """(district, SVG path, label point) for each polygon, projected to ``width``; and the height."""
    from bot.places.polygons import bangkok_index

    index = bangkok_index()
    scale_x = math.cos(math.radians((index.south + index.north) / 2))
    span_x, span_y = (index.east - index.west) * scale_x, index.north - index.south
    height = int(width * span_y / span_x)

    def point(lon: float, lat: float) -> str:
        return f"{(lon - index.west) * scale_x / span_x * width:.1f},{(index.north - lat) / span_y * height:.1f}"

    shapes = []
    for name, geometry in zip(index.names, index.geometries):
        simple = shapely.simplify(geometry, SIMPLIFY_DEGREES, preserve_topology=True)
        polygons = getattr(simple, "geoms", [simple])
        path = " ".join("M" + " L".join(point(x, y) for x, y in polygon.exterior.coords) + " Z"
                        for polygon in polygons)
        centre = geometry.representative_point()
        x, y = (float(v) for v in point(centre.x, centre.y).split(","))
        shapes.append((name, path, (x, y)))
    return shapes, height


def shade(n: int, top: int) -> str:
    if n <= 0 or top <= 0:
        return SHADES[0]
    return SHADES[min(5, 1 + int(4.999 * math.sqrt(n / top)))]


def district_map_svg(counts: dict[str, tuple[int, int]], width: int = 520) -> Markup:
    shapes, height = _outlines(width)
    top = max((n for n, _ in counts.values()), default=0)
    parts = [f'<svg class="map districts" viewBox="0 0 {width} {height + 34}" role="img" '
             f'aria-label="แผนที่กรุงเทพมหานคร ระบายสีตามจำนวนเรื่องที่ยังเปิดอยู่ในแต่ละเขต">']
    for name, path, _ in shapes:
        n, late = counts.get(name, (0, 0))
        parts.append(f'<path d="{path}" fill="{shade(n, top)}" class="district" data-district="{escape(name)}" '
                     f'data-open="{n}"><title>เขต{escape(name)}: ค้าง {n} เรื่อง เกินกำหนด {late}</title></path>')
    for name, _, (x, y) in shapes:
        n, _ = counts.get(name, (0, 0))
        if n:
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}" class="count" text-anchor="middle">{n}</text>')
    legend_y = height + 8
    parts.append(f'<text x="4" y="{legend_y + 10}" class="label">เรื่องค้าง:</text>')
    for i, colour in enumerate(SHADES):
        parts.append(f'<rect x="{64 + i * 22}" y="{legend_y}" width="20" height="12" fill="{colour}" class="legend"/>')
    parts.append(f'<text x="{64 + 6 * 22 + 4}" y="{legend_y + 10}" class="label">0 ถึง {top} เรื่องต่อเขต</text>')
    parts.append(f'<text x="{width - 4}" y="{legend_y + 24}" text-anchor="end" class="label attribution">'
                 f'{escape(ATTRIBUTION)}</text></svg>')
    return Markup("".join(parts))
