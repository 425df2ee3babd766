"""PostGIS schema: SQLAlchemy 2 declarative models with GeoAlchemy2 geometry columns.

Geometries are stored in EPSG:4326 (lon/lat) with GiST indexes; metric work is done in a
projected CRS or on ``geography`` by the queries that need it. Codes with a fixed vocabulary
(:mod:`visitmap.vocab`) are ``text`` columns with CHECK constraints. Every imported record has a
unique ``external_id``, the id in its source file, on which imports upsert.

The Alembic migrations in ``geo/migrations`` create exactly this schema (a test compares them).

Length: the whole schema in one module, as Alembic's autogenerate and a reader comparing
tables with migrations want it; each class is short.
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from visitmap.vocab import (
    BLIND_SPOT_REASONS,
    CRISIS_SIGNAL_KINDS,
    FACILITY_KINDS,
    HOTSPOT_CLUSTERS,
    HOTSPOT_UNITS,
    LOGIN_EVENTS,
    NEED_CATEGORIES,
    NEED_STATUSES,
    PROVIDER_SECTORS,
    RESIDENT_STATUSES,
    ROLES,
    ROUTE_DROP_REASONS,
    SUPPORT_FUNDING,
    SUPPORT_MINOR,
    SUPPORT_PERIODS,
    VISIT_OUTCOMES,
    sql_in,
)

SRID = 4326

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every model; its metadata names constraints by :data:`NAMING`."""

    metadata = MetaData(naming_convention=NAMING)


def _created_at() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Area(Base):
    """An administrative area (행정동), keyed by its 10-digit MOIS code (adm_cd2)."""

    __tablename__ = "areas"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    full_name: Mapped[str | None] = mapped_column(Text)
    district_code: Mapped[str] = mapped_column(String(5), nullable=False)
    district_name: Mapped[str] = mapped_column(Text, nullable=False)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)
    # where the map puts the dong's counts: a point inside it, kept by PostgreSQL
    label_point = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=False),
        Computed("ST_PointOnSurface(geom)", persisted=True),
    )
    __table_args__ = (CheckConstraint("code ~ '^[0-9]{10}$'", name="code_digits"),)


class AreaStatistic(Base):
    """One numeric indicator of an area, e.g. ``pop_2026_03`` (period in the indicator name)."""

    __tablename__ = "area_statistics"
    area_id: Mapped[int] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    indicator: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)


class Facility(Base):
    """A facility: community centre, senior centre, welfare centre, ..."""

    __tablename__ = "facilities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), nullable=False, index=True)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    __table_args__ = (CheckConstraint(f"kind IN ({sql_in(FACILITY_KINDS)})", name="kind"),)


class Household(Base):
    """A registered household at one location."""

    __tablename__ = "households"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), nullable=False, index=True)
    size: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    monthly_income_krw: Mapped[int] = mapped_column(BigInteger, nullable=False)
    assets_krw: Mapped[int | None] = mapped_column(BigInteger)
    address: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=False)
    # metres to the nearest service, kept up to date by the importers (geo.service_distances)
    nearest_community_centre_m: Mapped[float | None] = mapped_column(Float)
    nearest_senior_or_welfare_m: Mapped[float | None] = mapped_column(Float)
    #: Programmes of the eligibility catalogue the household receives, as imported (the
    #: optional ``receiving`` column of the households file, e.g. "livelihood;medical").
    receiving_programmes = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    __table_args__ = (
        CheckConstraint("size BETWEEN 1 AND 20", name="size_range"),
        CheckConstraint("monthly_income_krw >= 0", name="income_nonnegative"),
        CheckConstraint("assets_krw IS NULL OR assets_krw >= 0", name="assets_nonnegative"),
    )


