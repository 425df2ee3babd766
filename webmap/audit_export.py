"""Access audit rows (:func:`geo.audit.search_access`) as JSON-ready data and as CSV.

Pure functions of the rows; shared by the audit page (``/audit.csv``, ``/api/audit``) and
``visitmap audit search``. Times are Korean time with their offset.
"""

from __future__ import annotations

import csv
import io
import json

from geo.settings import SEOUL
from webmap.route_export import _cell

CSV_COLUMNS = (
    "at",
    "username",
    "user_id",
    "role",
    "address",
    "method",
    "endpoint",
    "path",
    "status",
    "resident_count",
    "resident_ids",
    "detail",
)


def audit_json(row: dict) -> dict:
    """Return one row, its time in ISO 8601 in Korean time, the residents' database ids left out."""
    return {
        "id": row["id"],
        "at": row["at"].astimezone(SEOUL).isoformat(),
        "user_id": row["user_id"],
        "username": row["username"],
        "role": row["role"],
        "address": row["address"],
        "method": row["method"],
        "endpoint": row["endpoint"],
        "path": row["path"],
        "status": row["status"],
        "resident_count": row["resident_count"],
        "resident_ids": list(row["resident_ids"]),
        "detail": row["detail"],
    }


def audit_csv(rows) -> str:
    """Return audit rows as CSV text: a header row, then one line per audit row.

    UTF-8 with a byte order mark (for Excel) and CRLF line ends. Resident ids are separated
    by spaces, ``detail`` is JSON; every cell is formula-safe (a cell starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so a spreadsheet
    does not run a path or name as a formula).

    Parameters
    ----------
    rows : iterable of dict
        Rows of :func:`geo.audit.search_access`.

    Returns
    -------
    str
        The CSV text, byte order mark first.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        item = audit_json(row)
        item["resident_ids"] = " ".join(item["resident_ids"])
        if item["detail"] is not None:
            item["detail"] = json.dumps(item["detail"], ensure_ascii=False, sort_keys=True)
        writer.writerow([_cell(item[column]) for column in CSV_COLUMNS])
    return out.getvalue()
