"""Schema and migrations against a real, empty PostGIS database."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from geo.db import make_engine
from geo.migrate import current_revision, downgrade, head_revision, include_object, upgrade
from geo.models import Base

pytestmark = pytest.mark.db

SPATIAL_TABLES = {"areas": "MULTIPOLYGON", "facilities": "POINT", "households": "POINT"}
#: Geometry columns without a GiST index of their own: computed ones (kept by PostgreSQL),
#: the base of a stored day plan (read by plan id only) and a hot-spot analysis's cells
#: (read by run id only).
DERIVED_GEOMETRY = {
    ("areas", "label_point"): "POINT",
    ("route_plans", "base_geom"): "POINT",
    ("hotspot_cells", "geom"): "MULTIPOLYGON",
}
#: Web Mercator geometry (issue 15): the resident tiles' layer, indexed (GiST), and the log of
#: the points visits changed (read by id only).
MERCATOR_GEOMETRY = {"run_tile_points": "POINT", "tile_changes": "POINT"}


@pytest.fixture(scope="module")
def empty_engine(scratch_database):
    engine = make_engine(scratch_database("visitmap_test_schema"))
    yield engine
    engine.dispose()


def test_upgrade_from_empty_reaches_head(empty_engine):
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    tables = set(inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_geometry_columns_have_srid_4326_and_gist_index(empty_engine):
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        columns = {
            (row.f_table_name, row.f_geometry_column): (row.type, row.srid)
            for row in conn.execute(
                text(
                    "SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns "
                    "WHERE f_table_schema = 'public'"
                )
            )
        }
        gist = {
            row.tablename
            for row in conn.execute(
                text(
                    "SELECT tablename FROM pg_indexes WHERE schemaname = 'public' "
                    "AND indexdef ILIKE '%USING gist (geom)%'"
                )
            )
        }
    expected = {(name, "geom"): kind for name, kind in SPATIAL_TABLES.items()} | DERIVED_GEOMETRY
    mercator = {(name, "geom"): (kind, 3857) for name, kind in MERCATOR_GEOMETRY.items()}
    assert columns == {key: (kind, 4326) for key, kind in expected.items()} | mercator
    assert gist == set(SPATIAL_TABLES) | {"run_tile_points"}


def test_migrations_match_the_models(empty_engine):
    """Autogenerate finds nothing to change: migrations and models describe one schema."""
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_back(empty_engine):
    upgrade(empty_engine)
    downgrade(empty_engine, "base")
    left = set(inspect(empty_engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
    assert left == set()
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()


def test_constraints_reject_bad_rows(db):
    """CHECK constraints hold even for writes that bypass the importers."""
    with pytest.raises(IntegrityError, match="ck_residents_rrn_hmac_length"), db.begin_nested():
        db.execute(
            text("""
                WITH h AS (INSERT INTO households (external_id, area_id, size,
                    monthly_income_krw, geom)
                    SELECT 'H-x', id, 1, 0, ST_PointOnSurface(geom) FROM areas LIMIT 1
                    RETURNING id)
                INSERT INTO residents (external_id, household_id, rrn_hmac, birth_year, sex,
                    lives_alone, has_disability, registered_on)
                SELECT 'R-x', id, convert_to('900101-1234567', 'UTF8'), 1990, 'M', true, false,
                    '2020-01-01'
                FROM h""")
        )
    with pytest.raises(IntegrityError, match="ck_crisis_signals_one_subject"), db.begin_nested():
        db.execute(
            text("""INSERT INTO crisis_signals (external_id, kind, observed_on,
            source_agency) VALUES ('S-x', 'rent_arrears', '2026-01-01', 'x')""")
        )


def test_partitioning_migration_keeps_stored_scores(empty_engine):
    """0005 moves each run's rows into its own partition, and back on downgrade."""
    downgrade(empty_engine, "base")
    upgrade(empty_engine, "0004")
    with empty_engine.begin() as conn:
        for run_id in (1, 2):
            conn.execute(
                text("""INSERT INTO score_runs (id, created_by, method, config_version,
                    parameters, as_of, feature_names, input_counts, inputs_digest, tier_counts,
                    metrics) VALUES (:id, 'test', 'weighted', 'v1', '{}', '2026-11-01', '{a}',
                    '{}', 'd', '{}', '{}')"""),
                {"id": run_id},
            )
        conn.execute(
            text("""INSERT INTO resident_scores VALUES
                (1, 10, 0.5, 1, '2026-12-01', '\\x00000000', '\\x00000000'),
                (1, 11, 0.9, 2, '2026-12-01', '\\x00000000', '\\x00000000'),
                (2, 10, 0.2, 0, '2027-05-01', '\\x00000000', '\\x00000000')""")
        )
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        by_partition = conn.execute(
            text("""SELECT tableoid::regclass::text, count(*) FROM resident_scores
                GROUP BY 1 ORDER BY 1""")
        ).all()
        kind = conn.execute(
            text("SELECT relkind FROM pg_class WHERE relname = 'resident_scores'")
        ).scalar_one()
    assert kind == "p"
    assert by_partition == [("resident_scores_run_1", 2), ("resident_scores_run_2", 1)]
    downgrade(empty_engine, "0004")
    with empty_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT run_id, resident_id, tier FROM resident_scores ORDER BY 1, 2")
        ).all()
    assert rows == [(1, 10, 1), (1, 11, 2), (2, 10, 0)]
    upgrade(empty_engine)