class Resident(Base):
    """A resident. The registration number is kept only as a keyed HMAC-SHA256 (32 bytes)."""

    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id"), nullable=False, index=True
    )
    name: Mapped[str | None] = mapped_column(Text)
    rrn_hmac: Mapped[bytes | None] = mapped_column(LargeBinary, unique=True)
    birth_year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    sex: Mapped[str] = mapped_column(String(1), nullable=False)
    lives_alone: Mapped[bool] = mapped_column(Boolean, nullable=False)
    has_disability: Mapped[bool] = mapped_column(Boolean, nullable=False)
    registered_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="active")
    #: Set when visits failed to find the resident N times in a row (routing visit settings);
    #: cleared by the next visit that finds them. The resident stays active and scored.
    unreachable_since: Mapped[dt.date | None] = mapped_column(Date)
    #: When the resident is usually at home (time of day, Korea); NULL = unknown. The day
    #: planner keeps each visit inside this window (docs/route_planning.md).
    available_from: Mapped[dt.time | None] = mapped_column(Time)
    available_until: Mapped[dt.time | None] = mapped_column(Time)
    __table_args__ = (
        CheckConstraint("sex IN ('M', 'F')", name="sex"),
        CheckConstraint(
            "available_from IS NULL OR available_until IS NULL OR available_from < available_until",
            name="availability_order",
        ),
        CheckConstraint(f"status IN ({sql_in(RESIDENT_STATUSES)})", name="status"),
        CheckConstraint("octet_length(rrn_hmac) = 32", name="rrn_hmac_length"),
    )


class CrisisSignal(Base):
    """A crisis signal (위기정보) about a resident or a whole household."""

    __tablename__ = "crisis_signals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    observed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    source_agency: Mapped[str] = mapped_column(Text, nullable=False)
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(CRISIS_SIGNAL_KINDS)})", name="kind"),
        CheckConstraint("num_nonnulls(resident_id, household_id) = 1", name="one_subject"),
    )


class Provider(Base):
    """A public or private agency that provides support."""

    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    sector: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str | None] = mapped_column(Text)
    #: The dong a community centre serves, or where an agency sits (migration 0015).
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    #: The provider's site on the map, when it is a stored facility (migration 0015).
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    __table_args__ = (CheckConstraint(f"sector IN ({sql_in(PROVIDER_SECTORS)})", name="sector"),)


