"""Helpers shared by the importer tests: CSV text from rows, and the residents columns."""

from __future__ import annotations

import csv
import io

#: Every column of a residents file, in the order the tests write them.
RES_COLUMNS = [
    "resident_id",
    "household_id",
    "name",
    "rrn",
    "birth_year",
    "sex",
    "lives_alone",
    "disability",
    "registered_on",
    "status",
    "household_size",
    "monthly_income_krw",
    "assets_krw",
    "address",
    "lon",
    "lat",
]


def table(columns: list[str], rows: list[dict[str, object]]) -> str:
    """CSV text with ``columns`` as header; missing keys and None are empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()
