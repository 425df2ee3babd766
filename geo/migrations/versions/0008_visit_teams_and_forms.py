"""visit teams' members; visits recorded from the form (team, member, next visit date,
idempotency key); needs linked to the visit that found them; unreachable residents; the log
of score changes made by visits

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["visit_teams.id"],
            name=op.f("fk_visit_team_members_team_id_visit_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_team_members")),
        sa.UniqueConstraint("external_id", name=op.f("uq_visit_team_members_external_id")),
    )
    op.create_index(
        op.f("ix_visit_team_members_team_id"), "visit_team_members", ["team_id"], unique=False
    )
    op.add_column("residents", sa.Column("unreachable_since", sa.Date(), nullable=True))
    op.add_column("visits", sa.Column("team_id", sa.Integer(), nullable=True))
    op.add_column("visits", sa.Column("member_id", sa.Integer(), nullable=True))
    op.add_column("visits", sa.Column("next_visit_on", sa.Date(), nullable=True))
    op.add_column("visits", sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "visits", sa.Column("idempotency_key", postgresql.UUID(as_uuid=False), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_visits_team_id_visit_teams"), "visits", "visit_teams", ["team_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_visits_member_id_visit_team_members"),
        "visits",
        "visit_team_members",
        ["member_id"],
        ["id"],
    )
    op.create_unique_constraint(op.f("uq_visits_idempotency_key"), "visits", ["idempotency_key"])
    op.add_column("needs", sa.Column("visit_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_needs_visit_id_visits"), "needs", "visits", ["visit_id"], ["id"])
    op.create_index(op.f("ix_needs_visit_id"), "needs", ["visit_id"], unique=False)
    op.create_table(
        "score_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("old_score", sa.Float(), nullable=False),
        sa.Column("new_score", sa.Float(), nullable=False),
        sa.Column("old_tier", sa.SmallInteger(), nullable=False),
        sa.Column("new_tier", sa.SmallInteger(), nullable=False),
        sa.Column("old_next_due_on", sa.Date(), nullable=False),
        sa.Column("new_next_due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_score_updates_resident_id_residents")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.id"],
            name=op.f("fk_score_updates_run_id_score_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_score_updates_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_updates")),
    )
    op.create_index(op.f("ix_score_updates_run_id"), "score_updates", ["run_id"], unique=False)
    op.create_index(op.f("ix_score_updates_visit_id"), "score_updates", ["visit_id"], unique=False)


def downgrade() -> None:
    op.drop_table("score_updates")
    op.drop_index(op.f("ix_needs_visit_id"), table_name="needs")
    op.drop_constraint(op.f("fk_needs_visit_id_visits"), "needs", type_="foreignkey")
    op.drop_column("needs", "visit_id")
    op.drop_constraint(op.f("uq_visits_idempotency_key"), "visits", type_="unique")
    op.drop_constraint(op.f("fk_visits_member_id_visit_team_members"), "visits", type_="foreignkey")
    op.drop_constraint(op.f("fk_visits_team_id_visit_teams"), "visits", type_="foreignkey")
    for column in ("idempotency_key", "recorded_at", "next_visit_on", "member_id", "team_id"):
        op.drop_column("visits", column)
    op.drop_column("residents", "unreachable_since")
    op.drop_table("visit_team_members")
