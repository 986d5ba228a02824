"""Reading labelled complaints (the Traffy CSV format) and splitting them by ticket, reproducibly.

The split is a hash of the ticket id with a fixed salt, so any file in the Traffy format can be told
which of its rows the shipped model was trained on, and ``siang nlp evaluate`` can leave them out.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.categories import map_labels, parse_type

SPLIT_SALT = "siang-nlp-split-2025"
# Percent of tickets: [0, 80) train, [80, 90) calibration (temperature + threshold), [90, 100) test.
TRAIN_END, CALIB_END = 80, 90
EXPORT_2022 = "motethansen/traffyfonduedata"
REPOSITORY = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """The shared data folder: ``SIANG_SHARED``, else ``../shared`` beside the repository (as laid out for
    developers and CI alike). Never a folder of one machine."""
    return Path(os.environ.get("SIANG_SHARED") or REPOSITORY.parent / "shared")


# The labelled complaints; ``SIANG_TRAFFY_CSV`` points at another export in the same format.
DEFAULT_DATA = Path(os.environ.get("SIANG_TRAFFY_CSV") or shared_dir() / "data" / "traffy" / "complaints.csv")


@dataclass(frozen=True)
class Example:
    """One labelled complaint: text and the set of our categories that count as correct for it."""

    ticket_id: str
    text: str
    accepted: frozenset[str]
    source: str = ""

    @property
    def from_2022_export(self) -> bool:
        return self.source.startswith(EXPORT_2022)


def split_of(ticket_id: str) -> str:
    """``train``, ``calib`` or ``test`` for a ticket id (stable across runs and machines)."""
    bucket = int(hashlib.sha1(f"{SPLIT_SALT}:{ticket_id}".encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < TRAIN_END else "calib" if bucket < CALIB_END else "test"


def read_examples(path: Path | str, keep_unlabelled: bool = False) -> list[Example]:
    """Rows of a Traffy-format CSV; rows whose labels map to nothing (``{}``, meta-tags only) are dropped
    unless ``keep_unlabelled`` (there is no right answer to score them against)."""
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            accepted = map_labels(parse_type(row.get("type", "")))
            if not accepted and not keep_unlabelled:
                continue
            out.append(Example(row.get("ticket_id") or f"row-{i}", row.get("text", ""), accepted,
                               row.get("source", "")))
    return out


def read_corrections(path: Path | str) -> list[Example]:
    """Staff corrections: a CSV with columns ``text,category`` (category = one of our ids)."""
    with open(path, encoding="utf-8", newline="") as f:
        return [Example(f"correction-{i}", r["text"], frozenset({r["category"].strip()}), "corrections")
                for i, r in enumerate(csv.DictReader(f)) if r.get("text", "").strip()]
