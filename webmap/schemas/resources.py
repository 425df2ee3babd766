"""Request and response models of the resources API (GET /api/resources/suggestions)."""

from __future__ import annotations

from pydantic import Field

from webmap.schemas.requests import Query, QueryText
from webmap.schemas.responses import Out


class SuggestionsQuery(Query):
    """The open need to suggest for."""

    need: QueryText = Field(..., description="The need's public id.", examples=["N-000001"])


class SuggestedNeed(Out):
    """The need: its resident's public id, domain, status, date found and dong."""

    need_id: str
    resident_id: str
    category: str
    status: str
    identified_on: str
    area_code: str
    area_name: str


class SuggestedStock(Out):
    """A lot in stock at a centre that could meet the need."""

    centre_id: str
    centre_name: str
    same_dong: bool
    distance_m: int | None
    minor_category: str
    item: str
    unit: str
    expires_on: str | None
    quantity: float


class SuggestedAgency(Out):
    """An agency that gave the need's categories to residents of nearby dongs last year."""

    provider_id: str
    provider_name: str
    records: int
    residents: int
    nearest_m: int


class SuggestionsOut(Out):
    """What could meet an open need, nearest first (docs/resources.md)."""

    need: SuggestedNeed
    minor_categories: list[str]
    stock: list[SuggestedStock]
    agencies: list[SuggestedAgency]
