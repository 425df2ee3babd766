"""the map's per-dong counts by due date (run_area_due_counts) instead of by day counted
(run_area_counts), built when a run is stored, so that reading the map writes nothing

Existing runs get their counts, and their heat cells where they have none, here. Due dates
before a run's as_of are counted on the day before it (geo.mapdata.aggregates).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The 250 m cell of household h (geo.mapdata.aggregates.HEAT_CELL_SQL, at 250 m).
CELL = (
    "floor(ST_X(ST_Transform(h.geom, 5179)) / 250)::int, "
    "floor(ST_Y(ST_Transform(h.geom, 5179)) / 250)::int"
)


def upgrade() -> None:
    op.create_table(
        "run_area_due_counts",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("score_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("tier", sa.SmallInteger, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "area_id", "tier", "due_on"),
    )
    op.execute("""
        INSERT INTO run_area_due_counts (run_id, area_id, tier, due_on, residents)
        SELECT s.run_id, h.area_id, s.tier, greatest(s.next_due_on, run.as_of - 1), count(*)
        FROM resident_scores s
        JOIN score_runs run ON run.id = s.run_id
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id
        GROUP BY 1, 2, 3, 4""")
    op.execute(f"""
        INSERT INTO run_high_cells (run_id, area_id, cell_x, cell_y, residents)
        SELECT s.run_id, h.area_id, {CELL}, count(*)
        FROM resident_scores s
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id
        WHERE s.tier = 2
          AND NOT EXISTS (SELECT 1 FROM run_high_cells c WHERE c.run_id = s.run_id)
        GROUP BY 1, 2, 3, 4""")
    op.drop_table("run_area_counts")


def downgrade() -> None:
    op.create_table(
        "run_area_counts",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("score_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("counted_on", sa.Date, nullable=False),
        sa.Column("area_id", sa.Integer, sa.ForeignKey("areas.id"), nullable=False),
        sa.Column("tier", sa.SmallInteger, nullable=False),
        sa.Column("overdue", sa.Boolean, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "counted_on", "area_id", "tier", "overdue"),
    )
    op.drop_table("run_area_due_counts")
