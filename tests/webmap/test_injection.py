"""Template and script payloads in every free-text field that reaches a page (issue 10, A1).

Names of a dong, a facility, a team (one renamed in the database, one made through
``POST /api/teams``), its members and their roles, residents, their addresses, a visit's visitor
and notes (stored, and typed into the visit form), a support item, a provider and the signed-in
user's display name all hold one string (at most 200 characters, the API's limit) that mixes
several families of payload. No page may evaluate it (as Jinja on the server or as script in
the browser); every page shows it as typed. On the code before the fix ``{{7*191}}`` showed as
1337 on the map and the route page, and ``${...}`` in a facility's tooltip ran in the browser.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import markupsafe
import pytest
from sqlalchemy import text

from geo.db import make_engine, session_scope
from geo.migrate import upgrade
from tests.conftest import load_reference_data, scratch_databases
from tests.webmap.conftest import (
    AS_OF,
    TEST_ACCOUNTS,
    app_for,
    build_scored_demo,
    chromium,
    login,
    served,
)

pytestmark = pytest.mark.db

PAYLOAD = (
    "가{{7*191}}${window.pwned=1}`);window.pwned=2;//"
    "</script><script>window.pwned=3</script><img src=x onerror=pwned=4>"
    "'\"><svg onload=pwned=5>{% if 1 %}JINJA-STMT{% endif %}{{config}}"
    "javascript:pwned=6"
)
assert len(PAYLOAD) <= 200  # the longest name the API takes
#: a member's name and role may not hold ":" or "|" (the API refuses them)
MEMBER_PAYLOAD = PAYLOAD.replace(":", "")
#: the form's visitor name field takes at most 100 characters
VISITOR_PAYLOAD = (
    "나{{7*191}}${window.pwned=7}`'\"></script><img src=x onerror=pwned=8>{% if 1 %}J{% endif %}"
)
assert len(VISITOR_PAYLOAD) <= 100
#: what an evaluated payload would leave on a page ({{7*191}} after 가; {{config}}); the
#: payload's own text, shown as typed, is checked separately
EVALUATED = ("가1337", "\\uac001337", "<Config", "&lt;Config", "SECRET_KEY")
#: a link or frame whose address is a script
SCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
#: the team made through the API (name, members and roles all the payload)
API_TEAM = "T-INJ"


@pytest.fixture(scope="module")
def hostile(engine, database_url, tmp_path_factory):
    """A scored demo whose first team, its dong, members, base, residents due in that dong,
    their visits, support and providers carry :data:`PAYLOAD`; and a plan of that team."""
    with scratch_databases(database_url) as create:
        url = create("injection")
        db = make_engine(url)
        upgrade(db)
        load_reference_data(db)
        demo = build_scored_demo(db, url, tmp_path_factory)
        with session_scope(db) as session:
            team_id, team_pk, area_pk = session.execute(
                text("""SELECT t.external_id, t.id, min(ta.area_id) FROM visit_teams t
                    JOIN team_areas ta ON ta.team_id = t.id GROUP BY t.id ORDER BY t.id
                    LIMIT 1""")
            ).one()
            p = {"p": PAYLOAD, "t": team_pk, "a": area_pk, "run": demo["run_id"]}
            for sql in (
                "UPDATE visit_teams SET name = :p WHERE id = :t",
                "UPDATE visit_team_members SET name = :p, role = :p WHERE team_id = :t",
                "UPDATE areas SET name = :p WHERE id = :a",
                "UPDATE facilities SET name = :p WHERE area_id = :a",
                """UPDATE residents SET name = :p WHERE id IN (SELECT r.id FROM residents r
                   JOIN households h ON h.id = r.household_id
                   JOIN resident_scores s ON s.resident_id = r.id AND s.run_id = :run
                   WHERE h.area_id = :a)""",
                "UPDATE households SET address = :p WHERE area_id = :a",
                """UPDATE visits SET notes = :p, visitor = :p WHERE resident_id IN
                   (SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id
                    WHERE h.area_id = :a)""",
                """UPDATE support_records SET item = :p WHERE resident_id IN
                   (SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id
                    WHERE h.area_id = :a)""",
                "UPDATE providers SET name = :p",
                """UPDATE residents SET unreachable_since = :day WHERE id IN (SELECT r.id
                   FROM residents r JOIN households h ON h.id = r.household_id
                   WHERE h.area_id = :a ORDER BY r.id LIMIT 3)""",
            ):
                session.execute(text(sql), p | {"day": AS_OF})
            area_code, base = session.execute(
                text("""SELECT a.code, f.external_id FROM areas a JOIN facilities f
                    ON f.area_id = a.id AND f.kind = 'community_centre' WHERE a.id = :a
                    ORDER BY f.id LIMIT 1"""),
                {"a": area_pk},
            ).one()
            resident, visit = session.execute(
                text("""SELECT r.external_id, v.external_id FROM visits v
                    JOIN residents r ON r.id = v.resident_id
                    JOIN households h ON h.id = r.household_id
                    WHERE h.area_id = :a ORDER BY v.id LIMIT 1"""),
                {"a": area_pk},
            ).one()
        with app_for(url) as app:
            with session_scope(db) as session:  # the test accounts exist now
                session.execute(
                    text("UPDATE users SET display_name = :p WHERE username = :u"),
                    {"p": PAYLOAD, "u": TEST_ACCOUNTS["leader"][0]},
                )
            with app.test_client() as client:
                # anyone with a token could do this before accounts: make and plan a team
                made = client.post(
                    "/api/teams",
                    json={"team_id": API_TEAM, "name": PAYLOAD, "base_facility_id": base,
                          "area_codes": [area_code]},
                )  # fmt: skip
                assert made.status_code == 201, made.get_json()
                for member in ("M-INJ-1", "M-INJ-2"):
                    added = client.post(
                        f"/api/teams/{API_TEAM}/members",
                        json={"member_id": member, "name": MEMBER_PAYLOAD, "role": MEMBER_PAYLOAD},
                    )
                    assert added.status_code == 201, added.get_json()
                for team in (team_id, API_TEAM):
                    planned = client.post(
                        "/api/routes",
                        json={"team_id": team, "date": AS_OF.isoformat(),
                              "time_limit_seconds": 1},
                    )  # fmt: skip
                    assert planned.status_code == 201, planned.get_json()
                    stops = [s for r in planned.get_json()["routes"] for s in r["stops"]]
                    assert any(s["name"] == PAYLOAD for s in stops)  # the checks can fail
            yield {
                "app": app,
                "team": team_id,
                "plan": planned.get_json()["plan_id"],
                "resident": resident,
                "visit": visit,
            }
        db.dispose()


def _pages(h) -> list[str]:
    route = f"/routes?team={h['team']}&date={AS_OF.isoformat()}"
    api_route = f"/routes?team={API_TEAM}&date={AS_OF.isoformat()}&lang=en"
    return [
        "/",
        "/?lang=en",
        route,
        route + "&print=1",
        api_route,
        api_route + "&print=1",
        "/routes",
        f"/visits/new?resident={h['resident']}&plan={h['plan']}",
        f"/visits/new?resident={h['resident']}",
        f"/visits/{h['visit']}",
        "/unreachable",
        "/overview",
        "/audit",
    ]


def test_no_page_evaluates_a_payload_and_each_shows_it_escaped(hostile):
    escaped = str(markupsafe.escape(PAYLOAD))
    with hostile["app"].test_client() as client:
        for path in _pages(hostile):
            response = client.get(path)
            assert response.status_code == 200, path
            page = response.get_data(as_text=True)
            for trace in EVALUATED:
                assert trace not in page, (path, trace)
            assert "<script>window.pwned" not in page, path
            assert "JINJA-STMT{% endif %}" in page or "JINJA-STMT{%" in page, path
            assert "<img src=x onerror" not in page and "<svg onload" not in page, path
            assert not SCRIPT_URL.search(page), path
            # shown as typed: escaped in the markup (Jinja's escape), or JSON in a script
            assert escaped in page or "\\u003c/script\\u003e" in page, path
            # JSON in a script block never closes it: the only "</script" are the real ends
            assert page.count("</script") == page.count("<script"), path
        panel = client.get(f"/api/residents/{hostile['resident']}").get_json()
        assert panel["name"] == PAYLOAD


def _facility_labels(page) -> list[str]:
    """The text each facility marker's tooltip shows."""
    return page.evaluate("""() => {
        const cfg = JSON.parse(document.getElementById('visitmap-config').textContent);
        return window[cfg.layers.facilities].getLayers().map(layer => {
            const box = document.createElement('div');
            box.innerHTML = layer.getTooltip().getContent();
            return box.textContent;
        });
    }""")


