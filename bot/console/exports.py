"""CSV files staff download and open in Excel or LibreOffice: safe against formula injection, and readable.

A cell a citizen wrote that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run
as a formula by the spreadsheet (``=HYPERLINK(...)`` sending the sheet's data away, ``=cmd|...``); such a
cell is prefixed with ``'``, which spreadsheets show as text. The file starts with a UTF-8 byte order mark,
without which Excel reads Thai as mojibake.
"""

from __future__ import annotations

import csv
from typing import Any, Iterable, TextIO

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will take it as data, never as a formula (numbers are left as numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose every row goes through ``safe_cell``; the first row written follows the BOM."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        # CRLF rows (RFC 4180): then csv quotes every cell holding a CR or LF, which "\n" rows would leave
        # bare, splitting a citizen's multi-line text over several rows.
        self._writer = csv.writer(out, lineterminator="\r\n")
        self._started = False

    def writerow(self, row: Iterable[Any]) -> None:
        if not self._started:
            self._out.write(BOM)
            self._started = True
        self._writer.writerow([safe_cell(value) for value in row])
