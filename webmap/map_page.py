"""The map page ``/``: a Leaflet map of dongs, facilities and residents.

Folium builds the Leaflet map (dong choropleth, facilities, heatmap); the page's script adds
the residents as vector tiles, the filters, the legend and the resident panel. The page
carries per-dong counts, facilities and heat cells, never individual residents: its size
does not grow with the number of residents.

Folium's part is made once per run, aggregates' state, scope, day and language and kept
(:mod:`webmap.page_cache`, issue 15); each request adds its own ``<head>`` tags and controls.

The page names the score run it shows (method, configuration, as-of date, published or
draft); who may look at other runs (:data:`webmap.access.RUN_VIEWERS`) picks one from a list,
which opens the page with ``?run=ID`` without publishing anything.

Length: the page's one view, its folium parts and the configuration its scripts read (the
layers added by issues 13 and 14 each bring a short config function) belong together; the
scripts' texts and URLs are easier to check in one place than spread over modules.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from types import SimpleNamespace

import folium
import numpy as np
from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import get_locale, gettext
from folium.plugins import HeatMap
from markupsafe import Markup
from shapely.geometry import shape

from geo.analyst_export import SUPPRESS_BELOW
from geo.mapdata.queries import MAP_SIMPLIFY_M, MapData, area_outlines, list_runs, map_data
from visitmap.vocab import CRISIS_SIGNAL_KINDS, FACILITY_KINDS
from webmap import style
from webmap.access import RUN_VIEWERS
from webmap.auth import can, current_account
from webmap.db import get_session
from webmap.page_cache import CONTROLS_MARK, HEAD_MARK, CachedPage, page_cache, page_state
from webmap.pages import aggregate_scope, suppress_small_counts
from webmap.params import parse_int, parse_run, today
from webmap.safe_html import TextTooltip

bp = Blueprint("map", __name__)

SEODAEMUN_CENTRE = (37.5791, 126.9368)
#: the page's scripts, in order: the tile decoder, then the page (residents drawn on canvas)
PAGE_SCRIPTS = ("mvt.js", "map.js", "support_layer.js", "blindspot_layer.js")  # issues 13, 14
#: how many recent runs the run picker lists
RUNS_LISTED = 30


def _local_assets(element, js=(), css=()) -> None:
    """Point a folium element at the vendored libraries instead of CDNs (works offline)."""
    element.default_js = [(name, url_for("static", filename=path)) for name, path in js]
    element.default_css = [(name, url_for("static", filename=path)) for name, path in css]


def _choropleth_bins(values: list[float]) -> list[float]:
    """Return the upper edges of the choropleth classes.

    0 (no high-tier resident), then the quartiles of the non-zero values: one edge per
    colour of ``style.CHOROPLETH``.
    """
    positive = [v for v in values if v and v > 0]
    quartiles = np.quantile(positive, [0.25, 0.5, 0.75, 1.0]) if positive else np.zeros(4)
    return [0.0] + [round(float(q), 2) for q in quartiles]


def _choropleth_colour(value: float | None, bins: list[float]) -> str:
    if not value:
        return style.CHOROPLETH[0]
    for colour, edge in zip(style.CHOROPLETH[1:], bins[1:], strict=True):
        if value <= edge:
            return colour
    return style.CHOROPLETH[-1]


@dataclass(frozen=True)
class MapParts:
    """The folium map and what the page around it needs from building it."""

    fmap: folium.Map
    layer_names: dict[str, str]  # toggle name -> folium's JavaScript variable
    areas: list[dict]  # area_summaries rows (with geometry)
    bins: list[float]  # choropleth class edges


def leaflet_map(location, *, zoom_start: int, basemap: dict, **options) -> folium.Map:
    """Make a folium map on the vendored Leaflet, with the configured base map if any.

    Leaflet is served by the app, so the map works offline.

    Parameters
    ----------
    location : tuple of (float, float)
        The map's centre, (latitude, longitude) in degrees.
    zoom_start : int
        The first zoom level.
    basemap : dict
        ``url`` (empty or missing: no base map) and ``attribution`` of the base map's tiles.
    **options
        Further keywords for :class:`folium.Map`.

    Returns
    -------
    folium.Map
    """
    fmap = folium.Map(
        location=location, zoom_start=zoom_start, tiles=None, control_scale=True, **options
    )
    _local_assets(
        fmap,
        js=[("leaflet", "vendor/leaflet/leaflet.js")],
        css=[("leaflet_css", "vendor/leaflet/leaflet.css")],
    )
    if basemap.get("url"):
        folium.TileLayer(
            tiles=basemap["url"], attr=basemap.get("attribution") or " ", name="basemap"
        ).add_to(fmap)
    return fmap


def build_map(data: MapData, *, locale: str, basemap: dict) -> MapParts:
    """Build the folium map with the server-side layers (choropleth, facilities, heatmap).

    Parameters
    ----------
    data : MapData
        What to draw (:func:`geo.mapdata.queries.map_data`), already scoped and, for an
        analyst, with small counts left out.
    locale : {"ko", "en"}
        The page's language.
    basemap : dict
        ``url`` and ``attribution`` of the base map's tiles.

    Returns
    -------
    MapParts
        The map, its layers' JavaScript names, the dongs drawn and the choropleth's edges.
    """
    areas = data.areas
    if areas:
        lats = [a["lat"] for a in areas]
        lons = [a["lon"] for a in areas]
        centre = (float(np.mean(lats)), float(np.mean(lons)))
    else:
        centre = SEODAEMUN_CENTRE
    fmap = leaflet_map(centre, zoom_start=13, basemap=basemap, prefer_canvas=False)
    if areas:
        # the dongs' outlines, not their label points: one dong alone (a dong official's, a
        # visitor's) has a single label point, and bounds of no size make Leaflet's view NaN
        bounds = np.array(
            [a.get("bounds") or shape(json.loads(a["geometry"])).bounds for a in areas]
        )
        west, south = bounds[:, 0].min(), bounds[:, 1].min()
        east, north = bounds[:, 2].max(), bounds[:, 3].max()
        fmap.fit_bounds([[float(south), float(west)], [float(north), float(east)]])

    bins = _choropleth_bins([a["high_per_1000"] or 0 for a in areas])
    per_1000 = gettext("High-tier residents per 1,000 scored")
    features = [
        {
            "type": "Feature",
            "geometry": a.get("geojson") or json.loads(a["geometry"]),
            "properties": {
                "code": a["code"],
                "fill": _choropleth_colour(a["high_per_1000"], bins),
                # dong names are public, but escape anyway: tooltips render HTML
                "label": html.escape(
                    f"{a['name']} · {per_1000}: "
                    f"{a['high_per_1000'] if a['high_per_1000'] is not None else '-'}"
                ),
            },
        }
        for a in areas
    ]
    choropleth = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="choropleth",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.35,
            "color": "#555",
            "weight": 1,
        },
        # (folium refuses a tooltip over no features: a caller with no dong in scope)
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False) if features else None,
    )
    choropleth.add_to(fmap)

    facilities = folium.FeatureGroup(name="facilities")
    rows = [SimpleNamespace(**facility) for facility in data.facilities]
    for row in rows:
        label = style.facility_label(row.kind, locale)
        folium.Marker(
            location=(row.lat, row.lon),
            icon=folium.DivIcon(
                html=(
                    f'<div class="facility facility-{html.escape(row.kind)}">'
                    f"{html.escape(style.FACILITY_SYMBOLS.get(row.kind, '·'))}</div>"
                ),
                icon_size=(22, 22),
                icon_anchor=(11, 11),
            ),
        ).add_child(TextTooltip(f"{row.name} ({label})")).add_to(facilities)
    facilities.add_to(fmap)

    heat = HeatMap(
        data.heat,
        name="heat",
        radius=18,
        blur=15,
        min_opacity=0.3,
        gradient={str(stop): colour for stop, colour in style.HEAT_GRADIENT.items()},
        show=False,
    )
    _local_assets(heat, js=[("leaflet-heat.js", "vendor/heat/leaflet-heat.js")])
    heat.add_to(fmap)
    layer_names = {
        "choropleth": choropleth.get_name(),
        "facilities": facilities.get_name(),
        "heat": heat.get_name(),
    }
    return MapParts(fmap, layer_names, areas, bins)


def _support_config() -> dict | None:
    """Return the support layer's URLs and texts, or None for a caller who may not read them."""
    if not can("support_dashboard.areas_api"):
        return None
    return {
        "areas": url_for("support_dashboard.areas_api"),
        "resident": url_for("support_dashboard.resident_support", resident_id="RID"),
        "page": url_for("support_dashboard.dashboard_page"),
        "texts": {
            "red": gettext("Warning (red)"),
            "yellow": gettext("Caution (yellow)"),
            "blue": gettext("Normal (blue)"),
            "flags": gettext("Support warnings"),
            "no_flags": gettext("No support warning"),
            "consent_yes": gettext("Consented to sharing on %(date)s"),
            "consent_no": gettext("No consent to sharing"),
            "warnings": gettext("warnings"),
            "open": gettext("Open the support overview"),
        },
    }