def _dong_labels(page) -> list[str]:
    """The text the choropleth's tooltip shows for each dong (folium's GeoJsonTooltip: a
    function of the hovered layer)."""
    return page.evaluate("""() => {
        const cfg = JSON.parse(document.getElementById('visitmap-config').textContent);
        const dongs = window[cfg.layers.choropleth];
        const content = dongs.getTooltip().getContent();
        return dongs.getLayers().map(layer => {
            const shown = typeof content === 'function' ? content(layer) : content;
            if (typeof shown !== 'string') return shown.textContent;
            const box = document.createElement('div');
            box.innerHTML = shown;
            return box.textContent;
        });
    }""")


def _nothing_ran(page, where) -> None:
    assert page.evaluate("window.pwned") is None, where
    injected = "img[src=x], svg[onload], [onerror], [onload], iframe"
    assert page.locator(injected).count() == 0, where
    links = page.eval_on_selector_all(
        "[href], [src], [action]",
        "nodes => nodes.map(n => n.getAttribute('href') || n.getAttribute('src')"
        " || n.getAttribute('action'))",
    )
    assert not [link for link in links if link.strip().lower().startswith("javascript:")], where


@contextmanager
def signed_in_page(hostile):
    """The hostile app served, a desktop Chromium page signed in as the leader, and the lists
    of dialogs opened and script errors raised on it."""
    with served(hostile["app"]) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        dialogs, errors = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, base)
        try:
            yield base, page, dialogs, errors
        finally:
            context.close()


