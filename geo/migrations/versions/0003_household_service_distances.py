"""household service distances

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("households", sa.Column("nearest_community_centre_m", sa.Float(), nullable=True))
    op.add_column("households", sa.Column("nearest_senior_or_welfare_m", sa.Float(), nullable=True))
    # existing households get their distances now; from here on the importers keep them
    # current (geo.service_distances). Same definition: planar distance in EPSG:5179.
    for column, kinds in [
        ("nearest_community_centre_m", "'community_centre'"),
        ("nearest_senior_or_welfare_m", "'senior_centre', 'welfare_centre'"),
    ]:
        op.execute(f"""
            UPDATE households h SET {column} = (
                SELECT ST_Distance(ST_Transform(h.geom, 5179), ST_Transform(f.geom, 5179))
                FROM facilities f WHERE f.kind IN ({kinds})
                ORDER BY ST_Transform(f.geom, 5179) <-> ST_Transform(h.geom, 5179) LIMIT 1)""")


def downgrade() -> None:
    op.drop_column("households", "nearest_senior_or_welfare_m")
    op.drop_column("households", "nearest_community_centre_m")