class Visit(Base):
    """A home visit and its outcome."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), nullable=False)
    visited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    visitor: Mapped[str] = mapped_column(Text, nullable=False)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    # Recorded from the visit form (NULL for imported visits):
    team_id: Mapped[int | None] = mapped_column(ForeignKey("visit_teams.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("visit_team_members.id"))
    next_visit_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: The form's key: a retried submit with the same key records no second visit.
    idempotency_key: Mapped[str | None] = mapped_column(UUID(as_uuid=False), unique=True)
    __table_args__ = (
        CheckConstraint(f"outcome IN ({sql_in(VISIT_OUTCOMES)})", name="outcome"),
        Index("ix_visits_resident_id_visited_at", "resident_id", "visited_at"),
    )


class Need(Base):
    """A need found for a resident, in one of the ten case-management domains."""

    __tablename__ = "needs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), nullable=False, index=True)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    identified_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)
    #: The visit that found the need (NULL for imported needs).
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    #: Who entered the need: a username, or "import <file name>" (migration 0015).
    entered_by: Mapped[str] = mapped_column(Text, nullable=False)
    entered_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    __table_args__ = (
        CheckConstraint(f"category IN ({sql_in(NEED_CATEGORIES)})", name="category"),
        CheckConstraint(f"status IN ({sql_in(NEED_STATUSES)})", name="status"),
        CheckConstraint("resolved_on IS NULL OR resolved_on >= identified_on", name="dates"),
    )


class SupportRecord(Base):
    """Support given to a resident by a provider (cash, goods or services)."""

    __tablename__ = "support_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), nullable=False)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), nullable=False, index=True)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    item: Mapped[str] = mapped_column(Text, nullable=False)
    amount_krw: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(Text)
    provided_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    # Issue 13 (migration 0015): the support taxonomy and what the shared records need.
    #: One of visitmap.vocab.SUPPORT_MINOR; its major category and need domain follow from it.
    minor_category: Mapped[str] = mapped_column(Text, nullable=False)
    #: weekly / monthly / quarterly / yearly for recurring support, NULL if given once.
    recurring_period: Mapped[str | None] = mapped_column(Text)
    #: donation or budget.
    funding: Mapped[str] = mapped_column(Text, nullable=False)
    #: Use-by date of perishable goods.
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    #: The need this support meets.
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"), index=True)
    #: Who entered the record: a username, or "import <file name>" for an imported file.
    entered_by: Mapped[str] = mapped_column(Text, nullable=False)
    entered_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    __table_args__ = (
        CheckConstraint(f"category IN ({sql_in(NEED_CATEGORIES)})", name="category"),
        CheckConstraint(f"minor_category IN ({sql_in(SUPPORT_MINOR)})", name="minor_category"),
        CheckConstraint(
            f"recurring_period IS NULL OR recurring_period IN ({sql_in(SUPPORT_PERIODS)})",
            name="recurring_period",
        ),
        CheckConstraint(f"funding IN ({sql_in(SUPPORT_FUNDING)})", name="funding"),
        Index("ix_support_records_minor_category_provided_on", "minor_category", "provided_on"),
        CheckConstraint("num_nonnulls(amount_krw, quantity) >= 1", name="amount_or_quantity"),
        CheckConstraint("amount_krw IS NULL OR amount_krw >= 0", name="amount_nonnegative"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
        Index("ix_support_records_resident_id_provided_on", "resident_id", "provided_on"),
    )


class VisitTeam(Base):
    """A visit team (찾아가는 복지팀) with a base and the areas it covers."""

    __tablename__ = "visit_teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    base_facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))


class VisitTeamMember(Base):
    """A member of a visit team (a visitor: 복지통장, visiting nurse, dong welfare officer)."""

    __tablename__ = "visit_team_members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("visit_teams.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")


team_areas = Table(
    "team_areas",
    Base.metadata,
    Column("team_id", ForeignKey("visit_teams.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id"), primary_key=True),
)


class RoutePlan(Base):
    """A stored day plan of a team (visitmap.usecases.planning).

    Planning the same team and day again stores a new ``version``; the highest version is the
    team's plan for the day, older ones stay because recorded visits may name them.
    """

    __tablename__ = "route_plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("visit_teams.id", ondelete="CASCADE"), nullable=False
    )
    plan_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    version: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    created_at: Mapped[dt.datetime] = _created_at()
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    #: the score run whose tiers and due dates made the candidates
    run_id: Mapped[int | None] = mapped_column(ForeignKey("score_runs.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(Text, nullable=False)
    settings = mapped_column(JSONB, nullable=False)
    base_facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    base_geom = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    candidates: Mapped[int] = mapped_column(Integer, nullable=False)
    planning_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    __table_args__ = (
        UniqueConstraint("team_id", "plan_date", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


class RoutePlanRoute(Base):
    """One visitor's route in a stored plan: when they leave and are back, totals."""

    __tablename__ = "route_plan_routes"
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("route_plans.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("visit_team_members.id"), primary_key=True)
    visitor_order: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    leave_base: Mapped[dt.time] = mapped_column(Time, nullable=False)
    back_at_base: Mapped[dt.time] = mapped_column(Time, nullable=False)
    travel_metres: Mapped[int] = mapped_column(Integer, nullable=False)
    travel_minutes: Mapped[float] = mapped_column(Float, nullable=False)
    service_minutes: Mapped[float] = mapped_column(Float, nullable=False)
    wait_minutes: Mapped[float] = mapped_column(Float, nullable=False)


class RoutePlanStop(Base):
    """A planned visit: who visits whom, in which order, at what time (times of day, Korea)."""

    __tablename__ = "route_plan_stops"
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("route_plans.id", ondelete="CASCADE"), primary_key=True
    )
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("visit_team_members.id"), nullable=False)
    stop_order: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    tier: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    days_overdue: Mapped[int] = mapped_column(Integer, nullable=False)
    arrival: Mapped[dt.time] = mapped_column(Time, nullable=False)
    start: Mapped[dt.time] = mapped_column(Time, nullable=False)
    departure: Mapped[dt.time] = mapped_column(Time, nullable=False)
    #: from the previous stop (or the base), metres
    travel_metres: Mapped[int] = mapped_column(Integer, nullable=False)
    wait_minutes: Mapped[float] = mapped_column(Float, nullable=False)
    __table_args__ = (
        UniqueConstraint("plan_id", "member_id", "stop_order"),
        CheckConstraint("stop_order >= 1", name="order_positive"),
        CheckConstraint("tier IN (0, 1, 2)", name="tier"),
    )


class RoutePlanDrop(Base):
    """A candidate left out of a stored plan, and why.

    ``reason`` is a code of ROUTE_DROP_REASONS in visitmap.vocab.
    """

    __tablename__ = "route_plan_drops"
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("route_plans.id", ondelete="CASCADE"), primary_key=True
    )
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    tier: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    days_overdue: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    __table_args__ = (
        CheckConstraint(f"reason IN ({sql_in(ROUTE_DROP_REASONS)})", name="reason"),
        CheckConstraint("tier IN (0, 1, 2)", name="tier"),
    )


