"""What the JSON API answers, one model per body.

Objects list every field they carry and no others (``additionalProperties: false``), so a
field added to a view without its model fails the tests (the app validates its responses
when ``VALIDATE_RESPONSES`` is set, and tests/webmap/test_openapi.py checks real responses
against the served document).

Length: over 400 lines, but a flat list of small models, one per JSON object the API writes, in the
order of the blueprints; split it by blueprint if it grows much further.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from visitmap.vocab import NEED_CATEGORIES, ROUTE_DROP_REASONS, VISIT_OUTCOMES, VISIT_STATES

TierCode = Literal[0, 1, 2]
TierName = Literal["low", "medium", "high"]
Outcome = Literal[tuple(sorted(VISIT_OUTCOMES))]  # type: ignore[valid-type]
Need = Literal[tuple(sorted(NEED_CATEGORIES))]  # type: ignore[valid-type]
DateStr = Annotated[str, Field(json_schema_extra={"format": "date"})]
DateTimeStr = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
HHMM = Annotated[str, Field(description="HH:MM")]


class Out(BaseModel):
    """A JSON object with exactly these fields."""

    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------------------


class Problem(Out):
    """One bad parameter or field."""

    parameter: str
    message: str


class ErrorBody(Out):
    """An error of the API or the tiles.

    ``parameter`` names the bad one (400, 403, 409) and ``message`` starts with it; POST
    /api/visits also lists every problem.
    """

    error: Literal[
        "invalid_parameter", "not_found", "conflict", "forbidden", "unauthorized", "csrf"
    ]
    parameter: str | None = None
    message: str
    problems: list[Problem] | None = None


# --- the map: residents, areas, runs ----------------------------------------------------------


class Point(Out):
    """A GeoJSON point in degrees (EPSG:4326)."""

    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=2, description="[lon, lat]")


class ResidentProperties(Out):
    """What the map shows of a resident (no free text)."""

    id: str
    area_code: str
    tier: TierCode
    tier_name: TierName
    score: float
    next_due_on: DateStr
    days_overdue: int


class ResidentFeature(Out):
    """A resident as a GeoJSON feature."""

    type: Literal["Feature"]
    id: str
    geometry: Point
    properties: ResidentProperties


class ResidentPage(Out):
    """A GeoJSON FeatureCollection with paging fields; highest score first."""

    type: Literal["FeatureCollection"]
    features: list[ResidentFeature]
    run_id: int | None
    total: int
    limit: int
    offset: int
    next_offset: int | None


class LastVisit(Out):
    """The resident's most recent visit."""

    visited_on: DateStr
    outcome: Outcome
    outcome_ko: str
    outcome_en: str
    visitor: str | None
    notes: str | None


class PanelVisitState(Out):
    """The resident's visit state today (:data:`visitmap.vocab.VISIT_STATES`), in words."""

    state: str
    state_ko: str
    state_en: str
    words_ko: str
    words_en: str


class OpenNeed(Out):
    """A need found and not yet met."""

    category: Need
    category_ko: str
    category_en: str
    status: Literal["open", "in_progress"]
    status_ko: str
    status_en: str
    identified_on: DateStr


class Support(Out):
    """Support given to the resident."""

    provided_on: DateStr
    category: Need
    category_ko: str
    category_en: str
    item: str | None
    amount_krw: int | None
    quantity: float | None
    unit: str | None
    provider: str
    sector: Literal["public", "private"]
    sector_ko: str
    sector_en: str


class ResidentPanel(Out):
    """One resident: tier, score, reasons, last visit, open needs, recent support."""

    resident_id: str
    area_code: str
    area_name: str
    run_id: int
    method: str
    score: float
    tier: TierCode
    tier_name: TierName
    reasons_ko: list[str]
    reasons_en: list[str]
    next_due_on: DateStr
    days_overdue: int
    visit_state: PanelVisitState | None
    name: str | None
    age_years: int
    lives_alone: bool
    status: str
    last_visit: LastVisit | None
    open_needs: list[OpenNeed]
    recent_support: list[Support]


class TierCounts(Out):
    """Residents per tier; None where an analyst's view hides a small count."""

    low: int | None
    medium: int | None
    high: int | None


