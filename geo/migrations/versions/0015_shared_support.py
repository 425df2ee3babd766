"""shared support records (issue 13): taxonomy, who entered what, consent, links, stock

Support records get a minor category of the 30 (visitmap.vocab.SUPPORT_MINOR), a recurring
period, funding, an expiry date, the need they meet and who entered them; needs say who
entered them. New tables: sharing_consents and consent_events (consent to share records
between agencies, and its log), resident_links (one person under two resident ids), donors,
donations, stock_movements, sponsorships, sponsorship_payments, and support_warnings (the
dashboard's warnings as last computed).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import BigInteger, Integer, Text
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The 30 minor categories as of this migration (frozen here, not imported).
MINORS = ", ".join(
    f"'{m}'"
    for m in (
        "rice",
        "side_dishes",
        "instant_food",
        "meal_delivery",
        "food_parcel",
        "holiday_parcel",
        "hygiene",
        "clothing_bedding",
        "household_goods",
        "heating_goods",
        "cooling_goods",
        "livelihood_cash",
        "emergency_cash",
        "utility_bills",
        "rent_support",
        "vouchers",
        "medical_costs",
        "medicine",
        "assistive_devices",
        "health_care",
        "home_care",
        "companionship",
        "safety_services",
        "housing_repair",
        "counselling_legal",
        "education_costs",
        "learning_materials",
        "culture_leisure",
        "family_programmes",
        "employment_support",
    )
)


def upgrade() -> None:
    op.create_table(
        "donors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column(
            "entered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('individual', 'company', 'organisation', 'religious', 'public')",
            name=op.f("ck_donors_kind"),
        ),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_donors_area_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donors")),
        sa.UniqueConstraint("external_id", name=op.f("uq_donors_external_id")),
    )
    op.create_table(
        "donations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("minor_category", sa.Text(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("amount_krw", sa.BigInteger(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column(
            "entered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            f"minor_category IN ({MINORS})", name=op.f("ck_donations_minor_category")
        ),
        sa.CheckConstraint(
            "amount_krw IS NULL OR amount_krw >= 0", name=op.f("ck_donations_amount_nonnegative")
        ),
        sa.CheckConstraint(
            "num_nonnulls(amount_krw, quantity) >= 1", name=op.f("ck_donations_amount_or_quantity")
        ),
        sa.CheckConstraint(
            "quantity IS NULL OR quantity > 0", name=op.f("ck_donations_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["providers.id"], name=op.f("fk_donations_centre_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_donations_donor_id_donors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_donations")),
        sa.UniqueConstraint("external_id", name=op.f("uq_donations_external_id")),
    )
    op.create_index(op.f("ix_donations_centre_id"), "donations", ["centre_id"], unique=False)
    op.create_index(op.f("ix_donations_donor_id"), "donations", ["donor_id"], unique=False)
    op.create_table(
        "sponsorships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("donor_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("programme", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("monthly_amount_krw", sa.BigInteger(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=True),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column(
            "entered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_sponsorships_dates")),
        sa.CheckConstraint("monthly_amount_krw > 0", name=op.f("ck_sponsorships_amount_positive")),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["providers.id"], name=op.f("fk_sponsorships_centre_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["donor_id"], ["donors.id"], name=op.f("fk_sponsorships_donor_id_donors")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_sponsorships_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["sponsorships.id"],
            name=op.f("fk_sponsorships_successor_id_sponsorships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsorships")),
        sa.UniqueConstraint("external_id", name=op.f("uq_sponsorships_external_id")),
    )
    op.create_index(op.f("ix_sponsorships_donor_id"), "sponsorships", ["donor_id"], unique=False)
    op.create_index(
        op.f("ix_sponsorships_household_id"), "sponsorships", ["household_id"], unique=False
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("consented", sa.Boolean(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_consent_events_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    op.create_index(
        op.f("ix_consent_events_resident_id"), "consent_events", ["resident_id"], unique=False
    )
    op.create_table(
        "resident_links",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.Column(
            "linked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "method IN ('rrn_hmac', 'probabilistic')", name=op.f("ck_resident_links_method")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["residents.id"], name=op.f("fk_resident_links_person_id_residents")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_resident_links_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_resident_links")),
    )
    op.create_index(
        op.f("ix_resident_links_person_id"), "resident_links", ["person_id"], unique=False
    )
    op.create_table(
        "sharing_consents",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("consented", sa.Boolean(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_sharing_consents_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_sharing_consents")),
    )
    op.create_table(
        "sponsorship_payments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("sponsorship_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount_krw", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column(
            "entered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "amount_krw >= 0", name=op.f("ck_sponsorship_payments_amount_nonnegative")
        ),
        sa.CheckConstraint(
            "extract(day FROM month) = 1", name=op.f("ck_sponsorship_payments_month_first_day")
        ),
        sa.ForeignKeyConstraint(
            ["sponsorship_id"],
            ["sponsorships.id"],
            name=op.f("fk_sponsorship_payments_sponsorship_id_sponsorships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsorship_payments")),
        sa.UniqueConstraint(
            "sponsorship_id", "month", name=op.f("uq_sponsorship_payments_sponsorship_id_month")
        ),
    )
    op.create_table(
        "support_warnings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("provider_ids", postgresql.ARRAY(Integer()), server_default="{}", nullable=False),
        sa.Column(
            "record_ids", postgresql.ARRAY(BigInteger()), server_default="{}", nullable=False
        ),
        sa.Column("need_id", sa.Integer(), nullable=True),
        sa.Column("sponsorship_id", sa.Integer(), nullable=True),
        sa.Column("minor_category", sa.Text(), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column(
            "detail", postgresql.JSONB(astext_type=Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('duplicate', 'near_duplicate', 'open_need', 'need_due_soon', 'unserved_crisis', 'sponsorship_ending', 'sponsorship_unpaid', 'stock_expiring', 'stock_expired')",
            name=op.f("ck_support_warnings_kind"),
        ),
        sa.CheckConstraint(
            "level IN ('red', 'yellow', 'blue')", name=op.f("ck_support_warnings_level")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_support_warnings_area_id_areas")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_support_warnings_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["need_id"], ["needs.id"], name=op.f("fk_support_warnings_need_id_needs")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_support_warnings_resident_id_residents"),
        ),
        sa.ForeignKeyConstraint(
            ["sponsorship_id"],
            ["sponsorships.id"],
            name=op.f("fk_support_warnings_sponsorship_id_sponsorships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_warnings")),
    )
    op.create_index(
        op.f("ix_support_warnings_area_id"), "support_warnings", ["area_id"], unique=False
    )
    op.create_index(
        "ix_support_warnings_provider_ids",
        "support_warnings",
        ["provider_ids"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        op.f("ix_support_warnings_resident_id"), "support_warnings", ["resident_id"], unique=False
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("minor_category", sa.Text(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("donation_id", sa.Integer(), nullable=True),
        sa.Column("support_record_id", sa.Integer(), nullable=True),
        sa.Column("counterpart_centre_id", sa.Integer(), nullable=True),
        sa.Column("entered_by", sa.Text(), nullable=False),
        sa.Column(
            "entered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind IN ('transferred_out', 'transferred_in')) = (counterpart_centre_id IS NOT NULL)",
            name=op.f("ck_stock_movements_transfer_counterpart"),
        ),
        sa.CheckConstraint(
            "kind = 'adjusted' OR quantity > 0", name=op.f("ck_stock_movements_quantity_positive")
        ),
        sa.CheckConstraint(
            "kind IN ('received', 'issued', 'transferred_out', 'transferred_in', 'expired', 'adjusted')",
            name=op.f("ck_stock_movements_kind"),
        ),
        sa.CheckConstraint(
            f"minor_category IN ({MINORS})", name=op.f("ck_stock_movements_minor_category")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["providers.id"], name=op.f("fk_stock_movements_centre_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["counterpart_centre_id"],
            ["providers.id"],
            name=op.f("fk_stock_movements_counterpart_centre_id_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["donation_id"], ["donations.id"], name=op.f("fk_stock_movements_donation_id_donations")
        ),
        sa.ForeignKeyConstraint(
            ["support_record_id"],
            ["support_records.id"],
            name=op.f("fk_stock_movements_support_record_id_support_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
        sa.UniqueConstraint("external_id", name=op.f("uq_stock_movements_external_id")),
    )
    op.create_index(
        "ix_stock_movements_centre_id_item",
        "stock_movements",
        ["centre_id", "minor_category", "item"],
        unique=False,
    )

    op.add_column("providers", sa.Column("area_id", sa.Integer(), nullable=True))
    op.add_column("providers", sa.Column("facility_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_providers_area_id_areas"), "providers", "areas", ["area_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_providers_facility_id_facilities"),
        "providers",
        "facilities",
        ["facility_id"],
        ["id"],
    )
    op.add_column("needs", sa.Column("entered_by", sa.Text(), nullable=True))
    op.add_column(
        "needs",
        sa.Column(
            "entered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.add_column("support_records", sa.Column("minor_category", sa.Text(), nullable=True))
    op.add_column("support_records", sa.Column("recurring_period", sa.Text(), nullable=True))
    op.add_column("support_records", sa.Column("funding", sa.Text(), nullable=True))
    op.add_column("support_records", sa.Column("expires_on", sa.Date(), nullable=True))
    op.add_column("support_records", sa.Column("need_id", sa.Integer(), nullable=True))
    op.add_column("support_records", sa.Column("entered_by", sa.Text(), nullable=True))
    op.add_column(
        "support_records",
        sa.Column(
            "entered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_support_records_minor_category_provided_on",
        "support_records",
        ["minor_category", "provided_on"],
        unique=False,
    )
    op.create_index(
        op.f("ix_support_records_need_id"), "support_records", ["need_id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_support_records_need_id_needs"), "support_records", "needs", ["need_id"], ["id"]
    )

    # Records stored before this migration: who entered them is unknown, the minor category
    # follows from the item (visitmap.vocab.minor_category_for), and the funding from the
    # provider's sector.
    op.execute("UPDATE needs SET entered_by = 'migration 0015'")
    op.execute("""
        UPDATE support_records s SET entered_by = 'migration 0015',
            funding = CASE WHEN p.sector = 'public' THEN 'budget' ELSE 'donation' END,
            minor_category = CASE
                WHEN item LIKE '%명절%' THEN 'holiday_parcel'
                WHEN item LIKE '%쌀%' THEN 'rice'
                WHEN item LIKE '%라면%' THEN 'instant_food'
                WHEN item LIKE '%밑반찬%' THEN 'side_dishes'
                WHEN item LIKE '%도시락%' THEN 'meal_delivery'
                WHEN item LIKE '%꾸러미%' THEN 'food_parcel'
                WHEN item LIKE '%전기장판%' THEN 'heating_goods'
                WHEN item LIKE '%난방%' THEN 'heating_goods'
                WHEN item LIKE '%공과금%' THEN 'utility_bills'
                WHEN item LIKE '%긴급%' THEN 'emergency_cash'
                WHEN item LIKE '%생계%' THEN 'livelihood_cash'
                WHEN item LIKE '%후원금%' THEN 'livelihood_cash'
                WHEN item LIKE '%의료비%' THEN 'medical_costs'
                WHEN item LIKE '%방문간호%' THEN 'health_care'
                WHEN item LIKE '%건강%' THEN 'health_care'
                WHEN item LIKE '%주거환경%' THEN 'housing_repair'
                WHEN item LIKE '%응급안전%' THEN 'safety_services'
                WHEN item LIKE '%말벗%' THEN 'companionship'
                WHEN item LIKE '%안부%' THEN 'companionship'
                WHEN item LIKE '%나들이%' THEN 'culture_leisure'
                WHEN item LIKE '%가족%' THEN 'family_programmes'
                WHEN item LIKE '%학습%' THEN 'education_costs'
                WHEN item LIKE '%교재%' THEN 'learning_materials'
                WHEN item LIKE '%취업%' THEN 'employment_support'
                WHEN item LIKE '%자활%' THEN 'employment_support'
                WHEN item LIKE '%법률%' THEN 'counselling_legal'
                WHEN item LIKE '%채무%' THEN 'counselling_legal'
                WHEN category = 'safety' THEN 'safety_services'
                WHEN category = 'health' THEN 'health_care'
                WHEN category = 'daily_living' THEN 'home_care'
                WHEN category = 'family' THEN 'family_programmes'
                WHEN category = 'social' THEN 'companionship'
                WHEN category = 'economic' THEN 'livelihood_cash'
                WHEN category = 'education' THEN 'education_costs'
                WHEN category = 'employment' THEN 'employment_support'
                WHEN category = 'living_environment' THEN 'housing_repair'
                WHEN category = 'legal' THEN 'counselling_legal'
            END
        FROM providers p WHERE p.id = s.provider_id""")
    op.alter_column("needs", "entered_by", nullable=False)
    for column in ("entered_by", "minor_category", "funding"):
        op.alter_column("support_records", column, nullable=False)
    op.create_check_constraint(
        op.f("ck_support_records_minor_category"),
        "support_records",
        f"minor_category IN ({MINORS})",
    )
    op.create_check_constraint(
        op.f("ck_support_records_recurring_period"),
        "support_records",
        "recurring_period IS NULL OR recurring_period IN "
        "('weekly', 'monthly', 'quarterly', 'yearly')",
    )
    op.create_check_constraint(
        op.f("ck_support_records_funding"), "support_records", "funding IN ('donation', 'budget')"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_providers_facility_id_facilities"), "providers", "foreignkey")
    op.drop_constraint(op.f("fk_providers_area_id_areas"), "providers", "foreignkey")
    op.drop_column("providers", "facility_id")
    op.drop_column("providers", "area_id")
    for name in ("minor_category", "recurring_period", "funding"):
        op.drop_constraint(op.f(f"ck_support_records_{name}"), "support_records", type_="check")
    op.drop_constraint(
        op.f("fk_support_records_need_id_needs"), "support_records", type_="foreignkey"
    )
    op.drop_index(op.f("ix_support_records_need_id"), table_name="support_records")
    op.drop_index("ix_support_records_minor_category_provided_on", table_name="support_records")
    op.drop_column("support_records", "entered_at")
    op.drop_column("support_records", "entered_by")
    op.drop_column("support_records", "need_id")
    op.drop_column("support_records", "expires_on")
    op.drop_column("support_records", "funding")
    op.drop_column("support_records", "recurring_period")
    op.drop_column("support_records", "minor_category")
    op.drop_column("needs", "entered_at")
    op.drop_column("needs", "entered_by")
    op.drop_index("ix_stock_movements_centre_id_item", table_name="stock_movements")
    op.drop_table("stock_movements")
    op.drop_index(op.f("ix_support_warnings_resident_id"), table_name="support_warnings")
    op.drop_index(
        "ix_support_warnings_provider_ids", table_name="support_warnings", postgresql_using="gin"
    )
    op.drop_index(op.f("ix_support_warnings_area_id"), table_name="support_warnings")
    op.drop_table("support_warnings")
    op.drop_table("sponsorship_payments")
    op.drop_table("sharing_consents")
    op.drop_index(op.f("ix_resident_links_person_id"), table_name="resident_links")
    op.drop_table("resident_links")
    op.drop_index(op.f("ix_consent_events_resident_id"), table_name="consent_events")
    op.drop_table("consent_events")
    op.drop_index(op.f("ix_sponsorships_household_id"), table_name="sponsorships")
    op.drop_index(op.f("ix_sponsorships_donor_id"), table_name="sponsorships")
    op.drop_table("sponsorships")
    op.drop_index(op.f("ix_donations_donor_id"), table_name="donations")
    op.drop_index(op.f("ix_donations_centre_id"), table_name="donations")
    op.drop_table("donations")
    op.drop_table("donors")
