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


def measure_text(rows: list[dict], errors: list | None = None) -> dict:
    """Precision and marker recall of ``resolve_text`` against the tickets' districts, and why the wrong ones are.

    Each wrong extraction gets one class (docs/nlp.md): ``text_is_point`` the ticket's own coordinates lie in the
    district the text names, so the ticket's district is the office that handled it, not the place (label
    noise); ``far`` the named district does not even border the ticket's (the point, and so the handler, is
    elsewhere than the place the text describes); ``neighbour`` it borders it (the citizen named the district
    next door, or the ticket went to the neighbour); ``outside`` the ticket was handled outside Bangkok;
    ``errors`` (a list) receives one dict per wrong extraction.
    """
    extracted = right = marked = marked_found = 0
    wrong: dict[str, int] = {}
    classes = dict.fromkeys(("text_is_point", "far", "neighbour", "outside"), 0)
    for r in rows:
        truth = district_of(r)
        place = places.resolve_text(r["text"])
        if place is not None and place.district:
            extracted += 1
            if place.district == truth:
                right += 1
            else:
                wrong[f"{place.district}!={truth}"] = wrong.get(f"{place.district}!={truth}", 0) + 1
                kind = _error_class(r, place.district, truth)
                classes[kind] += 1
                if errors is not None:
                    errors.append({"ticket_id": r["ticket_id"], "extracted": place.district, "ticket": truth,
                                   "class": kind, "text": r["text"]})
        if re.search(MARKED + re.escape(truth), r["text"]):
            marked += 1
            marked_found += place is not None and place.district == truth
    noise = classes["text_is_point"]
    return {"texts": len(rows), "district_extracted": _rate(extracted, len(rows)), "extracted": extracted,
            "extracted_right": _rate(right, extracted), "wrong": extracted - right, "named_with_marker": marked,
            "marker_found": _rate(marked_found, marked), "marker_found_count": marked_found,
            "wrong_by_class": classes, "right_without_label_noise": _rate(right, extracted - noise),
            "most_wrong": sorted(wrong.items(), key=lambda kv: -kv[1])[:12]}


def _error_class(row: dict, extracted: str, truth: str) -> str:
    index = places.bangkok_index()
    if row["lat"] and row["lon"] and index.district_at(float(row["lat"]), float(row["lon"])) == extracted:
        return "text_is_point"
    if truth not in index.names:
        return "outside"
    return "neighbour" if _borders(extracted, truth) else "far"


def _borders(one: str, other: str) -> bool:
    index = places.bangkok_index()
    if one not in index.names:
        return False
    first, second = (index.geometries[index.names.index(name)] for name in (one, other))
    return bool(first.distance(second) < 1e-4)  # degrees, about 10 m: the two polygons share a boundary


def _rate(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("tune", "check", "all"), default="tune")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--errors", type=Path, default=None, help="write the wrong extractions here (JSON lines)")
    args = parser.parse_args(argv)
    rows = tickets(args.part)[:args.limit]
    errors: list = []
    print(json.dumps({"part": args.part, "polygons": measure_polygons(rows), "text": measure_text(rows, errors)},
                     ensure_ascii=False, indent=1))
    if args.errors:
        args.errors.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors), "utf-8")


if __name__ == "__main__":
    main()
