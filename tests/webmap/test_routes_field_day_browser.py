"""Issue 12, the field day in headless Chromium: a phone shows the visitor only their own stops
in order; on paper each visitor gets a page with their map first, and no dropped list; the
visit form marks the wrong fields next to them."""

from __future__ import annotations

import pytest

from tests.webmap.conftest import AS_OF, chromium, login, served
from tests.webmap.test_routes_field_day import drop_plan, make_field_plan

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def server(map_app):
    with served(map_app) as url:
        yield url


@pytest.fixture(scope="module")
def field_plan(map_app, map_database):
    """This module's own plan of the visitor's team, one stop visited."""
    made = make_field_plan(map_app, map_database)
    yield made
    drop_plan(map_database, made["plan"]["plan_id"])


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


def _page(browser, server, role, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    login(page, server, role)
    return context, page


def test_a_phone_shows_the_visitor_only_their_own_stops_in_order(browser, server, field_plan):
    route = field_plan["route"]
    context, phone = _page(browser, server, "visitor", 390, 844)
    try:
        phone.goto(f"{server}/routes/today?date={AS_OF.isoformat()}&lang=ko")
        assert phone.locator("h1").inner_text().startswith("오늘 내 방문")
        with phone.expect_navigation():
            phone.locator(f'button[name="member"][value="{route["member_id"]}"]').click()
        phone.goto(f"{server}/routes/today?date={AS_OF.isoformat()}")  # remembered
        items = phone.locator("li.stop")
        shown = [items.nth(i).get_attribute("data-resident") for i in range(items.count())]
        assert shown == [s["resident_id"] for s in route["stops"]]
        orders = [int(n) for n in phone.locator("li.stop .num").all_inner_texts()]
        assert orders == list(range(1, len(orders) + 1))
        # the visited stop says so, in words; progress on top
        assert phone.locator("li.stop").first.get_attribute("data-state") == "visited"
        assert "오늘 방문함" in phone.locator("li.stop .state").first.inner_text()
        assert (
            phone.locator("#my-progress")
            .inner_text()
            .startswith(f"{len(route['stops'])}곳 중 1곳 완료")
        )
        # phone sized: no sideways scrolling, the first stop on the first screen, 44 px links
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        assert phone.locator("li.stop").first.bounding_box()["y"] < 844
        link = phone.locator("li.stop a.visit-link").first
        assert link.bounding_box()["height"] >= 44
        assert "from=today" in link.get_attribute("href")
        assert phone.errors == []
    finally:
        context.close()


def test_the_route_page_on_a_phone_shows_the_stops_before_the_settings(browser, server, field_plan):
    context, phone = _page(browser, server, "leader", 390, 844)
    try:
        phone.goto(f"{server}/routes?team={field_plan['team']}&date={AS_OF.isoformat()}")
        first_stop = phone.locator("li.stop").first.bounding_box()["y"]
        settings = phone.locator("#plan-settings")
        assert settings.bounding_box()["y"] > first_stop
        assert settings.get_attribute("open") is None  # collapsed
        assert not phone.locator(".plan-form").first.is_visible()
        settings.locator(":scope > summary").click()
        assert phone.locator(".plan-form").first.is_visible()
    finally:
        context.close()


def test_on_paper_each_visitor_gets_a_page_map_first_and_no_dropped_list(
    browser,
    server,
    field_plan,
):
    context, page = _page(browser, server, "leader", 718, 1047)
    try:
        page.emulate_media(media="print")
        page.goto(f"{server}/routes?team={field_plan['team']}&date={AS_OF.isoformat()}")
        page.wait_for_selector(".visitor-map .print-stop")
        assert page.locator("#dropped").is_hidden()
        assert page.locator(".folium-map").bounding_box()["x"] < -1000  # the team map: not on paper
        assert page.locator("#plan-settings").is_hidden()
        sections = [s for s in page.locator("section.route").all() if s.locator("li.stop").count()]
        assert len(sections) >= 2
        for index, section in enumerate(sections):
            brk = section.evaluate("e => getComputedStyle(e).breakBefore")
            assert brk == ("auto" if index == 0 else "page")
            shown_map = section.locator(".visitor-map")
            assert shown_map.is_visible()
            assert (
                shown_map.bounding_box()["y"] < section.locator("li.stop").first.bounding_box()["y"]
            )
            stops = section.locator("li.stop").count()
            assert shown_map.locator(".print-stop").count() == stops
            _every_stop_inside_its_map(shown_map)
        assert page.errors == []
        # ?print=1 (the page's own print view, on screen): the maps sit in the page, with
        # every numbered stop inside its map, not cut off at its edge
        page.emulate_media(media="screen")
        page.goto(f"{server}/routes?team={field_plan['team']}&date={AS_OF.isoformat()}&print=1")
        page.wait_for_selector(".visitor-map .print-stop")
        for shown_map in page.locator(".visitor-map").all():
            assert shown_map.bounding_box()["x"] >= 0
            _every_stop_inside_its_map(shown_map)
    finally:
        context.close()


def _every_stop_inside_its_map(shown_map) -> None:
    box = shown_map.bounding_box()
    for stop in shown_map.locator(".print-stop").all():
        mark = stop.bounding_box()
        centre = (mark["x"] + mark["width"] / 2, mark["y"] + mark["height"] / 2)
        assert box["x"] <= centre[0] <= box["x"] + box["width"], (box, mark)
        assert box["y"] <= centre[1] <= box["y"] + box["height"], (box, mark)


@pytest.mark.parametrize(
    ("lang", "words"),
    [("ko", "미래일 수 없습니다"), ("en", "not in the future")],
)
def test_the_visit_form_marks_the_wrong_fields_next_to_them(
    browser, server, field_plan, lang, words
):
    stop, plan_id = field_plan["route"]["stops"][-1], field_plan["plan"]["plan_id"]
    context, tablet = _page(browser, server, "leader", 800, 1200)
    try:
        tablet.goto(
            f"{server}/visits/new?resident={stop['resident_id']}&plan={plan_id}&lang={lang}"
        )
        tablet.evaluate(
            "document.querySelectorAll('[required],[max]')"
            ".forEach(e => { e.removeAttribute('required'); e.removeAttribute('max'); })"
        )
        tablet.fill('input[name="visited_at"]', "2099-01-01T10:00")
        with tablet.expect_navigation():
            tablet.click("#submit")
        when = tablet.locator('input[name="visited_at"]')
        assert when.get_attribute("aria-invalid") == "true"
        message = tablet.locator("#error-visited_at")
        assert when.get_attribute("aria-describedby") == "error-visited_at"
        assert words in message.inner_text()
        # next to the field: in its label, right below it
        assert message.evaluate("e => e.closest('label').id") == "field-visited_at"
        field_box, message_box = when.bounding_box(), message.bounding_box()
        assert 0 <= message_box["y"] - (field_box["y"] + field_box["height"]) < 40
        # the outcome was not chosen: its radios are marked and its message is in its fieldset
        assert tablet.locator('input[name="outcome"]').first.get_attribute("aria-invalid") == "true"
        assert tablet.locator("#field-outcome #error-outcome").is_visible()
        # fields that are right are not marked
        assert tablet.locator('textarea[name="notes"]').get_attribute("aria-invalid") is None
        assert tablet.locator("#back-to-route").get_attribute("href").startswith("/routes?team=")
    finally:
        context.close()