def _blindspots_config() -> dict | None:
    """Return the blind-spot layers' URLs and texts (issue 14); None if the caller may not."""
    if not can("blind_spots.people_api"):
        return None
    return {
        "hotspots": url_for("blind_spots.hotspots_api"),
        "people": url_for("blind_spots.people_api", limit=5000),
        "page": url_for("blind_spots.blind_spots_page"),
        "texts": {
            "hot": gettext("Hot spot"),
            "cold": gettext("Cold spot"),
            "residents": gettext("residents"),
        },
    }


def _js_texts() -> dict[str, str]:
    """Texts the page's script shows, in the request's language."""
    return {
        "score": gettext("Score"),
        "reasons": gettext("Top reasons"),
        "last_visit": gettext("Last visit"),
        "never_visited": gettext("Never visited"),
        "next_due": gettext("Next visit due"),
        "visit_state": gettext("Visit state"),
        "open_needs": gettext("Open needs"),
        "recent_support": gettext("Recent support"),
        "none": gettext("None"),
        "note": gettext("Note"),
        "area": gettext("Dong"),
        "loading": gettext("Loading…"),
        "error": gettext("Could not load this resident."),
        "record_visit": gettext("Record a visit"),
    }


def _run_state(row: dict) -> tuple[str, str]:
    """Return a run's state code and its words: the published run, published earlier, draft."""
    if row.get("is_current"):
        return "published", gettext("Published")
    if row.get("published_at"):
        return "earlier", gettext("Published earlier")
    return "draft", gettext("Draft (not published)")


