"""Analysts' exports: no personal data in them, stable pseudonyms, small counts suppressed;
the command and the API (issue 10, B6)."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.analyst_export import (
    SUPPRESS_BELOW,
    ExportError,
    analyst_aggregates,
    analyst_residents,
    load_pseudonym_key,
    pseudonym,
)
from geo.scope import Scope
from tests.webmap.conftest import AS_OF

pytestmark = pytest.mark.db

KEY = b"k" * 40


@pytest.fixture(scope="module")
def people(map_database):
    """Every resident's identifying values, to look for in the exports."""
    with Session(map_database["engine"]) as session:
        return (
            session.execute(
                text("""SELECT r.external_id, r.name, h.address, encode(r.rrn_hmac, 'hex')
                           AS rrn, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat
                    FROM residents r JOIN households h ON h.id = r.household_id""")
            )
            .mappings()
            .all()
        )


@pytest.fixture(scope="module")
def export(map_database):
    with Session(map_database["engine"]) as session:
        return analyst_residents(session, Scope.everything(), pseudonym_key=KEY)


def test_the_export_holds_no_name_address_id_registration_number_or_coordinate(
    export, people, map_database
):
    with Session(map_database["engine"]) as session:
        scored = session.execute(
            text("SELECT count(*) FROM resident_scores WHERE run_id = :r"),
            {"r": map_database["run_id"]},
        ).scalar()
    assert len(export) == scored > 100
    csv = export.to_csv(index=False)
    names = [p["name"] for p in people if p["name"] and len(p["name"]) >= 2]
    assert names  # the checks below can fail
    assert [n for n in names if n in csv] == []
    assert [p["address"] for p in people if p["address"] and p["address"] in csv] == []
    assert [p["external_id"] for p in people if re.search(rf"\b{p['external_id']}\b", csv)] == []
    assert [p["rrn"] for p in people if p["rrn"] and p["rrn"] in csv] == []
    coordinates = {f"{p['lon']:.5f}" for p in people} | {f"{p['lat']:.5f}" for p in people}
    assert [c for c in coordinates if c in csv] == []
    forbidden = {"name", "address", "rrn", "rrn_hmac", "lon", "lat", "geom", "notes"}
    assert forbidden.isdisjoint(export.columns)
    assert export["birth_year"].between(1900, AS_OF.year).all()
    assert {c for c in export.columns if c.startswith("f_")}  # the features are there


def test_pseudonyms_are_stable_with_one_key_and_change_with_another(export, map_database):
    with Session(map_database["engine"]) as session:
        again = analyst_residents(session, Scope.everything(), pseudonym_key=KEY)
        other = analyst_residents(session, Scope.everything(), pseudonym_key=b"o" * 40)
    assert list(again["pseudonym"]) == list(export["pseudonym"])
    assert export["pseudonym"].is_unique
    assert set(other["pseudonym"]).isdisjoint(export["pseudonym"])
    assert pseudonym(map_database["xss_id"], KEY) in set(export["pseudonym"])


def test_a_scope_of_one_dong_exports_only_that_dong(map_database):
    with Session(map_database["engine"]) as session:
        code = session.execute(text("SELECT min(code) FROM areas")).scalar()
        rows = analyst_residents(session, Scope.of_areas([code]), pseudonym_key=KEY)
    assert len(rows) > 0 and set(rows["area_code"]) == {code}


def test_counts_from_1_to_4_are_suppressed_and_no_total_is_given(map_database):
    """Every count from 1 to 4 is hidden, every count shown is exact, and no line of the table
    (a dong's tiers in a band, a tier across a dong's bands, a tier and band across the dongs)
    holds a single hidden cell that its total (known elsewhere) would give back."""
    with Session(map_database["engine"]) as session:
        counts = analyst_aggregates(session, Scope.everything(), by_age=True, as_of_year=AS_OF.year)
        by_dong = analyst_aggregates(session, Scope.everything(), as_of_year=AS_OF.year)
        truth = pd.DataFrame(
            session.execute(
                text("""SELECT a.code AS area_code, r.birth_year, s.tier FROM resident_scores s
                    JOIN residents r ON r.id = s.resident_id
                    JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
                    WHERE s.run_id = :r"""),
                {"r": map_database["run_id"]},
            ).all(),
            columns=["area_code", "birth_year", "tier"],
        )
    age = AS_OF.year - truth["birth_year"]
    labels = ["0-19", "20-39", "40-64", "65-74", "75-84", "85+"]
    band = pd.cut(age, [-1, 19, 39, 64, 74, 84, 200], labels=labels).astype(str)
    tiers = truth["tier"].map({0: "low", 1: "medium", 2: "high"})
    truth = truth.assign(age_band=band, tier_name=tiers)
    for table, keys in ((counts, ["area_code", "age_band"]), (by_dong, ["area_code"])):
        true_counts = truth.groupby([*keys, "tier_name"]).size()
        cells = table.set_index(keys)[["low", "medium", "high"]].stack()
        cells.index.names = [*keys, "tier_name"]
        true_cells = true_counts.reindex(cells.index, fill_value=0)
        hidden = cells.isna()
        small = (true_cells > 0) & (true_cells < SUPPRESS_BELOW)
        assert small.any() and hidden[small].all()  # every small count hidden, and some were
        assert (cells[~hidden] == true_cells[~hidden]).all()  # every count shown exact
        single = primary_single = 0
        for level in cells.index.names:
            others = [n for n in cells.index.names if n != level]
            for mask in (hidden, small):
                per_line = mask.groupby(level=others).agg(["sum", "size"])
                found = int(((per_line["sum"] == 1) & (per_line["size"] > 1)).sum())
                if mask is hidden:
                    single += found
                else:
                    primary_single += found
        assert primary_single > 0  # suppressing the small counts alone would give some back
        assert single == 0
    assert not {"total", "residents", "all"} & set(counts.columns)


