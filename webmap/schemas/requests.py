"""What the JSON API's requests may carry: query parameters and JSON bodies.

Query parameters are parsed by the validators here (comma lists, lenient booleans, bounded
integers) with the messages the API has always given (``limit: must be between 1 and 5000,
got 0``); each type states its OpenAPI schema next to its parser. Body models check types
and shape; the rules that need the database or are shared with the command line (a team
id's syntax, a visit's dates, plan settings' ranges) stay in :mod:`geo` and :mod:`routing`.

Length: one parser per query parameter type and one model per request, side by side so that
a parameter's parsing and its documented schema cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from geo.mapdata.filters import ResidentFilters
from geo.visits import PLAN_ID_MAX
from routing.settings_input import MAX_DETOUR, MAX_SERVICE_MINUTES, MAX_SPEED_KMH
from visitmap.vocab import CRISIS_SIGNAL_KINDS, NEED_CATEGORIES, TIER_NAMES, VISIT_OUTCOMES

TIER_CODES = {name: code for code, name in TIER_NAMES.items()}
DONG_CODE = "^[0-9]{10}$"
RUN_MAX = 2**31 - 1


def invalid(message: str) -> NoReturn:
    """Refuse a value with ``message`` (the API answers ``parameter: message``).

    Parameters
    ----------
    message : str
        What is wrong, e.g. ``must be an integer, got 'ten'``.

    Raises
    ------
    pydantic_core.PydanticCustomError
        Always; pydantic collects it into the request's ``ValidationError``.
    """
    raise PydanticCustomError("invalid", "{message}", {"message": message})


def _query_type(parse: Callable[[Any], Any], schema: dict, python_type: Any = Any) -> Any:
    """Make a query parameter's type from its parser and its OpenAPI schema.

    ``parse`` turns the raw text into the value (the first one, when the parameter is
    repeated, as Flask's ``request.args.get``); ``schema`` is what the document says of it.
    """

    def first(raw):
        return parse(raw[0] if isinstance(raw, list) else raw)

    return Annotated[python_type, PlainValidator(first), WithJsonSchema(schema)]


def query_int(default: int | None, minimum: int, maximum: int) -> Any:
    """Make an integer query parameter from ``minimum`` to ``maximum``.

    Parameters
    ----------
    default : int or None
        The value when the parameter is absent or empty.
    minimum, maximum : int
        The bounds, inclusive.

    Returns
    -------
    typing.Annotated
        A type for a field of a query model.
    """

    def parse(raw):
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            invalid(f"must be an integer, got {raw!r}")
        if not minimum <= value <= maximum:
            invalid(f"must be between {minimum} and {maximum}, got {value}")
        return value

    schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    return _query_type(parse, schema if default is None else schema | {"default": default})


def _items(raw) -> list[str]:
    items = [item.strip() for item in str(raw).split(",") if item.strip()]
    if not items:
        invalid("must not be empty")
    return items


def _tiers(raw) -> frozenset[int]:
    tiers = _items(raw)
    unknown = [t for t in tiers if t not in TIER_CODES]
    if unknown:
        invalid(f"unknown tier {unknown[0]!r} (high, medium, low)")
    return frozenset(TIER_CODES[t] for t in tiers)


def _dongs(raw) -> frozenset[str]:
    areas = _items(raw)
    bad = [a for a in areas if not (len(a) == 10 and a.isdigit())]
    if bad:
        invalid(f"{bad[0]!r} is not a 10-digit dong code")
    return frozenset(areas)


def _flag(raw) -> bool | None:
    if raw is None or raw == "":
        return None
    if str(raw).lower() in ("true", "1", "yes"):
        return True
    if str(raw).lower() in ("false", "0", "no"):
        return False
    invalid(f"must be true or false, got {raw!r}")


def _signal(raw) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in CRISIS_SIGNAL_KINDS:
        invalid(f"unknown crisis signal kind {raw!r} (one of {', '.join(CRISIS_SIGNAL_KINDS)})")
    return raw


def _bbox(raw) -> tuple[float, float, float, float]:
    if not raw:
        invalid("required: minlon,minlat,maxlon,maxlat")
    try:
        values = tuple(float(v) for v in str(raw).split(","))
    except ValueError:
        invalid(f"must be four numbers, got {raw!r}")
    if len(values) != 4:
        invalid(f"must be four numbers, got {len(values)}")
    minlon, minlat, maxlon, maxlat = values
    if not (-180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90):
        invalid("must be minlon < maxlon and minlat < maxlat, in degrees")
    return values


def _choice(*allowed: str, message: str) -> Callable[[Any], str]:
    def parse(raw):
        if raw not in allowed:
            invalid(message)
        return raw

    return parse


Tiers = _query_type(
    _tiers,
    {"type": "string", "pattern": "^(high|medium|low)(,(high|medium|low))*$", "example": "high"},
)
DongCodes = _query_type(
    _dongs, {"type": "string", "pattern": "^[0-9]{10}(,[0-9]{10})*$", "example": "1141069000"}
)
Flag = _query_type(_flag, {"type": "boolean"})
Signal = _query_type(_signal, {"type": "string", "enum": list(CRISIS_SIGNAL_KINDS)})
BBox = _query_type(
    _bbox,
    {
        "type": "string",
        "pattern": r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$",
        "example": "126.90,37.55,126.95,37.60",
    },
)
RunId = query_int(None, 1, RUN_MAX)
QueryText = _query_type(lambda raw: raw, {"type": "string"}, str)


def _absent_not_null(schema: dict) -> None:
    """Drop ``default: null``: a parameter whose default is None is absent by default."""
    for field in schema.get("properties", {}).values():
        if field.get("default", ...) is None:
            del field["default"]


class Query(BaseModel):
    """Query parameters; unknown ones are ignored (``lang``, cache busters)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_absent_not_null)


