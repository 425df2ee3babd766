"""resident_scores without a foreign key to residents

A score run is an append-only snapshot written in one COPY from ids read in the same
transaction; the per-row foreign-key check cost ~10 s per million scores.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(
        "fk_resident_scores_resident_id_residents", "resident_scores", type_="foreignkey"
    )


def downgrade() -> None:
    op.create_foreign_key(
        "fk_resident_scores_resident_id_residents",
        "resident_scores",
        "residents",
        ["resident_id"],
        ["id"],
    )
