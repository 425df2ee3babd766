"""score runs are published: published_at (null = a draft) and published_by

A run is stored as a draft; the map, the planner, the field pages, the visit rescoring and
the analysts' export use the most recently published run (geo.score_runs.published_run_id).
An existing install keeps its map: the newest run already stored is published here, at its
creation time, by "migration 0014" (docs/publishing.md).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("score_runs", sa.Column("published_at", sa.DateTime(timezone=True)))
    op.add_column("score_runs", sa.Column("published_by", sa.Text))
    op.create_check_constraint(
        op.f("ck_score_runs_published_by_whom"),
        "score_runs",
        "(published_at IS NULL) = (published_by IS NULL)",
    )
    op.execute("""
        UPDATE score_runs SET published_at = created_at, published_by = 'migration 0014'
        WHERE id = (SELECT max(id) FROM score_runs)""")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_score_runs_published_by_whom"), "score_runs", type_="check")
    op.drop_column("score_runs", "published_by")
    op.drop_column("score_runs", "published_at")
