"""Every page, signed in through the login form, in headless Chromium: the Content-Security-
Policy lets the pages' own scripts run and blocks nothing they need; no script error."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.webmap.conftest import AS_OF, TEST_ACCOUNTS, chromium, login, served

pytestmark = pytest.mark.db

WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture(scope="module")
def server(map_app):
    with served(map_app) as url:
        yield url


def _pages(map_database) -> list[str]:
    with Session(map_database["engine"]) as session:
        team = session.execute(
            text("SELECT external_id FROM visit_teams ORDER BY id LIMIT 1")
        ).scalar_one()
    rid = map_database["xss_id"]
    return [
        "/",
        "/?lang=en",
        "/overview",
        f"/routes?team={team}&date={AS_OF.isoformat()}",
        f"/visits/new?resident={rid}",
        "/visits/V-XSS",
        "/unreachable",
    ]


@pytest.mark.parametrize("viewport", [(1280, 860), (390, 844)])
def test_pages_run_under_the_csp_with_no_violation_or_error(server, map_database, viewport):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        context.add_init_script(WATCH_CSP)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server}/login")
        assert page.evaluate("window.__csp") == []
        login(page, server)
        for path in _pages(map_database):
            page.goto(server + path)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__csp") == [], path
            if path.startswith("/?") or path == "/":
                page.wait_for_function("window.visitmap !== undefined", timeout=15_000)
                assert page.locator(".leaflet-container").count() == 1
        assert errors == []
        # the header names the user and signs out
        assert page.locator("#account").inner_text() == TEST_ACCOUNTS["leader"][0]
        page.click("#logout")
        page.wait_for_url(lambda url: "/login" in url)
        page.goto(server + "/")
        assert "/login" in page.url
        context.close()


def test_an_injected_inline_script_is_blocked(server, map_database):
    """The policy can fail: a script without the response's nonce does not run."""
    with chromium() as browser:
        context = browser.new_context()
        context.add_init_script(WATCH_CSP)
        page = context.new_page()
        login(page, server)
        page.goto(server + "/overview")
        page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }""")
        assert page.evaluate("window.__ran") is None
        assert any("script-src" in v for v in page.evaluate("window.__csp"))
        context.close()
