"""The support overview and the map's support layer in headless Chromium (issue 13, point 4):
the drill-down from a dong's red count to the person and their records, the map layer
"지원 경고" with its legend, and the flags in the resident panel."""

from __future__ import annotations

import pytest

from tests.webmap.conftest import chromium, login, served
from tests.webmap.test_support_dashboard_web import planted  # noqa: F401 - the fixture

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def server(map_app):
    with served(map_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def _page(browser, server, role="leader", viewport=None):
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    login(page, server, role)
    return context, page


def test_drill_down_from_a_dongs_red_count_to_the_records(browser, server, planted):  # noqa: F811
    context, page = _page(browser, server)
    try:
        page.goto(f"{server}/support")
        assert page.locator("#sd-totals .sd-red .sd-n").inner_text() == "1"
        row = page.locator(f'#sd-areas tr[data-area="{planted["dong"]}"]')
        row.locator('a.sd-count[data-level="red"]').click()
        page.wait_for_url(lambda url: "level=red" in url and planted["dong"] in url)
        items = page.locator("#sd-warnings li.sd-warning")
        assert items.count() == 1
        item = items.first
        assert item.get_attribute("data-resident") == planted["red"]
        records = item.locator("table.sd-records tr.sd-full")
        assert not records.first.is_visible()  # folded until opened
        item.locator("summary").click()
        records.first.wait_for(state="visible")
        assert records.count() == planted["records"]
        assert page.errors == []
    finally:
        context.close()


def test_agency_drill_down_hides_the_name(browser, server, planted):  # noqa: F811
    context, page = _page(browser, server, role="agency")
    try:
        page.goto(f"{server}/support?level=red")
        item = page.locator("#sd-warnings li.sd-warning").first
        assert item.get_attribute("data-resident") == planted["red"]
        assert page.locator('#sd-warnings li[data-kind="open_need"]').count() == 0
    finally:
        context.close()


def test_map_layer_colours_dongs_and_shows_its_legend(browser, server, planted):  # noqa: F811
    context, page = _page(browser, server)
    try:
        page.goto(f"{server}/")
        page.wait_for_function("() => window.visitmap && window.visitmap.map")
        legend = page.locator("#support-legend")
        assert legend.is_hidden()
        page.locator("#support-layer-toggle").check()
        legend.wait_for(state="visible")
        level = page.wait_for_function(
            f"""() => {{
                let found = null;
                visitmap.map.eachLayer((l) => {{
                    const p = l.feature && l.feature.properties;
                    if (p && p.support && p.code === {planted["dong"]!r}) found = p.support.level;
                }});
                return found;
            }}""",
            timeout=15_000,
        ).json_value()
        assert level == "red"
        page.locator("#support-layer-toggle").uncheck()
        assert legend.is_hidden()
        assert page.errors == []
    finally:
        context.close()


def test_panel_shows_the_residents_support_flags(browser, server, planted):  # noqa: F811
    context, page = _page(browser, server)
    try:
        page.goto(f"{server}/")
        page.wait_for_function("() => window.visitmap && window.visitmap.openPanel")
        page.evaluate("(rid) => visitmap.openPanel(rid)", planted["red"])
        flag = page.locator("#resident-panel #support-flags .vm-flag-red")
        flag.wait_for(timeout=15_000)
        assert flag.get_attribute("data-kind") == "duplicate"
        assert "중복 지원" in flag.inner_text()
        # another resident without warnings: the flags say so
        page.evaluate("(rid) => visitmap.openPanel(rid)", planted["other"])
        page.wait_for_function(
            """(rid) => document.getElementById('resident-panel').dataset.residentId === rid
                && document.querySelector('#support-flags .vm-flag-yellow')""",
            arg=planted["other"],
            timeout=15_000,
        )
        assert page.errors == []
    finally:
        context.close()
