"""``siang place``: JSON lines in, one place per line out, so routing's "where" can be checked from outside.

Each input line is ``{"lat": …, "lon": …}``, ``{"text": "…"}`` or both. Each output line is
``{"province", "district", "subdistrict", "source": "polygon|nearest|text", "sure"}`` with unknown parts null;
a point outside Thailand also carries ``"outside_thailand": true``. A bad line gets ``{"error": "…"}`` and
the next line is read: one bad line never ends a batch.
"""

from __future__ import annotations

import json
import math
import sys
from typing import IO

import click

from bot import places

_NOTHING = {"province": None, "district": None, "subdistrict": None, "source": None, "sure": False}


def answer(line: str) -> dict:
    """The output object for one input line."""
    try:
        request = json.loads(line)
    except ValueError as error:
        return {"error": f"not JSON: {error.msg}"}
    if not isinstance(request, dict):
        return {"error": "expected an object with lat/lon and/or text"}
    text = request.get("text")
    if text is not None and not isinstance(text, str):
        return {"error": "text must be a string"}
    has_point = "lat" in request or "lon" in request
    if has_point:
        lat, lon = request.get("lat"), request.get("lon")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lon)):
            return {"error": "lat and lon must both be finite numbers"}
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return {"error": "lat must be within ±90 and lon within ±180"}
    elif text is None:
        return {"error": "expected lat/lon and/or text"}
    place = places.resolve(lat, lon, text) if has_point else places.resolve_text(text)
    if place is None:
        return {**_NOTHING, "outside_thailand": True} if has_point else {**_NOTHING, "source": "text"}
    return place.as_json()


def run(lines: IO[str], out: IO[str]) -> None:
    for line in lines:
        if not line.strip():
            continue
        out.write(json.dumps(answer(line), ensure_ascii=False) + "\n")
        out.flush()


@click.command("place", help="JSON lines {\"lat\",\"lon\"} and/or {\"text\"} on stdin -> one place per line.")
def place_command() -> None:
    run(sys.stdin, sys.stdout)
