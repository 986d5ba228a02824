"""Parameters of console pages and the APIs, read so that an odd value is a clear 4xx, never a 500.

A crawler, a typo or an attacker may send any bytes: dates out of range, ``page=1e23``, ids larger than a
database integer, NUL (which PostgreSQL refuses in text), CR/LF. ``refuse_odd_parameters`` runs before every
request under the console and the APIs and turns the ones no handler can use into 400 (or 404 for an id no
row can have); ``day`` and ``page_number`` read the common parameters with their limits.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import abort, jsonify, request

from storage.models.core import BANGKOK

GUARDED = ("/console", "/open311", "/api")
BIGGEST_ID = 2 ** 63 - 1
FIRST_DAY, LAST_DAY = datetime(1970, 1, 1, tzinfo=BANGKOK), datetime(2200, 12, 31, tzinfo=BANGKOK)
MAX_PAGE = 100_000
# C0 controls and DEL in a query parameter or a path; NUL anywhere (forms too). Tab, CR and LF stay
# possible in forms: staff write multi-line notes.
_CONTROL = re.compile("[\\x00-\\x1f\\x7f]")
_INTEGER = re.compile(r"-?\d{19,}")


def refuse_odd_parameters():
    """``before_request``: the parameter that cannot be used, named in a 400; an id beyond any row, 404."""
    if not request.path.startswith(GUARDED):
        return None
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and abs(value) > BIGGEST_ID:
            return _refuse(404, f"no such {name}")
        if isinstance(value, str) and _CONTROL.search(value):
            return _refuse(404, f"no such {name}")
    for name, value in request.args.items(multi=True):
        if _CONTROL.search(name) or _CONTROL.search(value):
            return _refuse(400, f"parameter {_shown(name)!r} contains control characters (CR, LF, NUL…)")
        if _INTEGER.fullmatch(value.strip()) and abs(int(value)) > BIGGEST_ID:
            return _refuse(400, f"parameter {_shown(name)!r} is out of range")
    if request.path.startswith("/console") and request.method == "POST":
        for name, value in request.form.items(multi=True):
            if "\x00" in value or _CONTROL.search(name):
                return _refuse(400, f"field {_shown(name)!r} contains a NUL character")
    return None


def day(value: str | None, default: datetime, name: str) -> datetime:
    """A ``YYYY-MM-DD`` day (Bangkok) between 1970 and 2200, or a 400 that says so."""
    if not value:
        return default
    try:
        parsed = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=BANGKOK)
    except ValueError:
        parsed = None
    if parsed is None or not FIRST_DAY <= parsed <= LAST_DAY:
        abort(400, description=f"{name} must be a day YYYY-MM-DD between {FIRST_DAY:%Y} and {LAST_DAY:%Y}, "
                               f"got {_shown(value)!r}")
    return parsed


def page_number(value: str | None) -> int:
    """A page number: anything unreadable is page 1, anything huge the last page we would ever serve."""
    try:
        return min(MAX_PAGE, max(1, int(value or 1)))
    except ValueError:
        return 1


def _refuse(status: int, message: str):
    if request.path.startswith("/console"):
        abort(status, description=message)
    response = jsonify({"error": {"code": "invalid_parameter" if status == 400 else "not_found", "message": message}})
    return response, status


def _shown(text: str) -> str:
    return text[:40]
