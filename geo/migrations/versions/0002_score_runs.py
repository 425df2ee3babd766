"""score runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "score_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("config_version", sa.Text(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("scope_codes", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("previous_run_id", sa.Integer(), nullable=True),
        sa.Column("feature_names", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("input_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=False),
        sa.Column("tier_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "method IN ('weighted', 'rules', 'model')", name=op.f("ck_score_runs_method")
        ),
        sa.ForeignKeyConstraint(
            ["previous_run_id"],
            ["score_runs.id"],
            name=op.f("fk_score_runs_previous_run_id_score_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_runs")),
    )
    op.create_table(
        "resident_scores",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=False),
        sa.Column("features", sa.LargeBinary(), nullable=False),
        sa.Column("contributions", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("tier IN (0, 1, 2)", name=op.f("ck_resident_scores_tier")),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_resident_scores_resident_id_residents")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.id"],
            name=op.f("fk_resident_scores_run_id_score_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "resident_id", name=op.f("pk_resident_scores")),
    )
    op.create_index(
        "ix_resident_scores_resident_id", "resident_scores", ["resident_id"], unique=False
    )
    op.create_index(
        "ix_facilities_geom_5179",
        "facilities",
        [sa.literal_column("ST_Transform(geom, 5179)")],
        unique=False,
        postgresql_using="gist",
    )


def downgrade() -> None:
    op.drop_index("ix_facilities_geom_5179", table_name="facilities")
    op.drop_index("ix_resident_scores_resident_id", table_name="resident_scores")
    op.drop_table("resident_scores")
    op.drop_table("score_runs")