class RunQuery(Query):
    """The score run to read (default: the published run; docs/publishing.md)."""

    run: RunId = Field(
        None,
        description="Score run id (default: the published run; another run: leaders, analysts "
        "and admins only).",
    )


class MapQuery(RunQuery):
    """The map's filters (:class:`geo.mapdata.filters.ResidentFilters`) and the run."""

    area: DongCodes = Field(None, description="Dong codes (10 digits), comma-separated.")
    tier: Tiers = Field(None, description="Tiers, comma-separated: high, medium, low.")
    overdue: Flag = Field(
        None,
        description="true: only residents whose next visit is past due; false: only the others.",
    )
    signal: Signal = Field(
        None, description="Only residents with a crisis signal of this kind in the last 365 days."
    )
    unreached: Flag = Field(
        None,
        description="true: only residents whose household is likely eligible for a programme "
        "it does not receive (eligibility screening); false: only the others.",
    )

    def filters(self) -> ResidentFilters:
        """Return the filters for :mod:`geo.mapdata.queries` and :mod:`geo.mapdata.tiles`.

        Returns
        -------
        geo.mapdata.filters.ResidentFilters
            None for each filter not given.
        """
        return ResidentFilters(
            area_codes=self.area,
            tiers=self.tier,
            overdue=self.overdue,
            signal_kind=self.signal,
            unreached=self.unreached,
        )


class ResidentsQuery(MapQuery):
    """A bounding box, the map's filters and a page."""

    bbox: BBox = Field(description="minlon,minlat,maxlon,maxlat in degrees (EPSG:4326).")
    limit: query_int(500, 1, 5000) = Field(500, description="Page size.")
    offset: query_int(0, 0, 10**9) = Field(0, description="Page start.")


class ScoreRunsQuery(Query):
    """How many runs to list."""

    limit: query_int(50, 1, 500) = Field(50, description="How many.")


class AuditQuery(Query):
    """Every filter given must match; :func:`geo.audit.search_access` checks the values."""

    user: QueryText = Field(None, description="User name, exactly (token:NAME for API tokens).")
    resident: QueryText = Field(
        None, description="Resident: public id (e.g. R-0002268) or database id."
    )
    since: QueryText = Field(
        None,
        description="From this Korean day (YYYY-MM-DD) or ISO date-time, inclusive.",
        examples=["2026-12-01"],
    )
    until: QueryText = Field(
        None,
        description="Up to this Korean day (YYYY-MM-DD) or ISO date-time, inclusive.",
        examples=["2026-12-01"],
    )
    endpoint: QueryText = Field(None, description="Endpoint name, exactly (e.g. api.resident).")
    limit: query_int(100, 1, 1000) = Field(100, description="Page size.")
    offset: query_int(0, 0, 2**31 - 1) = Field(0, description="Rows to skip.")


class AnalystResidentsQuery(RunQuery):
    """A page of rows (JSON) or all of them (CSV)."""

    limit: query_int(1000, 1, 100_000) = Field(1000, description="Rows per page (JSON).")
    offset: query_int(0, 0, 10**9) = Field(0, description="First row (JSON).")
    format: Annotated[
        Literal["json", "csv"],
        PlainValidator(_choice("json", "csv", message="json or csv")),
        WithJsonSchema({"type": "string", "enum": ["json", "csv"]}),
    ] = Field("json", description="json (paged) or csv (all rows).")


