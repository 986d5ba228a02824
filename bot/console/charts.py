"""Charts drawn on the server as SVG (no CDN, no script): the trend of cases and the map of open cases."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

# Thailand's bounding box (WGS84): the map is an equirectangular plot of it.
LAT_MIN, LAT_MAX, LON_MIN, LON_MAX = 5.5, 20.6, 97.3, 105.7


MIN_TREND_DAYS = 2  # a line needs two days; one point in an empty frame reads as a broken chart


def _with_gaps_filled(days: list[dict]) -> list[dict]:
    """Every day from the first to the last, zero where nothing happened (the figures list only busy days;
    joining them directly would draw a slope across a quiet week)."""
    from datetime import date, timedelta

    try:
        first, last = date.fromisoformat(days[0]["day"][:10]), date.fromisoformat(days[-1]["day"][:10])
    except (ValueError, TypeError):
        return days
    known = {d["day"][:10]: d for d in days}
    out, current = [], first
    while current <= last and len(out) < 3700:
        key = current.isoformat()
        out.append(known.get(key, {"day": key, "received": 0, "resolved": 0}))
        current += timedelta(days=1)
    return out


def trend_svg(days: list[dict], width: int = 640, height: int = 220) -> Markup:
    """The daily trend, or a sentence saying there is not enough data yet (fewer than two days with cases)."""
    busy = [d for d in days if d["received"] or d["resolved"]]
    if len(busy) < MIN_TREND_DAYS:
        return Markup('<p class="muted empty-chart" id="trend-empty">ข้อมูลยังไม่พอสำหรับแสดงแนวโน้ม: ต้องมีเรื่องอย่างน้อย '
                      f'{MIN_TREND_DAYS} วันในช่วงนี้ (not enough data for a trend)</p>')
    days = _with_gaps_filled(days)
    pad = 30
    top = max(max(d["received"], d["resolved"]) for d in days) or 1
    step = (width - 2 * pad) / max(1, len(days) - 1)

    def points(key: str) -> str:
        return " ".join(f"{pad + i * step:.1f},{height - pad - d[key] / top * (height - 2 * pad):.1f}"
                        for i, d in enumerate(days))
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="แนวโน้มเรื่องร้องเรียน">',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" class="axis"/>',
             f'<text x="{pad}" y="{pad - 10}" class="label">{top}</text>',
             f'<polyline points="{points("received")}" class="line received"/>',
             f'<polyline points="{points("resolved")}" class="line resolved"/>',
             f'<text x="{pad}" y="{height - 8}" class="label">{escape(days[0]["day"])}</text>',
             f'<text x="{width - pad}" y="{height - 8}" text-anchor="end" class="label">{escape(days[-1]["day"])}</text>',
             f'<text x="{width - pad}" y="{pad - 10}" text-anchor="end" class="label">'
             '<tspan class="received-text">■ รับเรื่อง</tspan> <tspan class="resolved-text">■ แก้ไขแล้ว</tspan></text>',
             "</svg>"]
    return Markup("".join(parts))


def map_svg(cells: list[dict], width: int = 300) -> Markup:
    height = int(width * (LAT_MAX - LAT_MIN) / (LON_MAX - LON_MIN))
    top = max((c["n"] for c in cells), default=1)
    parts = [f'<svg class="map" viewBox="0 0 {width} {height}" role="img" aria-label="แผนที่เรื่องที่ยังเปิดอยู่">',
             f'<rect x="0" y="0" width="{width}" height="{height}" class="sea"/>']
    for lat in range(6, 21, 2):
        y = (LAT_MAX - lat) / (LAT_MAX - LAT_MIN) * height
        parts.append(f'<line x1="0" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="2" y="{y - 2:.1f}" class="label">{lat}°N</text>')
    for cell in cells:
        if not (LAT_MIN <= cell["lat"] <= LAT_MAX and LON_MIN <= cell["lon"] <= LON_MAX):
            continue
        x = (cell["lon"] - LON_MIN) / (LON_MAX - LON_MIN) * width
        y = (LAT_MAX - cell["lat"]) / (LAT_MAX - LAT_MIN) * height
        r = 1.5 + 6 * (cell["n"] / top) ** 0.5
        kind = "overdue" if cell["overdue"] else "open"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" class="dot {kind}">'
                     f'<title>{cell["lat"]:.1f},{cell["lon"]:.1f}: {cell["n"]}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))