# Expression index for metric nearest-neighbour searches (KNN with <-> in EPSG:5179).
Index(
    "ix_facilities_geom_5179",
    func.ST_Transform(Facility.geom, 5179),
    postgresql_using="gist",
)


class ScoreRun(Base):
    """One scoring of the residents: who ran it, when, how, on what, with what result."""

    __tablename__ = "score_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = _created_at()
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    config_version: Mapped[str] = mapped_column(Text, nullable=False)
    parameters = mapped_column(JSONB, nullable=False)
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    scope_codes = mapped_column(ARRAY(Text))  # NULL = all areas
    previous_run_id: Mapped[int | None] = mapped_column(ForeignKey("score_runs.id"))
    feature_names = mapped_column(ARRAY(Text), nullable=False)
    input_counts = mapped_column(JSONB, nullable=False)
    inputs_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    tier_counts = mapped_column(JSONB, nullable=False)
    metrics = mapped_column(JSONB, nullable=False)
    #: null while the run is a draft; the map's run is the most recently published
    #: (geo.score_runs.published_run_id, docs/publishing.md)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        CheckConstraint("method IN ('weighted', 'rules', 'model', 'additive')", name="method"),
        CheckConstraint(
            "(published_at IS NULL) = (published_by IS NULL)", name="published_by_whom"
        ),
    )


class ResidentScore(Base):
    """A resident's score, tier and per-feature contributions in one run.

    ``features`` and ``contributions`` are packed little-endian float32 vectors aligned with
    the run's ``feature_names`` (see :func:`geo.score_runs.unpack_vectors`); packing keeps the
    write of a million residents one fast COPY.
    """

    __tablename__ = "resident_scores"
    run_id: Mapped[int] = mapped_column(
        ForeignKey("score_runs.id", ondelete="CASCADE"), primary_key=True
    )
    # No foreign key to residents: a run is an append-only snapshot written in one COPY by
    # store_run from ids read in the same transaction, and residents are never deleted (their
    # status changes); a per-row FK check cost ~10 s per million scores.
    resident_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    tier: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    next_due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    features: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    contributions: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # The day the resident entered this tier (issue 12, migration 0013): the start of a
    # never-met resident's first-visit clock (scoring.cadence.due_dates). NULL: not kept.
    tier_since: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # One partition per run (resident_scores_run_<id>), created and attached by
    # geo.score_runs.store_run after one COPY; see migration 0005.
    __table_args__ = (
        CheckConstraint("tier IN (0, 1, 2)", name="tier"),
        {"postgresql_partition_by": "LIST (run_id)"},
    )


class ScoreUpdate(Base):
    """A change a recorded visit made to a resident's row of a stored run.

    The run's scores stay live between rescoring; this log keeps what they were, so the run
    as scored can be recovered and every change is audited.
    """

    __tablename__ = "score_updates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("score_runs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), nullable=False)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), nullable=False, index=True)
    updated_at: Mapped[dt.datetime] = _created_at()
    old_score: Mapped[float] = mapped_column(Float, nullable=False)
    new_score: Mapped[float] = mapped_column(Float, nullable=False)
    old_tier: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    new_tier: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    old_next_due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    new_next_due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)


