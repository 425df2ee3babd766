"""stored day plans of the visit teams (plans, routes per visitor, stops, dropped visits);
residents' availability windows

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROP_REASONS = (
    "not_due",
    "too_far",
    "window_unreachable",
    "day_full_lowest_priority",
    "day_full_no_room",
    "not_chosen",
)


def upgrade() -> None:
    op.add_column("residents", sa.Column("available_from", sa.Time(), nullable=True))
    op.add_column("residents", sa.Column("available_until", sa.Time(), nullable=True))
    op.create_check_constraint(
        op.f("ck_residents_availability_order"),
        "residents",
        "available_from IS NULL OR available_until IS NULL OR available_from < available_until",
    )
    op.create_table(
        "route_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("version", sa.SmallInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("base_facility_id", sa.Integer(), nullable=True),
        sa.Column(
            "base_geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("planning_seconds", sa.Float(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_route_plans_version_positive")),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["visit_teams.id"],
            name=op.f("fk_route_plans_team_id_visit_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["score_runs.id"],
            name=op.f("fk_route_plans_run_id_score_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["base_facility_id"],
            ["facilities.id"],
            name=op.f("fk_route_plans_base_facility_id_facilities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_route_plans")),
        sa.UniqueConstraint(
            "team_id", "plan_date", "version", name=op.f("uq_route_plans_team_id_plan_date_version")
        ),
    )
    op.create_table(
        "route_plan_routes",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("visitor_order", sa.SmallInteger(), nullable=False),
        sa.Column("leave_base", sa.Time(), nullable=False),
        sa.Column("back_at_base", sa.Time(), nullable=False),
        sa.Column("travel_metres", sa.Integer(), nullable=False),
        sa.Column("travel_minutes", sa.Float(), nullable=False),
        sa.Column("service_minutes", sa.Float(), nullable=False),
        sa.Column("wait_minutes", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["route_plans.id"],
            name=op.f("fk_route_plan_routes_plan_id_route_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["visit_team_members.id"],
            name=op.f("fk_route_plan_routes_member_id_visit_team_members"),
        ),
        sa.PrimaryKeyConstraint("plan_id", "member_id", name=op.f("pk_route_plan_routes")),
    )
    op.create_table(
        "route_plan_stops",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("stop_order", sa.SmallInteger(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("arrival", sa.Time(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("departure", sa.Time(), nullable=False),
        sa.Column("travel_metres", sa.Integer(), nullable=False),
        sa.Column("wait_minutes", sa.Float(), nullable=False),
        sa.CheckConstraint("stop_order >= 1", name=op.f("ck_route_plan_stops_order_positive")),
        sa.CheckConstraint("tier IN (0, 1, 2)", name=op.f("ck_route_plan_stops_tier")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["route_plans.id"],
            name=op.f("fk_route_plan_stops_plan_id_route_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_route_plan_stops_resident_id_residents"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["visit_team_members.id"],
            name=op.f("fk_route_plan_stops_member_id_visit_team_members"),
        ),
        sa.PrimaryKeyConstraint("plan_id", "resident_id", name=op.f("pk_route_plan_stops")),
        sa.UniqueConstraint(
            "plan_id",
            "member_id",
            "stop_order",
            name=op.f("uq_route_plan_stops_plan_id_member_id_stop_order"),
        ),
    )
    op.create_table(
        "route_plan_drops",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "reason IN (" + ", ".join(f"'{r}'" for r in DROP_REASONS) + ")",
            name=op.f("ck_route_plan_drops_reason"),
        ),
        sa.CheckConstraint("tier IN (0, 1, 2)", name=op.f("ck_route_plan_drops_tier")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["route_plans.id"],
            name=op.f("fk_route_plan_drops_plan_id_route_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_route_plan_drops_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("plan_id", "resident_id", name=op.f("pk_route_plan_drops")),
    )


def downgrade() -> None:
    op.drop_table("route_plan_drops")
    op.drop_table("route_plan_stops")
    op.drop_table("route_plan_routes")
    op.drop_table("route_plans")
    op.drop_constraint(op.f("ck_residents_availability_order"), "residents", type_="check")
    op.drop_column("residents", "available_until")
    op.drop_column("residents", "available_from")
