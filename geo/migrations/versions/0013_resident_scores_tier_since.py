"""resident_scores.tier_since: the day each resident entered its tier (issue 12)

A resident never met is due for a first visit some days after the day they were first scored
into their current tier (scoring.cadence.due_dates), no longer the registration date. Each
run keeps that day per resident: carried from the previous run while the tier stays, else the
run's as_of (geo.score_runs.store_run); a visit whose rescoring moves the tier sets it to the
visit's day.

Existing runs get it here, run by run in id order, by the same rule. Their stored due dates
are left as they were computed: the next score run applies the new rule. Nullable, read as
"unknown" (the run's as_of), so that rows written without it stay valid.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("resident_scores", sa.Column("tier_since", sa.Date(), nullable=True))
    bind = op.get_bind()
    runs = bind.execute(
        sa.text("SELECT id, previous_run_id, as_of FROM score_runs ORDER BY id")
    ).all()
    for run_id, previous_run_id, as_of in runs:
        bind.execute(
            sa.text("""
            UPDATE resident_scores s
            SET tier_since = coalesce(least(p.tier_since, CAST(:as_of AS date)), :as_of)
            FROM resident_scores s2
            LEFT JOIN resident_scores p ON p.run_id = :previous AND p.resident_id = s2.resident_id
                                       AND p.tier = s2.tier
            WHERE s.run_id = :run AND s2.run_id = :run AND s2.resident_id = s.resident_id"""),
            {"run": run_id, "previous": previous_run_id, "as_of": as_of},
        )


def downgrade() -> None:
    op.drop_column("resident_scores", "tier_since")