def run_choices(
    session, run_id: int | None, *, published: int | None = -1
) -> tuple[dict | None, list[dict]]:
    """Return the run the page shows and the runs its caller may pick from.

    Parameters
    ----------
    session : Session
        The request's session.
    run_id : int or None
        The run shown.
    published : int or None, optional
        The published run when the caller has just read it (saves a query).

    Returns
    -------
    tuple of (dict or None, list of dict)
        The shown run (id, method, configuration version, as-of date, state and its words),
        None if there is none; and the newest runs for the run picker (empty for a role that
        may not look at other runs), each with the same keys and ``is_current``.
    """
    rows = list_runs(session, limit=RUNS_LISTED, published=published)
    if run_id is not None and all(row["id"] != run_id for row in rows):
        rows += [
            row
            for row in list_runs(session, limit=10**6, published=published)
            if row["id"] == run_id
        ]
    runs = []
    for row in rows:
        state, label = _run_state(row)
        runs.append(
            {
                "id": row["id"],
                "method": row["method"],
                "config_version": row["config_version"],
                "as_of": row["as_of"],
                "state": state,
                "state_label": label,
                "is_current": bool(row.get("is_current")),
            }
        )
    shown = next((r for r in runs if r["id"] == run_id), None)
    account = current_account()
    may_pick = account is not None and account.has(*RUN_VIEWERS)
    return shown, runs if may_pick else []


def _map_html(session, scope, *, run_id, suppress, locale, basemap, state) -> CachedPage:
    """Build and render the folium map with marks for a request's own parts (page_cache)."""
    cache = page_cache()
    outlines = cache.outlines(state) if cache.enabled else None
    if outlines is None and cache.enabled:
        outlines = area_outlines(session, simplify_m=MAP_SIMPLIFY_M)
        cache.keep_outlines(outlines, state)
    data = map_data(
        session,
        scope,
        run_id=run_id,
        today=today(),
        min_heat_residents=SUPPRESS_BELOW if suppress else 1,
        suppress_small=suppress,
        outlines=outlines,
    )
    parts = build_map(data, locale=locale, basemap=basemap)
    root = parts.fmap.get_root()
    root.header.add_child(folium.Element(HEAD_MARK))
    root.html.add_child(folium.Element(CONTROLS_MARK))  # kept verbatim (webmap.safe_html)
    return CachedPage(
        html=root.render().replace("<html>", f'<html lang="{locale}">', 1),
        map_name=parts.fmap.get_name(),
        layer_names=parts.layer_names,
        area_options=Markup(
            "".join(
                Markup('<option value="{}">{}</option>').format(a["code"], a["name"])
                for a in sorted(parts.areas, key=lambda a: a["name"])
            )
        ),
        bins=parts.bins,
    )