class AnalystAggregatesQuery(RunQuery):
    """Whether to count per age band too."""

    by_age: Annotated[
        Literal["true", "false"],
        PlainValidator(_choice("true", "false", message="true or false")),
        WithJsonSchema({"type": "string", "enum": ["true", "false"]}),
    ] = Field("false", description="Also per age band.")


def _date(raw) -> str:
    if not raw:
        invalid("required: YYYY-MM-DD")
    return str(raw)


class RoutesQuery(Query):
    """The day's plan of a team; :mod:`webmap.teams_api` parses the date."""

    team: QueryText = Field(description="Team id.")
    date: _query_type(_date, {"type": "string", "format": "date"}, str) = Field(
        description="The day, YYYY-MM-DD."
    )


# --- JSON bodies ------------------------------------------------------------------------------

DongCode = Annotated[StrictStr, Field(pattern=DONG_CODE)]
Text = StrictStr | None


class Body(BaseModel):
    """A JSON object; fields not named are ignored (as they always were)."""

    model_config = ConfigDict(extra="ignore")


class TeamCreate(Body):
    """The base is a facility id (the dong community centre)."""

    team_id: StrictStr = Field(examples=["T-1141061500"])
    name: StrictStr
    base_facility_id: Text = None
    area_codes: list[DongCode] = Field(default_factory=list)


class MemberCreate(Body):
    """Member ids are unique across teams."""

    member_id: StrictStr
    name: StrictStr
    role: Text = None


class MemberUpdate(Body):
    """Whether the member is active (inactive members are not planned)."""

    active: StrictBool


class TeamAreas(Body):
    """Dong codes: added (POST) or the team's only ones (PUT)."""

    area_codes: list[DongCode]


class RoutePlanBody(Body):
    """The team, the day and the optional settings, stored with the plan.

    :mod:`routing.settings_input` checks the settings' values and their order. The plan records
    the signed-in account as its author (no field names it).
    """

    team_id: StrictStr
    date: StrictStr = Field(json_schema_extra={"format": "date"})
    time_limit_seconds: float | None = Field(None, ge=0.1, le=30)
    day_start: Text = Field(None, examples=["09:00"], pattern="^[0-2]?[0-9]:[0-5][0-9]$")
    day_end: Text = Field(None, examples=["18:00"], pattern="^[0-2]?[0-9]:[0-5][0-9]$")
    break_: Text = Field(
        None,
        alias="break",
        examples=["12:00-13:00"],
        description="HH:MM-HH:MM inside working hours; null or none: no break",
    )
    service_minutes: (
        dict[Literal["high", "medium", "low"], Annotated[int, Field(ge=1, le=MAX_SERVICE_MINUTES)]]
        | StrictStr
        | None
    ) = Field(None, description="Minutes per tier: {high: 40, ...} or 'high=40,medium=30'.")
    speed_kmh: float | None = Field(None, gt=0, le=MAX_SPEED_KMH)
    detour_factor: float | None = Field(None, ge=1, le=MAX_DETOUR)
    travel_mode: Literal["foot", "car"] | None = None
    seed: int | None = Field(None, ge=0)


class VisitBody(Body):
    """A visit: text fields are strings; a field not named here is refused.

    A misspelt ``resident_id`` is named rather than taken for a missing ``resident``.
    """

    model_config = ConfigDict(extra="forbid")

    resident: StrictStr = Field(description="Resident id")
    outcome: Literal[tuple(sorted(VISIT_OUTCOMES))]  # type: ignore[valid-type]
    idempotency_key: Text = Field(
        None,
        description="UUID; or the Idempotency-Key header",
        json_schema_extra={"format": "uuid"},
    )
    visited_at: Text = Field(
        None,
        description="ISO 8601; default now; without an offset: Korean time",
        json_schema_extra={"format": "date-time"},
    )
    notes: Text = None
    next_visit_on: Text = Field(None, json_schema_extra={"format": "date"})
    member: Text = Field(None, description="Team member id")
    visitor_name: Text = Field(None, description="When no member is chosen")
    needs: list[Literal[tuple(sorted(NEED_CATEGORIES))]] | None = None  # type: ignore[valid-type]
    plan: (
        Annotated[StrictInt, Field(ge=1, le=PLAN_ID_MAX)]
        | Annotated[StrictStr, Field(pattern="^[0-9]+$")]
        | None
    ) = Field(None, description="Route plan id")


class VisitHeaders(BaseModel):
    """The idempotency key may come as a header."""

    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        description="UUID; a retried request records no second visit.",
        json_schema_extra={"format": "uuid"},
    )
