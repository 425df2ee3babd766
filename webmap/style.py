"""The map's colours and labels, defined once.

Python, templates and the page's script read them from here. Tier codes are integers inside
the code: 0 low, 1 medium, 2 high.
"""

from __future__ import annotations

from visitmap.vocab import FACILITY_KINDS

#: tier code -> (name, colour). High red, medium orange, low blue (Seodaemun's convention).
TIERS = {
    2: ("high", "#d7191c"),
    1: ("medium", "#fd8d3c"),
    0: ("low", "#2b83ba"),
}
TIER_LABELS = {2: ("고위험", "High"), 1: ("중위험", "Medium"), 0: ("저위험", "Low")}
#: ring drawn around a resident whose visit is overdue
OVERDUE_COLOUR = "#111111"
#: choropleth of high-tier residents per 1,000 residents scored (light to dark red)
CHOROPLETH = ["#fff5f0", "#fcbba1", "#fb6a4a", "#cb181d", "#67000d"]
#: facility kind -> symbol drawn in its marker
FACILITY_SYMBOLS = {
    "community_centre": "주",
    "senior_centre": "경",
    "welfare_centre": "복",
    "health_centre": "보",
    "other": "·",
}


def tier_colours() -> dict[str, str]:
    """Tier name -> colour."""
    return {name: colour for name, colour in TIERS.values()}


def facility_label(kind: str, locale: str) -> str:
    """Return the label of a facility kind: Korean for locale ``ko``, else English."""
    ko, en = FACILITY_KINDS[kind]
    return ko if locale == "ko" else en
