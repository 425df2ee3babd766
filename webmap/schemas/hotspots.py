"""The risk hot spots' API models (issue 14, helper H): query and GeoJSON response."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from webmap.schemas.requests import Query, QueryText
from webmap.schemas.responses import Out


class HotspotQuery(Query):
    """Which units."""

    unit: QueryText = Field("h3_9", description="h3_9 (H3 resolution-9 cells) or dong.")


class HotspotProperties(Out):
    """One unit's statistics."""

    cell: str
    area_code: str
    cluster: Literal["hot", "cold", "none"]
    residents: int | None = Field(description="Residents scored (null: 1-4 hidden for analysts).")
    high: int | None = Field(description="Residents in the high tier (null: hidden, as above).")
    value: float = Field(description="Share of residents in the high tier.")
    z: float | None = Field(description="Gi* z-score (null: unit not analysed).")
    p_sim: float | None = Field(description="Permutation p-value.")
    q_value: float | None = Field(description="Benjamini-Hochberg q-value (FDR).")


class HotspotFeature(Out):
    """A GeoJSON feature: the unit's outline."""

    type: Literal["Feature"]
    geometry: dict[str, Any]
    properties: HotspotProperties


class HotspotCollection(Out):
    """A GeoJSON FeatureCollection of the published run's units in the caller's scope."""

    type: Literal["FeatureCollection"]
    run_id: int
    unit: str
    computed_at: str | None
    features: list[HotspotFeature]
