"""The blind spots' API models (issue 14): hot spots, the list per dong and per person."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from webmap.schemas.requests import Query, QueryText, query_int
from webmap.schemas.responses import DateStr, Out


class HotspotQuery(Query):
    """Which grid."""

    unit: QueryText = Field(None, description="h3_9 (default) or dong.")


class HotspotCollection(Out):
    """Significant hot and cold units of the published run, as GeoJSON."""

    type: Literal["FeatureCollection"]
    run_id: int | None
    unit: str
    features: list[dict[str, Any]] = Field(
        description="Features: cell, area_code, residents, high, mean_score, z, q, cluster."
    )


class BlindSpotQuery(Query):
    """Filters of the list; every filter given must match."""

    area: QueryText = Field(None, description="Dong (10-digit 행정동 code).")
    reason: QueryText = Field(
        None, description="eligible_unreached, hotspot, far_from_help or no_contact."
    )
    tier: query_int(None, 0, 2) = Field(None, description="Tier code: 0 low, 1 medium, 2 high.")
    limit: query_int(500, 1, 5000) = Field(500, description="At most this many people.")


class BlindSpotArea(Out):
    """One dong's people on the list, in total and per reason."""

    code: str
    name: str
    people: int
    eligible_unreached: int
    hotspot: int
    far_from_help: int
    no_contact: int


class BlindSpotAreas(Out):
    """Per dong counts."""

    areas: list[BlindSpotArea]


class BlindSpotPerson(Out):
    """A person on the list with the reasons and their facts."""

    resident_id: str
    area_code: str
    area_name: str
    tier: int | None
    reasons: list[str]
    reason_texts: list[str] = Field(description="The reasons in the caller's language.")
    detail: dict[str, Any]
    computed_on: DateStr
    lat: float
    lon: float


class BlindSpotList(Out):
    """People on the list in the caller's scope."""

    people: list[BlindSpotPerson]