class RunAreaDueCount(Base):
    """Residents of a score run per dong, tier and next due date.

    The map's low-zoom layers and ``/api/areas`` read it (geo.mapdata.aggregates): built when
    the run is stored and adjusted when a visit rescores a resident. A row is overdue on a day
    when ``due_on`` is before it, so the same rows serve every day.
    """

    __tablename__ = "run_area_due_counts"
    run_id: Mapped[int] = mapped_column(
        ForeignKey("score_runs.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    tier: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    due_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    residents: Mapped[int] = mapped_column(Integer, nullable=False)


class RunHighCell(Base):
    """High-tier residents of a score run per 250 m grid cell (EPSG:5179) and dong.

    The heatmap's points: their number is bounded by the city's area, not its residents. Built
    when the run is stored, adjusted when a visit moves a resident into or out of the high tier.
    """

    __tablename__ = "run_high_cells"
    run_id: Mapped[int] = mapped_column(
        ForeignKey("score_runs.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    cell_x: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_y: Mapped[int] = mapped_column(Integer, primary_key=True)
    residents: Mapped[int] = mapped_column(Integer, nullable=False)


def _tile_point_columns() -> list[Column]:
    """Per tier: residents, their ids and due dates in score order, the earliest due date."""
    columns = []
    for tier in ("low", "medium", "high"):
        columns += [
            Column(f"n_{tier}", Integer, nullable=False),
            Column(f"ids_{tier}", ARRAY(Text), nullable=True),
            Column(f"dues_{tier}", ARRAY(Date), nullable=True),
            Column(f"min_due_{tier}", Date, nullable=True),
        ]
    return columns


#: A score run's residents in the shape the resident tiles need (issue 15, migration 0018):
#: one row per point where residents live, with counts, ids and due dates per tier, in Web
#: Mercator. One partition per published run (run_tile_points_run_<id>), written by
#: geo.mapdata.tile_points when the run is published and adjusted by recorded visits.
run_tile_points = Table(
    "run_tile_points",
    Base.metadata,
    Column(
        "run_id",
        Integer,
        ForeignKey("score_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("area_id", Integer, nullable=False),
    Column("geom", Geometry("POINT", srid=3857, spatial_index=False), nullable=False),
    *_tile_point_columns(),
    Index("ix_run_tile_points_geom", "geom", postgresql_using="gist"),
    postgresql_partition_by="LIST (run_id)",
)

#: Points a recorded visit changed in the published run's tile layer, newest last: each server
#: process drops its cached tiles holding them (webmap.tile_cache).
tile_changes = Table(
    "tile_changes",
    Base.metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("area_id", Integer, nullable=False),
    Column("geom", Geometry("POINT", srid=3857, spatial_index=False), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


class User(Base):
    """An account: a person who signs in (issue 10).

    Never deleted, only disabled, so that the access audit keeps naming them.

    ``roles`` is one or more of :data:`visitmap.vocab.ROLES`; ``all_areas`` gives a district-wide
    official every dong, otherwise the dongs are in ``user_areas``; ``team_id`` is a visitor's
    team and ``provider_id`` the organisation (public office or private agency) they work for.
    """

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(Text, nullable=False)
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    all_areas: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("visit_teams.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    #: Argon2id (argon2-cffi); NULL for an account that cannot sign in with a password.
    password_hash: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Bumped by a password change or disable: sessions made before it are signed out.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[dt.datetime] = _created_at()
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint(
            f"cardinality(roles) >= 1 AND roles <@ ARRAY[{sql_in(ROLES)}]::text[]", name="roles"
        ),
        CheckConstraint("username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'", name="username"),
    )


user_areas = Table(
    "user_areas",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id"), primary_key=True),
)


class ApiToken(Base):
    """A named API token of a user, for machine clients (``Authorization: Bearer``).

    Only the SHA-256 of the token is stored (tokens are 256-bit random, so a fast hash is
    enough); ``prefix`` is its first characters, for telling tokens apart in lists.
    """

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    prefix: Mapped[str] = mapped_column(Text, nullable=False)
    token_sha256: Mapped[bytes] = mapped_column(LargeBinary, unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = _created_at()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("user_id", "name"),
        CheckConstraint("octet_length(token_sha256) = 32", name="token_length"),
    )


class LoginEvent(Base):
    """Sign-ins, failures, lock-outs, sign-outs and time-outs (who, when, from where)."""

    __tablename__ = "login_events"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )
    username: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (CheckConstraint(f"event IN ({sql_in(LOGIN_EVENTS)})", name="event"),)


# Vector tiles select dongs' label points (statistics for the planner, migration 0007) and
# households by their Web Mercator position (geo.mapdata.tiles).
Index(
    "ix_areas_label_point_3857",
    func.ST_Transform(Area.label_point, 3857),
    postgresql_using="gist",
)
Index(
    "ix_households_geom_3857",
    func.ST_Transform(Household.geom, 3857),
    postgresql_using="gist",
)


# Imported here, not at the top, so that this section stays one appended block (migration 0010).
from sqlalchemy.dialects.postgresql import INET  # noqa: E402


class AccessAudit(Base):
    """One response that showed residents' personal data (geo.audit, docs/audit.md).

    Who, when, from which address, through which endpoint, and which residents.

    Append-only for the application: triggers of migration 0010 refuse UPDATE and TRUNCATE,
    and DELETE of a row younger than 730 days (geo.audit.MIN_RETENTION_DAYS). ``user_id`` has
    no foreign key: users are never deleted, only disabled, and the row must outlive any
    change to the accounts. ``resident_ids`` are database ids (residents.id); a response may
    count residents without listing them (e.g. a tile), so ``resident_count`` is at least
    their number.
    """

    __tablename__ = "access_audit"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = _created_at()
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str | None] = mapped_column(Text)
    address = mapped_column(INET)
    method: Mapped[str | None] = mapped_column(Text)
    endpoint: Mapped[str] = mapped_column(Text, nullable=False)
    path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    resident_ids = mapped_column(ARRAY(BigInteger), nullable=False, server_default="{}")
    resident_count: Mapped[int] = mapped_column(Integer, nullable=False)
    detail = mapped_column(JSONB)
    __table_args__ = (
        CheckConstraint("resident_count >= cardinality(resident_ids)", name="resident_count"),
        Index("ix_access_audit_at", "at"),
        Index("ix_access_audit_username_at", "username", "at"),
        Index("ix_access_audit_resident_ids", "resident_ids", postgresql_using="gin"),
    )


# --------------------------------------------------------------------------- shared support
# Issue 13, migration 0015: consent to sharing, person links, donors, stock, sponsorships and
# the stored warnings of the dashboard (종합현황판). Imported here so that this section stays
# one appended block.
from visitmap.vocab import (  # noqa: E402
    DONOR_KINDS,
    STOCK_MOVEMENTS,
    WARNING_KINDS,
    WARNING_LEVELS,
)


class SharingConsent(Base):
    """A resident's current consent to share support records between agencies.

    Recorded and changed by community-centre staff; every change is also appended to
    ``consent_events``. No row means no consent.
    """

    __tablename__ = "sharing_consents"
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    consented: Mapped[bool] = mapped_column(Boolean, nullable=False)
    #: The day the resident gave (or withdrew) consent.
    decided_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    recorded_by: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[dt.datetime] = _created_at()


class ConsentEvent(Base):
    """One change of a resident's consent to sharing (append-only log)."""

    __tablename__ = "consent_events"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), nullable=False, index=True)
    consented: Mapped[bool] = mapped_column(Boolean, nullable=False)
    decided_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    recorded_by: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[dt.datetime] = _created_at()
    #: Where the change came from: "form", "api" or "import <file name>".
    source: Mapped[str] = mapped_column(Text, nullable=False)


class ResidentLink(Base):
    """A resident row found to be the same person as another (record linkage).

    ``person_id`` is the smallest resident id of the person's rows; only rows linked to
    another are stored. ``method`` is ``rrn_hmac`` (same keyed registration-number hash) or
    ``probabilistic`` (name, birth year and address; ``match_probability`` from the linkage
    model).
    """

    __tablename__ = "resident_links"
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), nullable=False, index=True)
    method: Mapped[str] = mapped_column(Text, nullable=False)
    match_probability: Mapped[float | None] = mapped_column(Float)
    linked_at: Mapped[dt.datetime] = _created_at()
    __table_args__ = (CheckConstraint("method IN ('rrn_hmac', 'probabilistic')", name="method"),)


class Donor(Base):
    """A donor or sponsor (후원처)."""

    __tablename__ = "donors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    #: The dong the donor is based in, if local.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    entered_by: Mapped[str] = mapped_column(Text, nullable=False)
    entered_at: Mapped[dt.datetime] = _created_at()
    __table_args__ = (CheckConstraint(f"kind IN ({sql_in(DONOR_KINDS)})", name="kind"),)


class Donation(Base):
    """Goods or money a donor gave to a centre (a provider); goods enter its stock."""

    __tablename__ = "donations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), nullable=False, index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), nullable=False, index=True)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    minor_category: Mapped[str] = mapped_column(Text, nullable=False)
    item: Mapped[str] = mapped_column(Text, nullable=False)
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(Text)
    amount_krw: Mapped[int | None] = mapped_column(BigInteger)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    entered_by: Mapped[str] = mapped_column(Text, nullable=False)
    entered_at: Mapped[dt.datetime] = _created_at()
    __table_args__ = (
        CheckConstraint(f"minor_category IN ({sql_in(SUPPORT_MINOR)})", name="minor_category"),
        CheckConstraint("num_nonnulls(amount_krw, quantity) >= 1", name="amount_or_quantity"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_krw IS NULL OR amount_krw >= 0", name="amount_nonnegative"),
    )


class StockMovement(Base):
    """One movement of goods in or out of a centre's stock.

    A centre's stock of an item is the signed sum of its movements per (centre, minor
    category, item, unit, expiry): received and transferred_in add, issued, transferred_out
    and expired take away, adjusted carries its own sign. An issue to a recipient points at
    its support record; a transfer's two rows point at each other's centre.
    """

    __tablename__ = "stock_movements"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: The id in an imported file (NULL for movements made by the service).
    external_id: Mapped[str | None] = mapped_column(Text, unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    moved_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    minor_category: Mapped[str] = mapped_column(Text, nullable=False)
    item: Mapped[str] = mapped_column(Text, nullable=False)
    unit: Mapped[str] = mapped_column(Text, nullable=False)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))
    support_record_id: Mapped[int | None] = mapped_column(ForeignKey("support_records.id"))
    #: The other centre of a transfer.
    counterpart_centre_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    entered_by: Mapped[str] = mapped_column(Text, nullable=False)
    entered_at: Mapped[dt.datetime] = _created_at()
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(STOCK_MOVEMENTS)})", name="kind"),
        CheckConstraint(f"minor_category IN ({sql_in(SUPPORT_MINOR)})", name="minor_category"),
        CheckConstraint("kind = 'adjusted' OR quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "(kind IN ('transferred_out', 'transferred_in')) = (counterpart_centre_id IS NOT NULL)",
            name="transfer_counterpart",
        ),
        Index("ix_stock_movements_centre_id_item", "centre_id", "minor_category", "item"),
    )


