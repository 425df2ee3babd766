"""map aggregates: per-dong tier counts and high-tier heat cells per run; 3857 tile index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE areas ADD COLUMN label_point geometry(POINT, 4326) "
        "GENERATED ALWAYS AS (ST_PointOnSurface(geom)) STORED"
    )
    op.create_table(
        "run_area_counts",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("counted_on", sa.Date(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_run_area_counts_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.id"],
            name=op.f("fk_run_area_counts_run_id_score_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "counted_on", "area_id", "tier", "overdue", name=op.f("pk_run_area_counts")
        ),
    )
    op.create_table(
        "run_high_cells",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("cell_x", sa.Integer(), nullable=False),
        sa.Column("cell_y", sa.Integer(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_run_high_cells_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.id"],
            name=op.f("fk_run_high_cells_run_id_score_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "area_id", "cell_x", "cell_y", name=op.f("pk_run_high_cells")
        ),
    )
    op.create_index(
        "ix_households_geom_3857",
        "households",
        [sa.literal_column("ST_Transform(geom, 3857)")],
        unique=False,
        postgresql_using="gist",
    )


def downgrade() -> None:
    op.drop_index("ix_households_geom_3857", table_name="households")
    op.drop_table("run_high_cells")
    op.drop_table("run_area_counts")
    op.drop_column("areas", "label_point")