def test_no_payload_runs_in_the_browser_and_the_text_shows_as_typed(hostile):
    with signed_in_page(hostile) as (base, page, dialogs, errors):
        for path in _pages(hostile):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            _nothing_ran(page, path)
            if path.startswith("/?") or path == "/":
                page.wait_for_function("() => window.visitmap !== undefined", timeout=15_000)
                options = page.locator("#filter-area option").all_inner_texts()
                assert PAYLOAD in options  # the dong's name, as typed
                # every facility tooltip was bound at load: the map's script ran to the end
                assert page.locator(".leaflet-marker-icon").count() > 0
                assert page.locator("#account").inner_text() == PAYLOAD  # display name
            if path.startswith("/routes?team"):
                # folium's script ran: the map and its numbered stops are drawn
                page.wait_for_selector(".leaflet-container .route-stop", timeout=15_000)
                assert PAYLOAD in page.locator("body").inner_text(), path
                headings = page.locator("section.route h2").all_inner_texts()
                if path.startswith(f"/routes?team={API_TEAM}"):
                    assert f"{MEMBER_PAYLOAD} · {MEMBER_PAYLOAD}" in headings  # member and role
                    assert page.locator("h1").inner_text().endswith(PAYLOAD)  # team
        # the facilities' and dongs' tooltips show their names as text
        page.goto(base + "/")
        page.wait_for_function("() => window.visitmap !== undefined", timeout=15_000)
        labels = _facility_labels(page)
        assert any(label.startswith(PAYLOAD + " (") for label in labels), labels
        labels = _dong_labels(page)
        assert any(label.strip().startswith(PAYLOAD + " · ") for label in labels), labels
        # the resident panel (filled by map.js from the API) shows name and note as text
        page.evaluate(f"visitmap.openPanel({hostile['resident']!r})")
        page.wait_for_selector("#panel-body dl", timeout=15_000)
        panel = page.locator("#panel-body")
        assert panel.inner_text().count(PAYLOAD) >= 2, panel.inner_text()  # name and note
        assert panel.locator("img, svg, script").count() == 0
        _nothing_ran(page, "resident panel")
        assert dialogs == [] and errors == [], (dialogs, errors)


def test_payload_typed_into_the_visit_form_shows_as_typed(hostile):
    """Notes and visitor name typed into the form: kept as typed when the form comes back with
    an error, and shown as typed on the confirmation page."""
    with signed_in_page(hostile) as (base, page, dialogs, errors):
        errors.clear()  # the map page after signing in is checked above; this is the form
        page.goto(f"{base}/visits/new?resident={hostile['resident']}")
        page.locator('input[name="outcome"]').first.check()
        page.fill('textarea[name="notes"]', PAYLOAD)
        if page.locator("#member").count():
            page.select_option("#member", "")
        page.fill('input[name="visitor_name"]', VISITOR_PAYLOAD)
        page.fill('input[name="next_visit_on"]', "2000-01-01")  # before the visit: refused
        page.click("#submit")
        page.wait_for_selector("#errors")
        _nothing_ran(page, "form with errors")
        assert page.locator('textarea[name="notes"]').input_value() == PAYLOAD
        assert page.locator('input[name="visitor_name"]').input_value() == VISITOR_PAYLOAD
        page.fill('input[name="next_visit_on"]', "")
        page.click("#submit")
        page.wait_for_selector("#done")
        _nothing_ran(page, "visit done")
        assert page.locator("#done-notes").inner_text() == PAYLOAD
        assert "나1337" not in page.content()
        shown = page.locator("main dl").inner_text().splitlines()
        assert VISITOR_PAYLOAD in shown, shown
        assert dialogs == [] and errors == [], (dialogs, errors)
