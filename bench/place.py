"""Place resolution measured on the shared Traffy tickets (they carry coordinates and the handling district).

    python -m bench.place [--part tune|check|all] [--limit N]

Prints, for located Bangkok tickets, how often the polygon lookup and the old nearest-centre lookup agree with
the ticket's district, and the time per lookup; for texts, how often an extracted district is right
(precision) and how often a text that names its own district after a marker is found (marker recall).
The rules were tuned on the ``tune`` part (ticket ids whose CRC32 is not divisible by 4); ``check`` (the
other quarter) was run once at the end. Results: docs/nlp.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
import zlib
from pathlib import Path

from bot import places
from bot.nlp.dataset import DEFAULT_DATA as TICKETS
from bot.places.gazetteer import BANGKOK_TH

MARKED = "(?:เขต|อำเภอ|อ\\.)\\s*[:：]?\\s*"


def tickets(part: str, path: Path = TICKETS) -> list[dict]:
    """Tickets with a district, from the chosen part of the split."""
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["district"].strip()]
    if part == "all":
        return rows
    check = part == "check"
    return [r for r in rows if (zlib.crc32(r["ticket_id"].encode()) % 4 == 0) == check]


def district_of(row: dict) -> str:
    """The ticket's district without its prefix; a few sources cut the longest name short."""
    name = re.sub(r"^(เขต|อำเภอ)\s*", "", row["district"].strip())
    whole = [d.name_th for d in places.bangkok_districts().values() if d.name_th.startswith(name)]
    return whole[0] if len(whole) == 1 and len(name) >= 6 else name


def measure_polygons(rows: list[dict]) -> dict:
    located = [(float(r["lat"]), float(r["lon"]), district_of(r)) for r in rows
               if r["lat"] and r["lon"] and r["province"].removeprefix("จังหวัด") == BANGKOK_TH]
    places.resolve_location(13.75, 100.5)  # build the index outside the clock
    start = time.perf_counter()
    found = [places.resolve_location(lat, lon) for lat, lon, _ in located]
    per_lookup = (time.perf_counter() - start) / max(1, len(located)) * 1e6
    start = time.perf_counter()
    grid = [places.bangkok_index().district_at(lat, lon) for lat, lon, _ in located]
    per_polygon = (time.perf_counter() - start) / max(1, len(located)) * 1e6
    nearest = [places._nearest(lat, lon)[0] for lat, lon, _ in located]
    right = sum(1 for p, (_, _, d) in zip(found, located) if p is not None and p.district == d)
    on_polygon = sum(1 for g in grid if g is not None)
    baseline = sum(1 for c, (_, _, d) in zip(nearest, located) if c.district == d)
    return {"located_bangkok": len(located), "polygon_agrees": _rate(right, len(located)),
            "on_a_polygon": _rate(on_polygon, len(located)), "nearest_centre_agrees": _rate(baseline, len(located)),
            "us_per_resolve_location": round(per_lookup, 1), "us_per_polygon_lookup": round(per_polygon, 2)}


def measure_text(rows: list[dict]) -> dict:
    extracted = right = marked = marked_found = 0
    wrong: dict[str, int] = {}
    for r in rows:
        truth = district_of(r)
        place = places.resolve_text(r["text"])
        if place is not None and place.district:
            extracted += 1
            if place.district == truth:
                right += 1
            else:
                wrong[f"{place.district}!={truth}"] = wrong.get(f"{place.district}!={truth}", 0) + 1
        if re.search(MARKED + re.escape(truth), r["text"]):
            marked += 1
            marked_found += place is not None and place.district == truth
    return {"texts": len(rows), "district_extracted": _rate(extracted, len(rows)),
            "extracted_right": _rate(right, extracted), "named_with_marker": marked,
            "marker_found": _rate(marked_found, marked),
            "most_wrong": sorted(wrong.items(), key=lambda kv: -kv[1])[:12]}


def _rate(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("tune", "check", "all"), default="tune")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    rows = tickets(args.part)[:args.limit]
    print(json.dumps({"part": args.part, "polygons": measure_polygons(rows), "text": measure_text(rows)},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
