"""Which Bangkok district a point is in, by its polygon (``bot/data/bangkok_districts.geojson.gz``).

The nearest sub-district centre names the right Bangkok district for only about three located tickets in
four; the polygons for about 98 in 100. A lookup must cost microseconds (every shared location, every bench
row), so the polygons are cut once into a grid: a cell wholly inside one district answers from a dict; only
cells a boundary crosses ask shapely's prepared polygons (found through an STRtree).
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources

import numpy as np
import shapely
from shapely import STRtree

CELL_DEGREES = 0.004  # about 440 m: 80 % of Bangkok's cells lie inside one district
_MISSPELT = {"ราษฏร์บูรณะ": "ราษฎร์บูรณะ"}


class DistrictIndex:
    """The 50 polygons with a grid over their bounding box."""

    def __init__(self, names: list[str], geometries: list[shapely.Geometry]) -> None:
        self.names = names
        self.geometries = np.array(geometries)
        for geometry in geometries:
            shapely.prepare(geometry)
        self.tree = STRtree(self.geometries)
        self.west, self.south, self.east, self.north = shapely.total_bounds(self.geometries)
        self.columns = int((self.east - self.west) / CELL_DEGREES) + 1
        self.rows = int((self.north - self.south) / CELL_DEGREES) + 1
        self.inside: dict[int, int] = {}  # cell -> the one district wholly covering it
        self.crossed: dict[int, tuple[int, ...]] = {}  # cell -> the districts a boundary brings into it
        self._cut()

    def _cut(self) -> None:
        cells = np.arange(self.columns * self.rows)
        x0 = self.west + (cells % self.columns) * CELL_DEGREES
        y0 = self.south + (cells // self.columns) * CELL_DEGREES
        boxes = shapely.box(x0, y0, x0 + CELL_DEGREES, y0 + CELL_DEGREES)
        for cell, district in zip(*self.tree.query(boxes, predicate="within")):
            self.inside[int(cell)] = int(district)
        touching: dict[int, list[int]] = {}
        for cell, district in zip(*self.tree.query(boxes, predicate="intersects")):
            if int(cell) not in self.inside:
                touching.setdefault(int(cell), []).append(int(district))
        self.crossed = {cell: tuple(found) for cell, found in touching.items()}

    def district_at(self, lat: float, lon: float) -> str | None:
        """The district whose polygon holds the point; None when no polygon does."""
        if not (self.west <= lon < self.east and self.south <= lat < self.north):
            return None
        cell = int((lat - self.south) / CELL_DEGREES) * self.columns + int((lon - self.west) / CELL_DEGREES)
        found = self.inside.get(cell)
        if found is not None:
            return self.names[found]
        for district in self.crossed.get(cell, ()):
            if shapely.contains_xy(self.geometries[district], lon, lat):
                return self.names[district]
        return None

    def contains(self, district: str, lat: float, lon: float) -> bool:
        """Whether the point lies in the named district's polygon (used to keep sub-districts inside it)."""
        return bool(shapely.contains_xy(self.geometries[self.names.index(district)], lon, lat))


@cache
def bangkok_index() -> DistrictIndex:
    """Built once per process (about a second)."""
    raw = resources.files("bot.data").joinpath("bangkok_districts.geojson.gz").read_bytes()
    features = json.loads(gzip.decompress(raw))["features"]
    names = [_MISSPELT.get(n, n) for n in (f["properties"]["dname"].removeprefix("เขต") for f in features)]
    return DistrictIndex(names, [shapely.geometry.shape(f["geometry"]) for f in features])