def test_the_command_writes_the_files(map_database, tmp_path, monkeypatch):
    from visitmap.analyst_cli import export as export_group

    monkeypatch.setenv("VISITMAP_DATABASE_URL", map_database["url"])
    monkeypatch.setenv("VISITMAP_PSEUDONYM_KEY", KEY.decode())
    out, counts = tmp_path / "r.csv", tmp_path / "c.csv"
    result = CliRunner().invoke(
        export_group, ["analyst", "--out", str(out), "--aggregates", str(counts)]
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out)
    assert pseudonym(map_database["xss_id"], KEY) in set(rows["pseudonym"])
    assert "name" not in rows.columns
    assert set(pd.read_csv(counts).columns) >= {"area_code", "low", "medium", "high"}


def test_the_pseudonym_key_is_made_once_and_is_not_the_registration_key(tmp_path):
    first = load_pseudonym_key(tmp_path, environ={})
    assert load_pseudonym_key(tmp_path, environ={}) == first and len(first) >= 32
    assert (tmp_path / "pseudonym.key").stat().st_mode & 0o077 == 0
    assert load_pseudonym_key(tmp_path, environ={"VISITMAP_PSEUDONYM_KEY": "x" * 32}) == b"x" * 32
    same = {"VISITMAP_PSEUDONYM_KEY": "r" * 40, "VISITMAP_RRN_HMAC_KEY": "r" * 40}
    with pytest.raises(ExportError, match="registration-number key"):
        load_pseudonym_key(tmp_path, environ=same)


def test_the_api_gives_analysts_pseudonymised_rows_and_counts(map_app, map_database):
    with map_app.test_client(role="analyst") as client:
        page = client.get("/api/analyst/residents?limit=3").get_json()
        assert len(page["residents"]) == 3 and page["total"] > 100
        assert "name" not in page["residents"][0]
        csv = client.get("/api/analyst/residents?format=csv")
        assert csv.mimetype == "text/csv"
        assert len(pd.read_csv(io.StringIO(csv.get_data(as_text=True)))) == page["total"]
        counts = client.get("/api/analyst/aggregates").get_json()["rows"]
        assert len(counts) == 14
        bad = client.get("/api/analyst/residents?format=xml")
        assert bad.status_code == 400 and bad.get_json()["parameter"] == "format"
    with map_app.test_client(role="visitor") as client:
        assert client.get("/api/analyst/residents").status_code == 403
    with map_app.test_client(role="dong") as client:  # a leader: their dong only
        rows = client.get("/api/analyst/residents?limit=100000").get_json()["residents"]
        assert len({r["area_code"] for r in rows}) == 1


