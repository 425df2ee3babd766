"""The map's colours, symbols and labels, defined once.

Python, templates and the page's script read them from here. Tier codes are integers inside
the code: 0 low, 1 medium, 2 high.

Readable without colour and for colour-blind viewers (issue 12): each tier has a shape as well
as a colour (high a triangle, medium a square, low a circle); the three colours stay apart for
deuteranopes (Machado et al. 2009, checked in ``tests/webmap/test_map_colours.py``); every
symbol has a dark outline, so it stands out at least 3:1 against the grey base map whatever
its fill (the medium orange alone is 1.7:1); text on a tier badge is white or near-black,
whichever reaches WCAG AA (4.5:1). The choropleth is purple, so the tier red does not drown in
it, and the heatmap runs from yellow to dark red-brown, not through the blue of the low tier.
"""

from __future__ import annotations

from visitmap.vocab import FACILITY_KINDS

#: tier code -> (name, colour). High dark red, medium orange (Okabe-Ito), low blue.
TIERS = {
    2: ("high", "#b2182b"),
    1: ("medium", "#e69f00"),
    0: ("low", "#2166ac"),
}
TIER_LABELS = {2: ("고위험", "High"), 1: ("중위험", "Medium"), 0: ("저위험", "Low")}
#: tier name -> the symbol's shape on the map and in the legend
TIER_SHAPES = {"high": "triangle", "medium": "square", "low": "circle"}
#: tier name -> the colour of text on that tier's badge (contrast >= 4.5:1)
TIER_TEXT = {"high": "#ffffff", "medium": "#111111", "low": "#ffffff"}
#: the outline of every resident symbol: its contrast with the base map, whatever the fill
SYMBOL_OUTLINE = "#1a1a1a"
#: the base map's grey (Leaflet's background with no base map; OpenStreetMap's land is lighter)
BASEMAP_GREY = "#dddddd"
#: the mark of a resident whose visit is overdue: a dark dot ringed white at the symbol's
#: upper right (not a ring around it, which hid the tier's shape)
OVERDUE_COLOUR = "#111111"
#: choropleth of high-tier residents per 1,000 residents scored (light to dark purple)
CHOROPLETH = ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"]
#: the heatmap's colour ramp (leaflet.heat's ``gradient``): yellow to dark red-brown
HEAT_GRADIENT = {0.25: "#ffffb2", 0.5: "#fecc5c", 0.7: "#fd8d3c", 0.85: "#e31a1c", 1.0: "#800026"}
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


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def linear_rgb(colour: str) -> tuple[float, float, float]:
    """Return the linear-light RGB (0 to 1) of a ``#rrggbb`` colour."""
    r, g, b = (_linear(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return r, g, b


def luminance(colour: str) -> float:
    """Return the WCAG relative luminance of a ``#rrggbb`` colour."""
    r, g, b = linear_rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """Return the WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def heat_stops() -> list[tuple[int, str]]:
    """Return the heatmap's ramp as (percent, colour), for the legend's gradient."""
    return [(round(stop * 100), colour) for stop, colour in sorted(HEAT_GRADIENT.items())]
