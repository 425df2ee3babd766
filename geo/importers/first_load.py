"""A residents file into empty households and residents tables: COPY straight into them.

With nothing stored, the staging table and its comparisons have nothing to compare with: the
households (one per ``household_id``, its first row) and the residents are written by two
COPYs, in key order, so that ids come out as the staged path gives them. The secondary
indexes and foreign keys are dropped before and made again after when the rows are many
(:data:`geo.importers.staging.BULK_MIN_ROWS`), as :func:`geo.importers.staging.sync` does.
Points outside every area, or any other problem, take the staged path, which reports them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from sqlalchemy import text

import geo.importers.staging as staging
from geo.db import copy_arrow, read_query_frame
from geo.importers.base import Batch, WriteResult
from geo.importers.staging import area_ids_for_points, drop_secondary, make_again, owns

#: households column -> column of the staged frame
HOUSEHOLD_SOURCE = {
    "external_id": "household_id",
    "size": "household_size",
    "monthly_income_krw": "monthly_income_krw",
    "assets_krw": "assets_krw",
    "address": "address",
}
#: residents column -> column of the staged frame (household_id and rrn_hmac made apart)
RESIDENT_SOURCE = {
    "external_id": "resident_id",
    "name": "name",
    "birth_year": "birth_year",
    "sex": "sex",
    "lives_alone": "lives_alone",
    "has_disability": "disability",
    "registered_on": "registered_on",
    "status": "status",
}


def tables_empty(session) -> bool:
    """Whether households and residents hold no row."""
    return not session.execute(
        text("SELECT EXISTS (SELECT FROM households) OR EXISTS (SELECT FROM residents)")
    ).scalar_one()


def first_load(
    batch: Batch, frame: pd.DataFrame, first_row: np.ndarray, distance_columns
) -> WriteResult | None:
    """COPY ``frame`` into empty tables; None when the staged path must run instead.

    ``frame`` holds the staged columns (``rrn_hmac`` in hex, ``receiving`` joined by ``;``,
    the service distances); ``first_row`` the position of each household's first row.
    """
    session = batch.session
    if not tables_empty(session):
        return None
    lon, lat = batch.coords()
    area_ids = area_ids_for_points(session, lon[first_row], lat[first_row])
    if area_ids is None or (area_ids < 0).any():
        return None  # the staged path reports the points outside every area
    homes = frame.iloc[first_row].reset_index(drop=True)
    points = shapely.set_srid(shapely.points(lon[first_row], lat[first_row]), 4326)
    receiving = homes["receiving"].fillna("").to_numpy(dtype=object)
    households = pd.DataFrame(
        {
            **{c: homes[s].array for c, s in HOUSEHOLD_SOURCE.items()},
            "area_id": area_ids,
            "geom": shapely.to_wkb(points, hex=True, include_srid=True),
            **{c: homes[c].to_numpy(dtype=float) for c in distance_columns},
            "receiving_programmes": ["{" + r.replace(";", ",") + "}" for r in receiving],
        }
    )
    _copy(session, "households", households)
    ids = read_query_frame(
        session, "SELECT external_id, id FROM households", text_columns=("external_id",)
    )
    at = pd.Index(ids["external_id"]).get_indexer(frame["household_id"])
    residents = pd.DataFrame(
        {
            **{c: frame[s].array for c, s in RESIDENT_SOURCE.items()},
            "household_id": ids["id"].to_numpy(dtype=np.int64)[at],
        }
    )
    hmacs = pa.array(frame["rrn_hmac"], type=pa.string(), from_pandas=True)
    _copy(
        session,
        "residents",
        residents,
        progress=batch.progress,
        rrn_hmac=pc.utf8_replace_slice(hmacs, 0, 0, "\\x"),
    )
    return WriteResult(
        len(residents),
        0,
        extra={"households inserted": len(households), "households updated": 0},
    )


def _copy(session, target: str, frame: pd.DataFrame, progress=None, **more: pa.Array) -> None:
    """COPY ``frame`` (and the columns ``more``) into ``target`` in ``external_id`` order.

    The order is the code-point order of the text, the order of the database's C collation
    that the staged path's ``ORDER BY`` follows. The indexes are rebuilt around the COPY when
    the rows are many. ``progress`` (a tqdm bar) advances with the rows sent.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, values in more.items():
        table = table.append_column(name, values)
    table = table.take(pc.sort_indices(table, [("external_id", "ascending")]))
    rebuild = len(frame) >= staging.BULK_MIN_ROWS and owns(session, target)
    made_again = drop_secondary(session, target) if rebuild else []
    copy_arrow(session, target, table, progress=progress)
    make_again(session, made_again)
