"""resident_scores partitioned by run

Each score run's rows live in their own partition (``resident_scores_run_<id>``), written by
one COPY into a fresh table whose primary key is built after the load and which is then
attached (geo.score_runs.store_run). That keeps a million-resident write close to the bare
COPY, keeps the foreign key to score_runs (validated once, at attach), and lets old runs be
dropped whole. The resident-only index goes: lookups are by (run_id, resident_id).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "run_id, resident_id, score, tier, next_due_on, features, contributions"


def _columns() -> list[sa.Column]:
    return [
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=False),
        sa.Column("features", sa.LargeBinary(), nullable=False),
        sa.Column("contributions", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("tier IN (0, 1, 2)", name=op.f("ck_resident_scores_tier")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.id"],
            name=op.f("fk_resident_scores_run_id_score_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "resident_id", name=op.f("pk_resident_scores")),
    ]


def _set_aside(table: str) -> None:
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
    op.execute("ALTER INDEX pk_resident_scores RENAME TO pk_resident_scores_old")
    for name in ("ck_resident_scores_tier", "fk_resident_scores_run_id_score_runs"):
        op.execute(f"ALTER TABLE {table}_old RENAME CONSTRAINT {name} TO {name}_old")


def upgrade() -> None:
    op.drop_index("ix_resident_scores_resident_id", table_name="resident_scores")
    _set_aside("resident_scores")
    op.create_table("resident_scores", *_columns(), postgresql_partition_by="LIST (run_id)")
    bind = op.get_bind()
    run_ids = bind.execute(sa.text("SELECT DISTINCT run_id FROM resident_scores_old")).scalars()
    for run_id in sorted(run_ids):
        op.execute(
            f"CREATE TABLE resident_scores_run_{run_id} PARTITION OF resident_scores "
            f"FOR VALUES IN ({run_id})"
        )
    op.execute(f"INSERT INTO resident_scores SELECT {COLUMNS} FROM resident_scores_old")
    op.drop_table("resident_scores_old")


def downgrade() -> None:
    _set_aside("resident_scores")
    op.create_table("resident_scores", *_columns())
    op.create_index("ix_resident_scores_resident_id", "resident_scores", ["resident_id"])
    op.execute(f"INSERT INTO resident_scores SELECT {COLUMNS} FROM resident_scores_old")
    op.drop_table("resident_scores_old")  # drops the partitions with it
