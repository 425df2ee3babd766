"""the access audit: who was shown which residents' personal data, when, from where, through
which endpoint; append-only for the application (a trigger refuses UPDATE and TRUNCATE, and
DELETE of rows younger than the 730-day minimum retention)

The application's database role owns the table, so a trigger is the guard: the role cannot
change or remove a row through SQL, but as owner (or as a superuser) it could still drop or
disable the trigger itself. Only a table owned by another role, with the application granted
INSERT and SELECT alone, would close that too (docs/audit.md).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The hard floor of the retention, in days (geo.audit.MIN_RETENTION_DAYS): a row younger
#: than this cannot be deleted whatever the application's settings say.
MIN_RETENTION_DAYS = 730

GUARD = f"""
CREATE FUNCTION access_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.at > now() - interval '{MIN_RETENTION_DAYS} days' THEN
            RAISE EXCEPTION 'access_audit row % (at %) is younger than the minimum retention of {MIN_RETENTION_DAYS} days and cannot be deleted', OLD.id, OLD.at
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access_audit is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    op.create_table(
        "access_audit",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("address", postgresql.INET(), nullable=True),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column(
            "resident_ids",
            postgresql.ARRAY(sa.BigInteger()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("resident_count", sa.Integer(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint(
            "resident_count >= cardinality(resident_ids)",
            name=op.f("ck_access_audit_resident_count"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_audit")),
    )
    op.create_index("ix_access_audit_at", "access_audit", ["at"], unique=False)
    op.create_index("ix_access_audit_username_at", "access_audit", ["username", "at"], unique=False)
    op.create_index(
        "ix_access_audit_resident_ids",
        "access_audit",
        ["resident_ids"],
        unique=False,
        postgresql_using="gin",
    )
    op.execute(GUARD)
    op.execute(
        "CREATE TRIGGER access_audit_no_update BEFORE UPDATE ON access_audit "
        "FOR EACH STATEMENT EXECUTE FUNCTION access_audit_guard()"
    )
    op.execute(
        "CREATE TRIGGER access_audit_retention BEFORE DELETE ON access_audit "
        "FOR EACH ROW EXECUTE FUNCTION access_audit_guard()"
    )
    op.execute(
        "CREATE TRIGGER access_audit_no_truncate BEFORE TRUNCATE ON access_audit "
        "FOR EACH STATEMENT EXECUTE FUNCTION access_audit_guard()"
    )
    # Tables grant nothing to PUBLIC by default; say so explicitly for this one.
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON access_audit FROM PUBLIC")


def downgrade() -> None:
    op.drop_table("access_audit")  # its triggers go with it
    op.execute("DROP FUNCTION access_audit_guard()")
