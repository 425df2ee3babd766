"""The eligibility pre-screening's API models (issue 14): query parameters and bodies."""

from __future__ import annotations

from pydantic import Field

from webmap.schemas.requests import Query, QueryText, query_int
from webmap.schemas.responses import DateStr, Out


class EligibilityQuery(Query):
    """Filters of the people likely eligible and not receiving."""

    area: QueryText = Field(None, description="Dong (10-digit 행정동 code).")
    programme: QueryText = Field(None, description="Programme code, e.g. basic_pension.")
    limit: query_int(200, 1, 2000) = Field(200, description="At most this many rows.")


class ProgrammeCount(Out):
    """One dong's households for one programme."""

    area_code: str
    area_name: str
    programme: str
    programme_name: str
    eligible: int = Field(description="Households likely eligible.")
    receiving: int = Field(description="Households receiving it.")
    unreached: int = Field(description="Households likely eligible and not receiving.")


class EligibilitySummary(Out):
    """Counts per dong and programme, from the stored screening."""

    catalogue_version: str
    areas: list[ProgrammeCount]


class UnreachedPerson(Out):
    """A household likely eligible for a programme it does not receive, by its reference person."""

    resident_id: str
    area_code: str
    area_name: str
    household_size: int
    programme: str
    programme_name: str
    reason: str = Field(description="The rule that decided it, in the caller's language.")
    screened_on: DateStr


class UnreachedList(Out):
    """People likely eligible and not receiving."""

    people: list[UnreachedPerson]


class ProgrammeResult(Out):
    """One programme for one household, eligible or not, with the deciding rule."""

    programme: str
    programme_name: str
    likely_eligible: bool
    receiving: bool
    rule: str = Field(
        description="within_line, income_line, asset_limit, requirement, excluded_by."
    )
    reason: str
    reason_ko: str
    reason_en: str


class ResidentEligibility(Out):
    """A resident's household screened now against every programme."""

    resident_id: str
    catalogue_version: str
    screened_on: DateStr
    programmes: list[ProgrammeResult]
