"""The support dashboard's API models (issue 13): query parameters and response bodies.

Kept apart from :mod:`webmap.schemas.requests` and :mod:`webmap.schemas.responses` so that
the shared support records' models stay one block of their own.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from webmap.schemas.requests import Query, QueryText, query_int
from webmap.schemas.responses import DateStr, DateTimeStr, Out

Level = Literal["red", "yellow", "blue"]


class WarningQuery(Query):
    """Filters of the warnings; every filter given must match."""

    area: QueryText = Field(None, description="Dong (10-digit 행정동 code).")
    level: QueryText = Field(None, description="red, yellow or blue.")
    kind: QueryText = Field(None, description="Warning kind, e.g. duplicate, open_need.")
    provider: QueryText = Field(None, description="Provider's external id, e.g. P-FOODBANK.")


class WarningListQuery(WarningQuery):
    """Filters and a page."""

    limit: query_int(50, 1, 500) = Field(50, description="Page size.")
    offset: query_int(0, 0, 2**31 - 1) = Field(0, description="Warnings to skip.")


class AreaCount(Out):
    """Red, yellow and blue counts of one dong."""

    code: str
    name: str
    red: int
    yellow: int
    blue: int


class ProviderCount(Out):
    """Red, yellow and blue counts of one provider (agency or centre)."""

    provider_id: str
    name: str
    kind: str | None
    red: int
    yellow: int
    blue: int


class Totals(Out):
    """Counts over all dongs listed."""

    red: int
    yellow: int
    blue: int


class SupportOverview(Out):
    """Counts per dong and per agency: red (warning), yellow (caution), blue (normal)."""

    areas: list[AreaCount]
    providers: list[ProviderCount]
    totals: Totals
    computed_at: DateTimeStr | None = Field(description="When the warnings were computed")
    blue_days: int = Field(description="Blue: supported in these many days, no warning")
    counted_on: DateStr


class CentreContact(Out):
    """Whom to ask at the resident's community centre."""

    provider_id: str
    name: str
    address: str | None


class FullRecord(Out):
    """A support record in full (own provider's, or for leaders)."""

    shape: Literal["full"]
    record_id: str
    resident_id: str
    provider_id: str
    provider: str
    major_category: str
    major_label: str
    minor_category: str
    minor_label: str
    item: str
    quantity: float | None
    unit: str | None
    amount_krw: int | None
    provided_on: DateStr
    recurring_period: str | None
    funding: str
    expires_on: DateStr | None
    need_id: str | None
    entered_by: str


class SharedRecord(Out):
    """Another provider's record of a resident who consented: provider, category, date."""

    shape: Literal["shared"]
    provider_id: str
    provider: str
    major_category: str
    major_label: str
    minor_category: str
    minor_label: str
    provided_on: DateStr


class ExistsRecord(Out):
    """Without consent: another record exists in this category within the window."""

    shape: Literal["exists"]
    major_category: str
    major_label: str
    minor_category: str
    minor_label: str
    near: DateStr = Field(description="The date of the caller's own record it is near")
    window_days: int
    ask: CentreContact | None


RecordView = FullRecord | SharedRecord | ExistsRecord


class WarningItem(Out):
    """One stored warning with its person and records (as the caller may see them)."""

    level: Level
    kind: str
    label: str
    label_en: str
    resident_id: str | None
    name: str | None
    area_code: str
    area_name: str
    providers: list[str] = Field(description="Providers involved that the caller may know")
    provider_ids: list[str]
    other_providers: int = Field(description="Other providers involved, not named (no consent)")
    minor_category: str | None
    since: DateStr | None
    need_id: str | None
    sponsorship_id: str | None
    detail: dict[str, Any]
    record_count: int
    records: list[RecordView]


class WarningPage(Out):
    """A page of warnings, red first."""

    warnings: list[WarningItem]
    total: int
    limit: int
    offset: int


class ResidentFlag(Out):
    """One warning of a resident, for the panel's flags."""

    level: Level
    kind: str
    label: str
    label_en: str
    minor_category: str | None
    since: DateStr | None
    detail: dict[str, Any]


class Consent(Out):
    """The resident's consent to sharing."""

    consented: bool
    decided_on: DateStr


class ResidentSupport(Out):
    """A resident's support records as the caller may see them, and their warnings."""

    resident_id: str
    consent: Consent | None
    warnings: list[ResidentFlag]
    records: list[RecordView]


class AreaLevel(Out):
    """One dong's warnings, for the map layer "지원 경고"."""

    red: int
    yellow: int
    level: Level


class AreaLevels(Out):
    """Per dong code: red and yellow counts and the colour."""

    areas: dict[str, AreaLevel]
