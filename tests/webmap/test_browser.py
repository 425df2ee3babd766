"""The map page in a real headless Chromium (Debian's ``chromium``, driven by Playwright)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.webmap.conftest import XSS_NAME, XSS_NOTE, chromium, login, served
from webmap import style

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def server(map_app):
    with served(map_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    login(page, server)
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def _xss_location(map_database):
    with Session(map_database["engine"]) as session:
        return session.execute(
            text("""SELECT ST_Y(h.geom), ST_X(h.geom) FROM residents r
                JOIN households h ON h.id = r.household_id WHERE r.external_id = :id"""),
            {"id": map_database["xss_id"]},
        ).one()


def _show(page, lat: float, lon: float, zoom: int) -> None:
    """Centre the map on (lat, lon) at ``zoom``. Leaflet ignores a setView while a zoom
    animation (the page's own fit) runs, so ask again until the map is there."""
    page.wait_for_function(
        f"""() => {{
            const m = visitmap.map, c = m.getCenter();
            if (m.getZoom() === {zoom} && Math.abs(c.lat - {lat}) < 1e-6
                && Math.abs(c.lng - {lon}) < 1e-6) return true;
            m.setView([{lat}, {lon}], {zoom}, {{animate: false}});
            return false;
        }}""",
        polling=250,
        timeout=30_000,
    )


#: where resident ``id`` is drawn, in page pixels (null until a loaded tile holds it)
POINT_OF = """(id) => {
    const layer = visitmap.residents(), p = layer && layer.pointOf(id);
    if (!p) return null;
    const box = visitmap.map.getContainer().getBoundingClientRect();
    return [box.x + p.x, box.y + p.y];
}"""

#: per tier, the canvas pixels at the centres of up to 20 of its residents that no other symbol
#: overlaps, as #rrggbb
CENTRE_PIXELS = """() => {
    const layer = visitmap.residents(), out = {low: [], medium: [], high: []};
    const names = ["low", "medium", "high"];
    for (const [key, tile] of layer._tiles_data) {
        const canvas = layer._tiles[key].el.querySelector("canvas");
        const ratio = canvas.width / (tile.size + 24), ctx = canvas.getContext("2d");
        for (let i = 0; i < tile.x.length; i++) {
            const list = out[names[tile.tier[i]]];
            if (list.length >= 20 || tile.x[i] < 0 || tile.y[i] < 0) continue;
            // only a centre that no symbol drawn later covers (a household's residents share a
            // spot; tiers are drawn low to high) nor an overdue mark (r = 5.5 at zoom 15)
            let alone = true;
            for (let j = 0; j < tile.x.length && alone; j++) {
                if (j === i) continue;
                const later = tile.tier[j] > tile.tier[i]
                    || (tile.tier[j] === tile.tier[i] && j > i);
                const near = Math.hypot(tile.x[j] - tile.x[i], tile.y[j] - tile.y[i]);
                const mark = Math.hypot(tile.x[j] + 4.95 - tile.x[i], tile.y[j] - 4.95 - tile.y[i]);
                alone = !(later && near < 24) && !(tile.overdue[j] && mark < 5);
            }
            if (!alone) continue;
            const px = ctx.getImageData(Math.round((tile.x[i] + 12) * ratio),
                Math.round((tile.y[i] + 12) * ratio), 1, 1).data;
            list.push("#" + [px[0], px[1], px[2]].map(v => v.toString(16).padStart(2, "0"))
                .join(""));
        }
    }
    return out;
}"""


def test_page_shows_legend_and_residents_in_their_tier_colour_and_shape(page, server, map_database):
    page.goto(server + "/")
    legend = page.locator("#legend")
    for code, (name, colour) in style.TIERS.items():
        symbol = legend.locator(f'li[data-tier="{name}"] .vm-symbol')
        assert symbol.get_attribute("data-colour") == colour
        assert symbol.get_attribute("data-shape") == style.TIER_SHAPES[name]
        assert (
            legend.locator(f'li[data-tier="{name}"]').inner_text().strip()
            == (style.TIER_LABELS[code][0])
        )
    # three different shapes, drawn in the legend as SVG of that shape
    assert len(set(style.TIER_SHAPES.values())) == 3
    assert legend.locator('li[data-tier="high"] svg path').count() == 1
    assert legend.locator('li[data-tier="medium"] svg rect').count() == 1
    assert legend.locator('li[data-tier="low"] svg circle').count() == 1
    lat, lon = _xss_location(map_database)
    _show(page, lat, lon, 15)
    page.wait_for_function(
        "() => { const l = visitmap.residents(); return l && l.stats().residents > 0"
        " && l.stats().pending === 0; }",
        timeout=30_000,
    )
    # the canvas holds each tier's colour at its residents' centres
    pixels = page.evaluate(CENTRE_PIXELS)
    for name, colour in style.tier_colours().items():
        assert pixels[name], f"no {name} resident drawn"
        matching = sum(1 for p in pixels[name] if p == colour)
        assert matching >= 0.6 * len(pixels[name]), (name, colour, pixels[name])
    # no resident is an SVG node any more
    assert page.locator(".leaflet-residents-pane svg, path.vm-resident").count() == 0
    assert page.errors == []


def test_clicking_a_resident_shows_reasons_and_free_text_as_text(
    page, server, map_client, map_database
):
    rid = map_database["xss_id"]
    expected = map_client.get(f"/api/residents/{rid}").get_json()
    page.goto(server + "/")
    lat, lon = _xss_location(map_database)
    _show(page, lat, lon, 17)
    page.wait_for_function(f"() => ({POINT_OF})({rid!r}) !== null", timeout=30_000)
    x, y = page.evaluate(POINT_OF, rid)
    page.mouse.click(x, y)  # a real click: the layer finds the symbol under it
    panel = page.locator("#resident-panel")
    panel.locator(".vm-reasons li").first.wait_for(timeout=10_000)
    assert panel.get_attribute("data-resident-id") == rid
    assert [li.inner_text() for li in panel.locator(".vm-reasons li").all()] == expected[
        "reasons_ko"
    ]
    text_shown = panel.inner_text()
    assert XSS_NAME in text_shown and XSS_NOTE in text_shown
    assert panel.locator("img").count() == 0 and panel.locator("script").count() == 0
    assert page.evaluate("typeof globalThis.x") == "undefined"
    assert page.dialogs == [] and page.errors == []


def test_english_switch(page, server):
    page.goto(server + "/?lang=en")
    assert page.locator("h1").text_content() == "Welfare visit map"
    assert page.locator('#legend li[data-tier="high"]').inner_text().strip() == "High"
    page.goto(server + "/")  # the choice is remembered
    assert page.locator("h1").text_content() == "Welfare visit map"
    assert page.locator("#vm-nav .vm-nav-brand").inner_text() == "Welfare visit map"
    page.goto(server + "/?lang=ko")
    assert page.locator("h1").text_content() == "복지방문지도"
