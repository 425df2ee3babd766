"""Requests and answers of the support-record API.

POST /api/support-records, POST /api/needs, PUT /api/residents/<id>/consent and
GET /api/support/lookup.

The bodies check types and shape; the rules that need the database (the resident, the
provider, the need, the stock) are in :mod:`geo.support_records`. Rules:
docs/support_records.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from visitmap.vocab import NEED_CATEGORIES, SUPPORT_FUNDING, SUPPORT_MINOR, SUPPORT_PERIODS
from webmap.schemas.requests import Query, QueryText, query_int
from webmap.schemas.responses import DateStr, DateTimeStr, Out

Text = StrictStr | None
Minor = Literal[tuple(sorted(SUPPORT_MINOR))]  # type: ignore[valid-type]
Major = Literal[tuple(sorted({m[0] for m in SUPPORT_MINOR.values()}))]  # type: ignore[valid-type]
Domain = Literal[tuple(sorted(NEED_CATEGORIES))]  # type: ignore[valid-type]
Funding = Literal[tuple(sorted(SUPPORT_FUNDING))]  # type: ignore[valid-type]
Period = Literal[tuple(sorted(SUPPORT_PERIODS))]  # type: ignore[valid-type]
RecordId = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")]


class SupportBody(BaseModel):
    """One support record; a field not named here is refused."""

    model_config = ConfigDict(extra="forbid")

    resident: StrictStr = Field(description="Resident id")
    minor_category: Minor = Field(description="Minor category (docs/support_taxonomy.md)")
    item: StrictStr = Field(description="What was given")
    funding: Funding
    record_id: RecordId | None = Field(
        None, description="The record's id; or the Idempotency-Key header; default: made"
    )
    provided_on: Text = Field(
        None, description="Default today", json_schema_extra={"format": "date"}
    )
    quantity: StrictFloat | StrictInt | None = Field(None, gt=0)
    unit: Text = None
    amount_krw: StrictInt | None = Field(None, ge=0)
    recurring_period: Period | None = None
    expires_on: Text = Field(None, json_schema_extra={"format": "date"})
    need: Text = Field(None, description="Need id this support meets")
    need_met: StrictBool | None = Field(None, description="The need is met (default: in progress)")
    provider: Text = Field(None, description="Provider id (default: your organisation)")
    from_stock: StrictBool | None = Field(
        None, description="Given from the community centre's stock: writes its issue"
    )


class NeedBody(BaseModel):
    """One need; a field not named here is refused."""

    model_config = ConfigDict(extra="forbid")

    resident: StrictStr = Field(description="Resident id")
    category: Domain = Field(description="Need domain")
    need_id: RecordId | None = Field(None, description="The need's id; default: made")
    identified_on: Text = Field(
        None, description="Default today", json_schema_extra={"format": "date"}
    )
    status: Literal["open", "in_progress"] | None = None


class ConsentBody(BaseModel):
    """A resident's consent to sharing support records between agencies."""

    model_config = ConfigDict(extra="forbid")

    consented: StrictBool
    decided_on: Text = Field(
        None,
        description="The day the resident decided; default today",
        json_schema_extra={"format": "date"},
    )


class SupportHeaders(BaseModel):
    """The record id may come as an idempotency key."""

    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        description="The record's id: a retried request records nothing new.",
    )


class LookupQuery(Query):
    """Exact name and birth year."""

    name: QueryText = Field(description="The resident's full name, exactly.")
    birth_year: query_int(None, 1900, 2100) = Field(description="Year of birth.")


class SupportRecordOut(Out):
    """A recorded support record."""

    record_id: str
    resident_id: str
    provider_id: str
    provider_name: str
    major_category: Major
    minor_category: Minor
    category: Domain
    item: str
    quantity: float | None
    unit: str | None
    amount_krw: int | None
    provided_on: DateStr
    recurring_period: Period | None
    funding: Funding
    expires_on: DateStr | None
    need_id: str | None
    need_status: str | None
    from_stock: bool
    entered_by: str
    entered_at: DateTimeStr
    replayed: bool


class NeedSummary(Out):
    """A recorded need."""

    need_id: str
    resident_id: str
    category: Domain
    status: str
    identified_on: DateStr
    resolved_on: DateStr | None
    source: str | None
    entered_by: str
    entered_at: DateTimeStr
    replayed: bool


class ConsentEventOut(Out):
    """One change of consent."""

    consented: bool
    decided_on: DateStr
    recorded_by: str
    recorded_at: DateTimeStr
    source: str


class ConsentState(Out):
    """A resident's consent now, and its log (newest first)."""

    resident_id: str
    consented: bool | None
    decided_on: DateStr | None
    recorded_by: str | None
    changed: bool
    events: list[ConsentEventOut]


class LookupRow(Out):
    """A resident found by name and birth year; the name masked unless in your scope."""

    resident_id: str
    name: str | None
    masked: bool
    birth_year: int
    area_code: str
    area_name: str


class LookupAnswer(Out):
    """The residents found (at most 20)."""

    residents: list[LookupRow]
