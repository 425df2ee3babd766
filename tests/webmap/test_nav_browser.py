"""What the header navigation, the error pages and the favicon look like in headless Chromium
(issue 12): the same links on every page for a role, a phone header that neither overflows nor
breaks a Korean word, a visible keyboard focus, and error pages in Korean and English."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.webmap.conftest import AS_OF, chromium, login, served
from webmap import create_app

pytestmark = pytest.mark.db

PHONE = {"width": 390, "height": 844}

#: the header's page links, as (href, text)
NAV_LINKS = """() => {
  const nav = document.querySelector('#vm-nav');
  return nav && [...nav.querySelectorAll('.vm-nav-links a')].map(
      a => [a.getAttribute('href'), a.textContent.trim()]);
}"""

#: the Korean words under ``root`` (a selector) that are split over two lines
BROKEN_WORDS = """(selector) => {
  const broken = [];
  const range = document.createRange();
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.textContent.matchAll(/\\S+/g)) {
        if (!/[\\uac00-\\ud7a3]/.test(m[0])) continue;
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = [...range.getClientRects()].filter(r => r.width > 0);
        if (new Set(rects.map(r => Math.round(r.bottom))).size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""

#: the header's links and buttons whose text takes more than one line
WRAPPED_CONTROLS = """() => [...document.querySelectorAll('#vm-nav a, #vm-nav button')]
.filter(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const rects = [...range.getClientRects()].filter(r => r.width > 0);
  return new Set(rects.map(r => Math.round(r.bottom))).size > 1;
}).map(el => el.textContent.trim())"""

#: how far the page and the header reach past the viewport's right edge
OVERFLOW = """() => ({
  page: document.documentElement.scrollWidth - window.innerWidth,
  header: Math.max(0, ...[...document.querySelectorAll('#vm-nav, #vm-nav *')].map(
      el => el.getBoundingClientRect().right)) - window.innerWidth,
})"""


@pytest.fixture(scope="module")
def server(map_app):
    with served(map_app) as url:
        yield url


@pytest.fixture(scope="module")
def team(map_database) -> str:
    with Session(map_database["engine"]) as session:
        return session.execute(
            text("SELECT external_id FROM visit_teams ORDER BY id LIMIT 1")
        ).scalar_one()


def _every_page(team: str) -> list[str]:
    return ["/", "/overview", f"/routes?team={team}&date={AS_OF.isoformat()}", "/audit",
            "/unreachable"]  # fmt: skip


#: the pages of every helper; those of routes and mapui carry the header after the merge
EVERY_PAGE = ["/", "/overview", "/routes", "/audit", "/unreachable"]


@pytest.mark.parametrize("path", EVERY_PAGE)
def test_every_page_has_the_same_header_links_for_a_role(server, team, path):
    """For each role, the page shows the header links that /overview shows (a page the role
    may not open shows them on its 403 page)."""
    if path == "/routes":
        path = _every_page(team)[2]
    differences = {}
    with chromium() as browser:
        for role in ("leader", "visitor", "analyst", "admin"):
            context = browser.new_context()
            page = context.new_page()
            login(page, server, role)
            page.goto(f"{server}/overview?lang=ko")
            expected = page.evaluate(NAV_LINKS)
            assert expected and expected[0] == ["/", "지도"]
            page.goto(server + path, wait_until="domcontentloaded")
            shown = page.evaluate(NAV_LINKS)
            if shown != expected:
                differences[role] = shown
            context.close()
    assert differences == {}, path


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_the_phone_header_fits_and_breaks_no_word(server, team, locale):
    """At 390 x 844 the header and the pages of this helper do not overflow sideways, no
    header link wraps inside, and no Korean word is split over two lines."""
    problems = {}
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        page.goto(f"{server}/login?lang={locale}")
        page.goto(f"{server}/no-such-page?lang={locale}")
        for label in ("login", "404"):
            _check_phone(page, label, "#vm-nav, main", problems)
            page.goto(f"{server}/login?lang={locale}")
        login(page, server)
        for path in ("/overview", "/audit", "/no-such-page"):
            page.goto(f"{server}{path}?lang={locale}")
            _check_phone(page, path, "#vm-nav, main", problems)
        # the header of every page (the others' pages: after the merge)
        for path in _every_page(team):
            page.goto(server + path, wait_until="domcontentloaded")
            if page.locator("#vm-nav").count():
                _check_phone(page, path, "#vm-nav", problems, whole_page=False)
        # the checks can fail: without keep-all and nowrap, words and links break
        page.goto(f"{server}/no-such-page?lang=ko")
        page.add_style_tag(
            content="#vm-nav, #vm-nav *, main, main * { word-break: normal !important; "
            "white-space: normal !important; } #vm-nav a { width: 2.2em; }"
            " main { width: 7em; }"
        )
        assert page.evaluate(BROKEN_WORDS, "main") and page.evaluate(WRAPPED_CONTROLS)
        context.close()
    assert problems == {}


def _check_phone(page, label, selector, problems, whole_page=True):
    overflow = page.evaluate(OVERFLOW)
    found = {
        "header overflow px": overflow["header"] if overflow["header"] > 0.5 else None,
        "page overflow px": overflow["page"] if whole_page and overflow["page"] > 0 else None,
        "wrapped links": page.evaluate(WRAPPED_CONTROLS),
        "broken words": page.evaluate(BROKEN_WORDS, selector),
    }
    found = {k: v for k, v in found.items() if v}
    if found:
        problems[label] = found


def test_the_header_marks_the_page_and_shows_the_keyboard_focus(server):
    with chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        login(page, server)
        page.goto(f"{server}/overview?lang=ko")
        current = page.locator('#vm-nav [aria-current="page"]')
        assert current.count() == 1 and current.inner_text() == "행정동별 현황"
        style = current.evaluate("el => getComputedStyle(el)")
        marked = current.evaluate(
            "el => [getComputedStyle(el).fontWeight, getComputedStyle(el).boxShadow]"
        )
        assert int(marked[0]) >= 700 and "inset" in marked[1], style
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const el = document.activeElement, s = getComputedStyle(el);
               return [el.textContent.trim(), s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
        )
        assert focused[0] == "복지방문지도" and focused[1] == "solid" and focused[2] >= 2
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "/"
        context.close()


def test_error_pages_in_korean_and_english_and_the_favicon(server):
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        icon = page.request.get(f"{server}/favicon.ico")
        assert icon.status == 200 and icon.headers["content-type"].startswith("image/")
        response = page.goto(f"{server}/no-such-page?lang=ko")
        assert response.status == 404 and page.locator("html").get_attribute("lang") == "ko"
        assert page.locator("h1").inner_text() == "페이지를 찾을 수 없습니다"
        assert page.locator("#vm-nav .vm-nav-links").count() == 0  # signed out: no page links
        response = page.goto(f"{server}/no-such-page?lang=en")
        assert response.status == 404 and page.locator("h1").inner_text() == "Page not found"
        login(page, server)
        # 7 links: records (issue 13) adds "Record support"
        response = page.goto(f"{server}/visits/new?resident=R-NONE&lang=ko")
        assert response.status == 404 and page.locator("#vm-nav .vm-nav-links a").count() == 10
        assert page.locator("h1").inner_text() == "페이지를 찾을 수 없습니다"
        # every page of this helper links the icon
        for path in ("/overview", "/audit", "/no-such-page"):
            page.goto(server + path)
            assert page.locator('link[rel="icon"][href="/favicon.ico"]').count() == 1, path
        context.close()


def test_an_unexpected_error_shows_a_friendly_page(tmp_path):
    """A real 500: the app's database is gone."""
    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SECRET_KEY": "test-" + "k" * 40,
            "BASEMAP_URL": "",
        }
    )
    with served(app) as url, chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        response = page.goto(f"{url}/healthz?lang=ko")
        assert response.status == 500
        assert page.locator("h1").inner_text() == "오류가 발생했습니다"
        assert page.locator("#vm-nav .vm-nav-brand").inner_text() == "복지방문지도"
        response = page.goto(f"{url}/healthz?lang=en")
        assert response.status == 500 and page.locator("h1").inner_text() == "Something went wrong"
        assert page.evaluate(OVERFLOW)["page"] <= 0
        context.close()