class Sponsorship(Base):
    """A sponsor's monthly support of one household (e.g. "100가정 보듬기")."""

    __tablename__ = "sponsorships"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), nullable=False, index=True)
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id"), nullable=False, index=True
    )
    #: The centre (provider) that arranged and follows the match.
    centre_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), nullable=False)
    programme: Mapped[str] = mapped_column(Text, nullable=False)
    starts_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    monthly_amount_krw: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: The sponsorship that continues this one after it ends.
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("sponsorships.id"))
    entered_by: Mapped[str] = mapped_column(Text, nullable=False)
    entered_at: Mapped[dt.datetime] = _created_at()
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates"),
        CheckConstraint("monthly_amount_krw > 0", name="amount_positive"),
    )


class SponsorshipPayment(Base):
    """What a sponsor paid for one month of a sponsorship (the monthly collection)."""

    __tablename__ = "sponsorship_payments"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sponsorship_id: Mapped[int] = mapped_column(ForeignKey("sponsorships.id"), nullable=False)
    #: The first day of the month paid for.
    month: Mapped[dt.date] = mapped_column(Date, nullable=False)
    amount_krw: Mapped[int] = mapped_column(BigInteger, nullable=False)
    received_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    entered_by: Mapped[str] = mapped_column(Text, nullable=False)
    entered_at: Mapped[dt.datetime] = _created_at()
    __table_args__ = (
        UniqueConstraint("sponsorship_id", "month"),
        CheckConstraint("extract(day FROM month) = 1", name="month_first_day"),
        CheckConstraint("amount_krw >= 0", name="amount_nonnegative"),
    )


