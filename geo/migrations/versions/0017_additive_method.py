"""score runs may use the additive scorer (issue 14)

The ``method`` check of ``score_runs`` admits ``additive`` (scoring/additive.py), the published
default from issue 14 on.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Widen the check."""
    op.drop_constraint(op.f("ck_score_runs_method"), "score_runs", type_="check")
    op.create_check_constraint(
        op.f("ck_score_runs_method"),
        "score_runs",
        "method IN ('weighted', 'rules', 'model', 'additive')",
    )


def downgrade() -> None:
    """Narrow it again (fails while an additive run is stored)."""
    op.drop_constraint(op.f("ck_score_runs_method"), "score_runs", type_="check")
    op.create_check_constraint(
        op.f("ck_score_runs_method"), "score_runs", "method IN ('weighted', 'rules', 'model')"
    )
