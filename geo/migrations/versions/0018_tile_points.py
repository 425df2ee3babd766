"""the published run's residents in the shape tiles need (issue 15)

``run_tile_points`` holds, per score run, one row per point where residents live (members of
a household, and households at the same address, share one): its dong, the point in Web
Mercator (EPSG:3857), and per tier the number of residents, their ids and next due dates in
score order and the earliest due date. It is partitioned by run (``run_tile_points_run_<id>``),
written when a run is published and adjusted when a recorded visit rescores a resident
(geo.mapdata.tile_points); the resident tiles from zoom 14 read it alone.

``tile_changes`` logs the points a recorded visit changed, so that every server process can
drop the cached tiles holding them (webmap.tile_cache).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIERS = ("low", "medium", "high")


def upgrade() -> None:
    """Create the two tables."""
    columns = [
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("area_id", sa.Integer, nullable=False),
        sa.Column(
            "geom",
            Geometry("POINT", srid=3857, spatial_index=False),
            nullable=False,
        ),
    ]
    for tier in TIERS:
        columns += [
            sa.Column(f"n_{tier}", sa.Integer, nullable=False),
            sa.Column(f"ids_{tier}", pg.ARRAY(sa.Text), nullable=True),
            sa.Column(f"dues_{tier}", pg.ARRAY(sa.Date), nullable=True),
            sa.Column(f"min_due_{tier}", sa.Date, nullable=True),
        ]
    op.create_table(
        "run_tile_points",
        *columns,
        sa.ForeignKeyConstraint(
            ["run_id"], ["score_runs.id"], ondelete="CASCADE",
            name=op.f("fk_run_tile_points_run_id_score_runs"),
        ),
        postgresql_partition_by="LIST (run_id)",
    )  # fmt: skip
    op.execute("CREATE INDEX ix_run_tile_points_geom ON run_tile_points USING gist (geom)")
    op.create_table(
        "tile_changes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("area_id", sa.Integer, nullable=False),
        sa.Column("geom", Geometry("POINT", srid=3857, spatial_index=False), nullable=False),
        sa.Column(
            "changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    """Drop them (the partitions go with their table)."""
    op.drop_table("tile_changes")
    op.drop_table("run_tile_points")