class SupportWarning(Base):
    """One warning of the dashboard (종합현황판), as last computed (geo.support_warnings).

    The whole table is replaced by a full computation and the rows of some persons by the
    refresh after a record is entered. ``level`` follows from ``kind``
    (visitmap.vocab.WARNING_KINDS). Resident warnings name the resident (the person's
    smallest resident id when linked); stock warnings name no resident, only the centre.
    """

    __tablename__ = "support_warnings"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    level: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    #: The dong the warning belongs to (the resident's, or the centre's).
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), nullable=False, index=True)
    #: The providers (agencies, centres) whose records are involved.
    provider_ids = mapped_column(ARRAY(Integer), nullable=False, server_default="{}")
    #: The support records involved.
    record_ids = mapped_column(ARRAY(BigInteger), nullable=False, server_default="{}")
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"))
    sponsorship_id: Mapped[int | None] = mapped_column(ForeignKey("sponsorships.id"))
    minor_category: Mapped[str | None] = mapped_column(Text)
    #: The day the warning's condition began (e.g. the second provider's record).
    since: Mapped[dt.date | None] = mapped_column(Date)
    #: Kind-specific facts for the drill-down (window, days, quantities), JSON.
    detail = mapped_column(JSONB, nullable=False, server_default="{}")
    computed_at: Mapped[dt.datetime] = _created_at()
    __table_args__ = (
        CheckConstraint(f"level IN ({sql_in(WARNING_LEVELS)})", name="level"),
        CheckConstraint(f"kind IN ({sql_in(WARNING_KINDS)})", name="kind"),
        Index("ix_support_warnings_provider_ids", "provider_ids", postgresql_using="gin"),
    )