class AreaSummary(Out):
    """A dong: where to put its label, residents scored and shown, counts per tier."""

    code: str
    name: str
    district_name: str | None
    lon: float
    lat: float
    residents_scored: int | None
    residents_shown: int | None
    high_per_1000: float | None
    tier_counts: TierCounts
    overdue_counts: TierCounts


class Areas(Out):
    """The dongs in the caller's areas, counted on a day."""

    run_id: int | None
    counted_on: DateStr
    areas: list[AreaSummary]


class ScoreRun(Out):
    """A stored score run: when, by whom, how, and its city-wide counts and metrics."""

    id: int
    created_at: DateTimeStr
    created_by: str | None
    method: str
    config_version: str | None
    as_of: DateStr
    scope_codes: list[str] | None
    previous_run_id: int | None
    input_counts: dict[str, int] | None
    tier_counts: dict[str, int] | None
    metrics: dict[str, Any] | None
    published_at: DateTimeStr | None = Field(
        description="When it was last published; null for a draft."
    )
    published_by: str | None = Field(description="Who last published it; null for a draft.")
    is_published: bool = Field(description="Published at least once.")
    is_current: bool = Field(
        description="The published run: the one the map, the planner and the field pages use."
    )


class PublishedRun(Out):
    """A score run just published."""

    run_id: int
    published_at: DateTimeStr
    published_by: str
    previous_run_id: int | None = Field(
        description="The run published before (the run itself when it was published already)."
    )
    changed: bool = Field(description="False when the run was the published run already.")
    caught_up: int = Field(
        description="Residents rescored in the run with visits recorded since it was stored."
    )


class ScoreRuns(Out):
    """Score runs, newest first."""

    runs: list[ScoreRun]


# --- teams and day plans ----------------------------------------------------------------------


class TeamSummary(Out):
    """A visit team in a list."""

    team_id: str
    name: str
    base_facility_id: str | None
    base_name: str | None
    area_codes: list[str]
    members: int
    active_members: int


class Teams(Out):
    """The teams the caller may see."""

    teams: list[TeamSummary]


class TeamArea(Out):
    """A dong of a team."""

    code: str
    name: str


class TeamMember(Out):
    """A member of a team (a visitor)."""

    member_id: str
    name: str
    role: str | None
    active: bool


class Team(Out):
    """A visit team with its base, dongs and members."""

    team_id: str
    name: str
    base_facility_id: str | None
    base_name: str | None
    base_lon: float | None
    base_lat: float | None
    areas: list[TeamArea]
    members: list[TeamMember]


class NewMember(TeamMember):
    """The member added, with their team."""

    team_id: str


class Stop(Out):
    """A timed visit of a route, with the resident's top reasons."""

    order: int
    resident_id: str
    name: str | None
    address: str | None
    area_code: str
    area_name: str
    lon: float
    lat: float
    tier: TierCode
    days_overdue: int
    arrival: HHMM
    start: HHMM
    departure: HHMM
    travel_metres: int
    wait_minutes: float
    reasons_ko: list[str]
    reasons_en: list[str]
    never_met: bool = Field(description="No visit met the resident before the plan's day.")
    state: Literal[tuple(VISIT_STATES)] = Field(  # type: ignore[valid-type]
        description="The stop's visit state on the plan's day (visited once a visit is recorded)."
    )
    state_ko: str = Field(description="The state in words, Korean (기한 지남 · 2주 이상 지남).")
    state_en: str = Field(description="The state in words, English.")
    outcome: str | None = Field(description="The outcome of the day's visit, if recorded.")
    visit_id: str | None
    visit_outcome: str | None
    visited_at: DateTimeStr | None


class Route(Out):
    """One visitor's day: the stops in order and the time it takes."""

    member_id: str
    visitor: str
    role: str | None
    leave_base: HHMM
    back_at_base: HHMM
    travel_metres: int
    travel_minutes: float
    service_minutes: float
    wait_minutes: float
    done: int = Field(description="Stops visited on the plan's day (any outcome).")
    stops: list[Stop]


