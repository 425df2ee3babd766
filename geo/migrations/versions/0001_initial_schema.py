"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("district_code", sa.String(length=5), nullable=False),
        sa.Column("district_name", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("code ~ '^[0-9]{10}$'", name=op.f("ck_areas_code_digits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("code", name=op.f("uq_areas_code")),
    )
    op.create_geospatial_index(
        "idx_areas_geom",
        "areas",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sector", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.CheckConstraint("sector IN ('public', 'private')", name=op.f("ck_providers_sector")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("external_id", name=op.f("uq_providers_external_id")),
    )
    op.create_table(
        "area_statistics",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_area_statistics_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area_id", "indicator", name=op.f("pk_area_statistics")),
    )
    op.create_geospatial_table(
        "facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('community_centre', 'senior_centre', 'welfare_centre', 'health_centre', 'other')",
            name=op.f("ck_facilities_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_facilities_area_id_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilities")),
        sa.UniqueConstraint("external_id", name=op.f("uq_facilities_external_id")),
    )
    op.create_geospatial_index(
        "idx_facilities_geom",
        "facilities",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_facilities_area_id"), "facilities", ["area_id"], unique=False)
    op.create_geospatial_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.SmallInteger(), nullable=False),
        sa.Column("monthly_income_krw", sa.BigInteger(), nullable=False),
        sa.Column("assets_krw", sa.BigInteger(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "assets_krw IS NULL OR assets_krw >= 0", name=op.f("ck_households_assets_nonnegative")
        ),
        sa.CheckConstraint(
            "monthly_income_krw >= 0", name=op.f("ck_households_income_nonnegative")
        ),
        sa.CheckConstraint("size BETWEEN 1 AND 20", name=op.f("ck_households_size_range")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_households_area_id_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("external_id", name=op.f("uq_households_external_id")),
    )
    op.create_geospatial_index(
        "idx_households_geom",
        "households",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_households_area_id"), "households", ["area_id"], unique=False)
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("rrn_hmac", sa.LargeBinary(), nullable=True),
        sa.Column("birth_year", sa.SmallInteger(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("lives_alone", sa.Boolean(), nullable=False),
        sa.Column("has_disability", sa.Boolean(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.CheckConstraint(
            "octet_length(rrn_hmac) = 32",
            name=op.f("ck_residents_rrn_hmac_length"),
        ),
        sa.CheckConstraint("sex IN ('M', 'F')", name=op.f("ck_residents_sex")),
        sa.CheckConstraint(
            "status IN ('active', 'moved', 'deceased', 'unreachable')",
            name=op.f("ck_residents_status"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_residents_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
        sa.UniqueConstraint("external_id", name=op.f("uq_residents_external_id")),
        sa.UniqueConstraint("rrn_hmac", name=op.f("uq_residents_rrn_hmac")),
    )
    op.create_index(op.f("ix_residents_household_id"), "residents", ["household_id"], unique=False)
    op.create_table(
        "visit_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("base_facility_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["base_facility_id"],
            ["facilities.id"],
            name=op.f("fk_visit_teams_base_facility_id_facilities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_teams")),
        sa.UniqueConstraint("external_id", name=op.f("uq_visit_teams_external_id")),
    )
    op.create_table(
        "crisis_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("source_agency", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('electricity_arrears', 'electricity_cutoff', 'water_arrears', 'water_cutoff', 'gas_arrears', 'gas_cutoff', 'health_insurance_arrears', 'rent_arrears', 'management_fee_arrears', 'telecom_arrears')",
            name=op.f("ck_crisis_signals_kind"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(resident_id, household_id) = 1",
            name=op.f("ck_crisis_signals_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_crisis_signals_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_crisis_signals_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_signals")),
        sa.UniqueConstraint("external_id", name=op.f("uq_crisis_signals_external_id")),
    )
    op.create_index(
        op.f("ix_crisis_signals_household_id"), "crisis_signals", ["household_id"], unique=False
    )
    op.create_index(
        op.f("ix_crisis_signals_resident_id"), "crisis_signals", ["resident_id"], unique=False
    )
    op.create_table(
        "needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("identified_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "category IN ('safety', 'health', 'daily_living', 'family', 'social', 'economic', 'education', 'employment', 'living_environment', 'legal')",
            name=op.f("ck_needs_category"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'met', 'closed')", name=op.f("ck_needs_status")
        ),
        sa.CheckConstraint(
            "resolved_on IS NULL OR resolved_on >= identified_on", name=op.f("ck_needs_dates")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_needs_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs")),
        sa.UniqueConstraint("external_id", name=op.f("uq_needs_external_id")),
    )
    op.create_index(op.f("ix_needs_resident_id"), "needs", ["resident_id"], unique=False)
    op.create_table(
        "support_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("amount_krw", sa.BigInteger(), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("provided_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "category IN ('safety', 'health', 'daily_living', 'family', 'social', 'economic', 'education', 'employment', 'living_environment', 'legal')",
            name=op.f("ck_support_records_category"),
        ),
        sa.CheckConstraint(
            "amount_krw IS NULL OR amount_krw >= 0",
            name=op.f("ck_support_records_amount_nonnegative"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(amount_krw, quantity) >= 1",
            name=op.f("ck_support_records_amount_or_quantity"),
        ),
        sa.CheckConstraint(
            "quantity IS NULL OR quantity > 0", name=op.f("ck_support_records_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_support_records_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_support_records_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_records")),
        sa.UniqueConstraint("external_id", name=op.f("uq_support_records_external_id")),
    )
    op.create_index(
        op.f("ix_support_records_provider_id"), "support_records", ["provider_id"], unique=False
    )
    op.create_index(
        "ix_support_records_resident_id_provided_on",
        "support_records",
        ["resident_id", "provided_on"],
        unique=False,
    )
    op.create_table(
        "team_areas",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_team_areas_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["visit_teams.id"],
            name=op.f("fk_team_areas_team_id_visit_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "area_id", name=op.f("pk_team_areas")),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visitor", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('met', 'not_home', 'refused', 'unreachable', 'crisis_confirmed')",
            name=op.f("ck_visits_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_visits_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("external_id", name=op.f("uq_visits_external_id")),
    )
    op.create_index(
        "ix_visits_resident_id_visited_at", "visits", ["resident_id", "visited_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_visits_resident_id_visited_at", table_name="visits")
    op.drop_table("visits")
    op.drop_table("team_areas")
    op.drop_index("ix_support_records_resident_id_provided_on", table_name="support_records")
    op.drop_index(op.f("ix_support_records_provider_id"), table_name="support_records")
    op.drop_table("support_records")
    op.drop_index(op.f("ix_needs_resident_id"), table_name="needs")
    op.drop_table("needs")
    op.drop_index(op.f("ix_crisis_signals_resident_id"), table_name="crisis_signals")
    op.drop_index(op.f("ix_crisis_signals_household_id"), table_name="crisis_signals")
    op.drop_table("crisis_signals")
    op.drop_table("visit_teams")
    op.drop_index(op.f("ix_residents_household_id"), table_name="residents")
    op.drop_table("residents")
    op.drop_index(op.f("ix_households_area_id"), table_name="households")
    op.drop_geospatial_index(
        "idx_households_geom", table_name="households", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("households")
    op.drop_index(op.f("ix_facilities_area_id"), table_name="facilities")
    op.drop_geospatial_index(
        "idx_facilities_geom", table_name="facilities", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("facilities")
    op.drop_table("area_statistics")
    op.drop_table("providers")
    op.drop_geospatial_index(
        "idx_areas_geom", table_name="areas", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("areas")
