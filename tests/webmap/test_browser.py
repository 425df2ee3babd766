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


def test_page_shows_legend_and_residents_in_their_tier_colour(page, server, map_database):
    page.goto(server + "/")
    legend = page.locator("#legend")
    for code, (name, colour) in style.TIERS.items():
        swatch = legend.locator(f'li[data-tier="{name}"] .vm-dot')
        assert swatch.get_attribute("data-colour") == colour
        assert (
            legend.locator(f'li[data-tier="{name}"]').inner_text().strip()
            == (style.TIER_LABELS[code][0])
        )
    lat, lon = _xss_location(map_database)
    _show(page, lat, lon, 15)
    page.wait_for_selector("path.vm-resident", timeout=15_000)
    for name, colour in style.tier_colours().items():
        fills = page.eval_on_selector_all(
            f"path.vm-resident.vm-tier-{name}", "paths => paths.map(p => p.getAttribute('fill'))"
        )
        assert fills, f"no {name} resident drawn"
        assert set(fills) == {colour}
    assert page.errors == []


def test_clicking_a_resident_shows_reasons_and_free_text_as_text(
    page, server, map_client, map_database
):
    rid = map_database["xss_id"]
    expected = map_client.get(f"/api/residents/{rid}").get_json()
    page.goto(server + "/")
    lat, lon = _xss_location(map_database)
    _show(page, lat, lon, 17)
    page.wait_for_selector(f"path.vm-rid-{rid}", state="attached", timeout=30_000)
    # the symbol in the tile that holds the point (a neighbour's buffer may draw it too),
    # once the map has settled at the point: until then no symbol is at the centre
    centred = f"""() => [...document.querySelectorAll('path.vm-rid-{rid}')].find(p => {{
            const box = p.getBoundingClientRect(), map = visitmap.map.getContainer()
                .getBoundingClientRect();
            return box.width > 0 && Math.abs(box.x + box.width / 2 - map.x - map.width / 2) < 30
                && Math.abs(box.y + box.height / 2 - map.y - map.height / 2) < 30;
        }})"""
    page.wait_for_function(f"() => ({centred})() !== undefined", timeout=30_000)
    page.evaluate(f"({centred})().dispatchEvent(new MouseEvent('click', {{bubbles: true}}))")
    panel = page.locator("#resident-panel")
    panel.locator(".vm-reasons li").first.wait_for(timeout=10_000)
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
    assert page.locator("h1").inner_text() == "Welfare visit map"
    assert page.locator('#legend li[data-tier="high"]').inner_text().strip() == "High"
    page.goto(server + "/")  # the choice is remembered
    assert page.locator("h1").inner_text() == "Welfare visit map"
    page.goto(server + "/?lang=ko")
    assert page.locator("h1").inner_text() == "복지방문지도"