class PlanProgress(Out):
    """How far the day has got: stops planned, done (a visit recorded), dropped."""

    planned: int
    done: int
    dropped: int


class Dropped(Out):
    """A candidate left out of the plan, and why."""

    resident_id: str
    name: str | None
    area_code: str
    tier: TierCode
    days_overdue: int
    reason: Literal[ROUTE_DROP_REASONS]  # type: ignore[valid-type]


class Plan(Out):
    """A stored day plan: routes per visitor, timed stops, dropped visits, with reasons.

    Residents outside the caller's areas are left out and counted.
    """

    plan_id: int
    version: int
    latest_version: int
    plan_date: DateStr
    created_at: DateTimeStr
    created_by: str
    run_id: int | None
    method: str
    settings: dict[str, Any] = Field(description="The plan settings it was made with.")
    candidates: int
    planning_seconds: float
    team_id: str
    team_name: str
    base_facility_id: str | None
    base_name: str | None
    base_lon: float | None
    base_lat: float | None
    routes: list[Route]
    dropped: list[Dropped]
    hidden_stops: int
    hidden_drops: int
    progress: PlanProgress


# --- visits -----------------------------------------------------------------------------------


class UnreachableResident(Out):
    """A resident marked unreachable after visits that found nobody."""

    resident_id: str
    area_code: str
    area_name: str
    tier: TierCode | None
    tier_name: TierName | None
    next_due_on: DateStr | None
    unreachable_since: DateStr
    attempts: int
    last_attempt_on: DateStr | None


class Unreachable(Out):
    """The unreachable residents of the caller's areas, longest first."""

    run_id: int | None
    residents: list[UnreachableResident]


class ScoreUpdate(Out):
    """A resident's score, tier and due date before and after a visit."""

    run_id: int
    old_score: float
    new_score: float
    old_tier: TierCode
    new_tier: TierCode
    old_next_due_on: DateStr
    new_next_due_on: DateStr


class VisitSummary(Out):
    """The recorded visit and the score change it made."""

    visit_id: str
    resident_id: str
    name: str | None
    area_code: str
    area_name: str
    visited_at: str = Field(description="Korean time, YYYY-MM-DDTHH:MM")
    visitor: str
    outcome: Outcome
    notes: str | None
    needs: list[Need]
    next_visit_on: DateStr | None
    team_id: str | None
    team_name: str | None
    unreachable_since: DateStr | None
    tier: TierCode | None
    tier_name: TierName | None
    next_due_on: DateStr | None
    score_update: ScoreUpdate | None
    replayed: bool


# --- the access audit and the analysts' data --------------------------------------------------


class AuditRow(Out):
    """One request that showed residents' personal data."""

    id: int
    at: str = Field(json_schema_extra={"format": "date-time"}, description="Korean time")
    user_id: int | None
    username: str
    role: str | None
    address: str | None
    method: str | None
    endpoint: str
    path: str | None
    status: int | None
    resident_count: int
    resident_ids: list[str] = Field(description="Public resident ids")
    detail: dict[str, Any] | None


class AuditPage(Out):
    """A page of the access audit, newest first."""

    rows: list[AuditRow]
    limit: int
    offset: int
    next_offset: int | None


class AnalystResident(BaseModel):
    """One scored resident under a keyed pseudonym; then the run's features ``f_<name>``."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, float | None]

    pseudonym: str
    area_code: str
    area_name: str
    birth_year: int
    sex: str | None
    household_size: int | None
    lives_alone: bool | None
    has_disability: bool | None
    score: float
    tier: TierCode
    tier_name: TierName
    next_due_on: DateStr
    visits: int
    last_visit_month: str | None
    last_outcome: Outcome | None
    crisis_confirmed: int | None


class AnalystResidents(Out):
    """A page of pseudonymised rows."""

    residents: list[AnalystResident]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class AggregateRow(Out):
    """Residents of a dong (and age band) per tier; counts from 1 to 4 are None."""

    area_code: str
    area_name: str
    age_band: str | None = None
    low: int | None
    medium: int | None
    high: int | None


class Aggregates(Out):
    """Residents per dong (and age band) and tier, small counts hidden."""

    rows: list[AggregateRow]
    suppressed_below: int
