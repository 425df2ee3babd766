"""The route page in a real headless Chromium at a phone's viewport."""

from __future__ import annotations

import pytest

from tests.webmap.conftest import AS_OF, XSS_NOTE, chromium, login, served

pytestmark = pytest.mark.db

TEAM = "T-phone"


@pytest.fixture(scope="module")
def team(map_app) -> str:
    """A team for 연희동 whose second member is named XSS_NOTE (through the API)."""
    with map_app.test_client() as client:
        created = client.post(
            "/api/teams",
            json={"team_id": TEAM, "name": "전화 팀", "base_facility_id": "CC-1141061500",
                  "area_codes": ["1141061500"]},
        )  # fmt: skip
        assert created.status_code == 201, created.json
        for member_id, name in (("P-1", "김이음"), ("P-2", XSS_NOTE), ("P-3", "박나눔")):
            added = client.post(
                f"/api/teams/{TEAM}/members", json={"member_id": member_id, "name": name}
            )
            assert added.status_code == 201, added.json
    return TEAM


@pytest.fixture(scope="module")
def server(map_app):
    with served(map_app) as url:
        yield url


@pytest.fixture(scope="module")
def phone(map_app, server):
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        login(page, server)
        page.errors, page.dialogs, page.outside = [], [], []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.on(
            "request",
            lambda req: (
                None if req.url.startswith("http://127.0.0.1") else page.outside.append(req.url)
            ),
        )
        yield page
        context.close()


def test_route_page_on_a_phone_plans_then_shows_numbered_stops_and_the_list(phone, server, team):
    phone.goto(f"{server}/routes?team={team}&date={AS_OF.isoformat()}&lang=en")
    if phone.locator("#plan-button").count():
        with phone.expect_navigation():
            phone.locator("#plan-button").click()
    phone.wait_for_selector(".route-stop")
    markers = phone.locator(".route-stop")
    items = phone.locator("li.stop")
    assert markers.count() == items.count() > 0
    # every visitor's stops are numbered 1..n on the map and in the list
    for section in phone.locator("section.route").all():
        visitor = section.get_attribute("data-visitor")
        listed = [int(n) for n in section.locator("li.stop .num").all_inner_texts()]
        drawn = sorted(
            int(n)
            for n in phone.locator(f'.route-stop[data-visitor="{visitor}"]').all_inner_texts()
        )
        assert listed == list(range(1, len(listed) + 1)) == drawn
    # one line per visitor with stops
    visitors_with_stops = sum(
        1 for s in phone.locator("section.route").all() if s.locator("li.stop").count()
    )
    assert phone.locator(".folium-map path.leaflet-interactive").count() == visitors_with_stops
    # phone layout: the map on top, full width, the list below it
    box = phone.locator(".folium-map").bounding_box()
    first = items.first.bounding_box()
    assert box["width"] == pytest.approx(390, abs=1) and first["y"] >= box["y"] + box["height"]
    assert items.first.locator("time").inner_text() >= "09:00"
    link = items.first.locator("a.visit-link").get_attribute("href")
    assert link.startswith("/visits/new?resident=R-") and "&plan=" in link
    # the member named XSS_NOTE is shown as text, and nothing of it ran
    assert XSS_NOTE in phone.locator("section.route h2").all_inner_texts()
    for line in phone.locator(".folium-map path.leaflet-interactive").all():
        line.hover(force=True)
    phone.locator(".route-stop").first.hover(force=True)
    assert phone.errors == [] and phone.dialogs == [] and phone.outside == []
    assert phone.evaluate("typeof globalThis.x") == "undefined"
    assert phone.locator("b", has_text="굵게").count() == 0