class EligibilityResult(Base):
    """One household's screening against one programme (issue 14), as last computed.

    Written by a full screening (``visitmap eligibility screen --refresh``); a row exists for
    every programme the household is likely eligible for or receives. ``reason_ko`` and
    ``reason_en`` name the rule that decided it (e.g. "소득인정액 ₩712,000 ≤ 기준 ₩820,556").
    """

    __tablename__ = "eligibility_results"
    household_id: Mapped[int] = mapped_column(
        ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    programme: Mapped[str] = mapped_column(Text, primary_key=True)
    catalogue_version: Mapped[str] = mapped_column(Text, nullable=False)
    screened_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    likely_eligible: Mapped[bool] = mapped_column(Boolean, nullable=False)
    receiving: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason_ko: Mapped[str] = mapped_column(Text, nullable=False)
    reason_en: Mapped[str] = mapped_column(Text, nullable=False)
    __table_args__ = (
        Index(
            "ix_eligibility_results_unreached",
            "household_id",
            postgresql_where=text("likely_eligible AND NOT receiving"),
        ),
    )


class HotspotCell(Base):
    """One unit (H3 cell or dong) of a hot-spot analysis of a score run (issue 14).

    ``value`` is the analysed variable (the share of the unit's residents in the high tier),
    ``z`` the Getis-Ord Gi* z-score, ``p_sim`` its permutation p-value and ``q_value`` the
    false-discovery-rate adjusted one; ``cluster`` is hot / cold / none at the FDR level.
    """

    __tablename__ = "hotspot_cells"
    run_id: Mapped[int] = mapped_column(
        ForeignKey("score_runs.id", ondelete="CASCADE"), primary_key=True
    )
    unit: Mapped[str] = mapped_column(Text, primary_key=True)
    cell: Mapped[str] = mapped_column(Text, primary_key=True)
    residents: Mapped[int] = mapped_column(Integer, nullable=False)
    high: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    z: Mapped[float | None] = mapped_column(Float)
    p_sim: Mapped[float | None] = mapped_column(Float)
    q_value: Mapped[float | None] = mapped_column(Float)
    cluster: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[dt.datetime] = _created_at()
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    __table_args__ = (
        CheckConstraint(f"unit IN ({sql_in(HOTSPOT_UNITS)})", name="unit"),
        CheckConstraint(f"cluster IN ({sql_in(HOTSPOT_CLUSTERS)})", name="cluster"),
    )


class BlindSpot(Base):
    """A resident on the blind-spot list (복지사각지대, issue 14), as last computed.

    One row per resident with at least one reason (visitmap.vocab.BLIND_SPOT_REASONS); the
    whole table is replaced by ``visitmap blindspots refresh``. ``detail`` holds the facts of
    each reason (programmes, walking metres, last contact day, hot-spot cell), JSON.
    """

    __tablename__ = "blind_spots"
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[int | None] = mapped_column(ForeignKey("score_runs.id", ondelete="SET NULL"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), nullable=False, index=True)
    tier: Mapped[int | None] = mapped_column(SmallInteger)
    reasons = mapped_column(ARRAY(Text), nullable=False)
    detail = mapped_column(JSONB, nullable=False, server_default="{}")
    computed_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    __table_args__ = (
        CheckConstraint(
            f"reasons <@ ARRAY[{sql_in(BLIND_SPOT_REASONS)}]::text[] AND cardinality(reasons) > 0",
            name="reasons",
        ),
    )