@bp.get("/")
def map_page():
    """Show the map of the latest score run.

    The page carries counts per dong in the caller's scope (every dong for an analyst, small
    counts hidden), facilities and heat cells; the residents come as vector tiles from
    ``/tiles``. Its map is made once per run, aggregates' state, scope, day and language and
    kept (:mod:`webmap.page_cache`); the controls, which name the caller, are made each time.
    """
    session = get_session()
    state = page_state(session)  # one query: the published run, tile changes, dongs, facilities
    published = state[0]
    run_id = parse_run(  # the published run, or ?run= (docs/publishing.md)
        session, parse_int("run", None, minimum=1, maximum=2**31 - 1), published=published
    )
    scope = aggregate_scope()  # the page carries counts per dong, never a resident
    locale = str(get_locale())
    basemap = {
        "url": current_app.config.get("BASEMAP_URL", ""),
        "attribution": current_app.config.get("BASEMAP_ATTRIBUTION", ""),
    }
    suppress = suppress_small_counts()
    cache = page_cache()
    cache.sync(state)
    key = (run_id, state, scope, suppress, today(), locale, tuple(basemap.values()),
           request.script_root)  # fmt: skip
    kept = cache.get(key) if cache.enabled else None
    if kept is None:
        kept = _map_html(
            session,
            scope,
            run_id=run_id,
            suppress=suppress,
            locale=locale,
            basemap=basemap,
            state=state,
        )
        cache.put(key, kept, state)
    config = {
        "map": kept.map_name,
        "layers": kept.layer_names,
        "locale": locale,
        "run_id": run_id,
        "tiles": url_for("tiles.resident_tile", z=0, x=0, y=0).replace("/0/0/0.pbf", ""),
        "api": url_for("api.resident", resident_id="RID").replace("/RID", ""),
        "visit_form": url_for("visits.new_visit"),
        "resident_zoom": 14,
        "tiers": style.tier_colours(),
        "tier_text": style.TIER_TEXT,
        "shapes": style.TIER_SHAPES,
        "outline": style.SYMBOL_OUTLINE,
        "overdue_colour": style.OVERDUE_COLOUR,
        "texts": _js_texts(),
        # issue 13, "dashboard": the support warnings layer and the panel's flags
        "support": _support_config(),
        # issue 14: hot spots and the blind-spot list
        "blindspots": _blindspots_config(),
    }
    tier_labels = {
        name: style.TIER_LABELS[code][0 if locale == "ko" else 1]
        for code, (name, _colour) in style.TIERS.items()
    }
    config["tier_labels"] = tier_labels
    run, runs = run_choices(session, run_id, published=published)
    signals = {k: v[0 if locale == "ko" else 1] for k, v in CRISIS_SIGNAL_KINDS.items()}
    controls = render_template(
        "map_controls.html",
        config=config,
        tiers=style.TIERS,
        tier_labels=tier_labels,
        area_options=kept.area_options,
        signals=signals,
        choropleth=list(zip(style.CHOROPLETH, kept.bins, strict=True)),
        facility_kinds={
            k: (style.FACILITY_SYMBOLS.get(k, "·"), v[0 if locale == "ko" else 1])
            for k, v in FACILITY_KINDS.items()
        },
        locale=locale,
        run_id=run_id,
        run=run,
        runs=runs,
        shapes=style.TIER_SHAPES,
        outline=style.SYMBOL_OUTLINE,
        heat=style.heat_stops(),
    )
    head = (
        f"<title>{html.escape(gettext('Welfare visit map'))}</title>"
        + render_template("_head.html")
        + f'<link rel="stylesheet" href="{url_for("static", filename="map.css")}">'
        + "".join(
            f'<script defer src="{url_for("static", filename=name)}"></script>'
            for name in PAGE_SCRIPTS
        )
    )
    return kept.page(head, controls)