def test_the_map_shows_analysts_no_count_from_1_to_4(map_app, map_database):
    """Per-dong counts (API, low-zoom tiles, the page's heatmap and overview) as an analyst
    sees them; a leader sees the same counts in full (so that the check can fail)."""
    import mapbox_vector_tile

    from geo.mapdata.tiles import tile_of

    with map_app.test_client(role="leader") as client:
        full = client.get("/api/areas").get_json()["areas"]
    small_cells = [
        (a["code"], kind, tier)
        for a in full
        for kind in ("tier_counts", "overdue_counts")
        for tier, n in a[kind].items()
        if 0 < n < SUPPRESS_BELOW
    ]
    assert small_cells  # the demo has some
    with map_app.test_client(role="analyst") as client:
        seen = {a["code"]: a for a in client.get("/api/areas").get_json()["areas"]}
        x, y = tile_of(126.94, 37.58, 11)
        tile = mapbox_vector_tile.decode(client.get(f"/tiles/residents/11/{x}/{y}.pbf").data)
        page = client.get("/").get_data(as_text=True)
        overview = client.get("/overview")
    for code, kind, tier in small_cells:
        assert seen[code][kind][tier] is None
        assert seen[code]["residents_scored"] is None and seen[code]["high_per_1000"] is None
    shown = [
        v
        for a in seen.values()
        for kind in ("tier_counts", "overdue_counts")
        for v in a[kind].values()
        if v is not None
    ]
    assert shown and all(v == 0 or v >= SUPPRESS_BELOW for v in shown)
    values = [
        v
        for f in tile["areas"]["features"]
        for k, v in f["properties"].items()
        if k not in ("code", "name")
    ]
    assert values and all(v == 0 or v >= SUPPRESS_BELOW for v in values)
    for feature in tile["areas"]["features"]:  # the tile hides what /api/areas hides
        props, code = feature["properties"], feature["properties"]["code"]
        for tier, n in seen[code]["tier_counts"].items():
            assert props.get(tier) == n, (code, tier)
    start = page.index("L.heatLayer(") + len("L.heatLayer(")
    cells, _ = json.JSONDecoder().raw_decode(page[start:].lstrip())
    assert all(cell[2] >= SUPPRESS_BELOW for cell in cells)  # the leader's had 1s and 2s
    assert overview.status_code == 200


def test_the_distances_do_not_place_a_household_within_its_dong(export, map_database):
    """An analyst who knows the public facilities and the dong boundaries looks, on a 25 m
    grid over each resident's dong, for the points whose distances to the nearest facilities
    match the export's. With exact distances most households are left a few hundred square
    metres (the check can fail); with the export's bands, a large part of the dong."""
    import numpy as np
    from scipy.spatial import cKDTree
    from shapely import contains_xy, from_wkb

    from geo.analyst_export import DISTANCE_BAND_M

    with Session(map_database["engine"]) as session:
        facilities = session.execute(
            text("""SELECT kind, ST_X(ST_Transform(geom, 5179)), ST_Y(ST_Transform(geom, 5179))
                FROM facilities""")
        ).all()
        areas = dict(
            session.execute(
                text("SELECT code, ST_AsBinary(ST_Transform(geom, 5179)) FROM areas")
            ).all()
        )
        exact = pd.DataFrame(
            session.execute(
                text("""SELECT r.external_id, h.nearest_community_centre_m AS cc,
                        h.nearest_senior_or_welfare_m AS sw
                    FROM residents r JOIN households h ON h.id = r.household_id""")
            ).all(),
            columns=["external_id", "cc", "sw"],
        )
    exact.index = [pseudonym(i, KEY) for i in exact["external_id"]]
    community = cKDTree([(x, y) for kind, x, y in facilities if kind == "community_centre"])
    senior = cKDTree(
        [(x, y) for kind, x, y in facilities if kind in ("senior_centre", "welfare_centre")]
    )
    grids = {}
    for code, wkb in areas.items():
        geom = from_wkb(bytes(wkb))
        minx, miny, maxx, maxy = geom.bounds
        xs, ys = np.meshgrid(np.arange(minx, maxx, 25.0), np.arange(miny, maxy, 25.0))
        xs, ys = xs.ravel(), ys.ravel()
        inside = contains_xy(geom, xs, ys)
        points = np.c_[xs[inside], ys[inside]]
        grids[code] = (community.query(points)[0], senior.query(points)[0])
    sample = export.sample(200, random_state=0)
    banded, precise = [], []
    for row in sample.itertuples():
        cc, sw = grids[row.area_code]
        band = np.floor(cc / DISTANCE_BAND_M) == np.floor(
            row.f_nearest_community_centre_m / DISTANCE_BAND_M
        )
        band &= np.floor(sw / DISTANCE_BAND_M) == np.floor(
            row.f_nearest_senior_or_welfare_m / DISTANCE_BAND_M
        )
        banded.append(band.mean())
        true = exact.loc[row.pseudonym]
        precise.append(((abs(cc - true.cc) < 15) & (abs(sw - true.sw) < 15)).mean())
    assert np.median(precise) < 0.02  # exact distances: a few grid points of the dong
    assert np.median(banded) > 0.3 and np.quantile(banded, 0.1) > 0.05
    values = sample["f_nearest_community_centre_m"] % DISTANCE_BAND_M
    assert (values == DISTANCE_BAND_M / 2).all()  # band middles only
