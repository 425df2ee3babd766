"""blind spots (issue 14): eligibility screening, hot spots, the blind-spot list

Households get ``receiving_programmes`` (the programmes of the eligibility catalogue they
receive, as imported). New tables: eligibility_results (one household's screening against
one programme), hotspot_cells (a hot-spot analysis of a score run, on H3 cells and dongs) and
blind_spots (the combined list, one row per resident with its reasons).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Frozen here, not imported (visitmap.vocab as of this migration).
REASONS = "'eligible_unreached', 'hotspot', 'far_from_help', 'no_contact'"


def upgrade() -> None:
    """Add the receiving column and the three tables."""
    op.add_column(
        "households",
        sa.Column(
            "receiving_programmes",
            postgresql.ARRAY(Text()),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_table(
        "eligibility_results",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("programme", sa.Text(), nullable=False),
        sa.Column("catalogue_version", sa.Text(), nullable=False),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("likely_eligible", sa.Boolean(), nullable=False),
        sa.Column("receiving", sa.Boolean(), nullable=False),
        sa.Column("reason_ko", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_eligibility_results_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_id", "programme", name=op.f("pk_eligibility_results")),
    )
    op.create_index(
        "ix_eligibility_results_unreached",
        "eligibility_results",
        ["household_id"],
        unique=False,
        postgresql_where=sa.text("likely_eligible AND NOT receiving"),
    )
    op.create_table(
        "hotspot_cells",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("cell", sa.Text(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("z", sa.Float(), nullable=True),
        sa.Column("p_sim", sa.Float(), nullable=True),
        sa.Column("q_value", sa.Float(), nullable=True),
        sa.Column("cluster", sa.Text(), nullable=False),
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False
            ),
            nullable=False,
        ),
        sa.CheckConstraint("unit IN ('h3_9', 'dong')", name=op.f("ck_hotspot_cells_unit")),
        sa.CheckConstraint(
            "cluster IN ('hot', 'cold', 'none')", name=op.f("ck_hotspot_cells_cluster")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.id"],
            name=op.f("fk_hotspot_cells_run_id_score_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "unit", "cell", name=op.f("pk_hotspot_cells")),
    )
    op.create_table(
        "blind_spots",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=True),
        sa.Column("reasons", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "detail", postgresql.JSONB(astext_type=Text()), server_default="{}", nullable=False
        ),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            f"reasons <@ ARRAY[{REASONS}]::text[] AND cardinality(reasons) > 0",
            name=op.f("ck_blind_spots_reasons"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_blind_spots_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.id"],
            name=op.f("fk_blind_spots_run_id_score_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_blind_spots_area_id_areas")
        ),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_blind_spots")),
    )
    op.create_index(op.f("ix_blind_spots_area_id"), "blind_spots", ["area_id"], unique=False)


def downgrade() -> None:
    """Drop the three tables and the receiving column."""
    op.drop_index(op.f("ix_blind_spots_area_id"), table_name="blind_spots")
    op.drop_table("blind_spots")
    op.drop_table("hotspot_cells")
    op.drop_index("ix_eligibility_results_unreached", table_name="eligibility_results")
    op.drop_table("eligibility_results")
    op.drop_column("households", "receiving_programmes")
