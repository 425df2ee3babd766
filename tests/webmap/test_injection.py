"""Template and script payloads in every free-text field that reaches a page (issue 10, A1).

Names of a dong, a facility, a team, its members, residents, their addresses, a visit's visitor
and notes, a support item and a provider all hold one string that mixes several families of
payload. No page may evaluate it (as Jinja on the server or as script in the browser); every
page shows it as typed. On the code before the fix ``{{7*191}}`` showed as 1337 on the map and
the route page, and ``${...}`` in a facility's tooltip ran in the browser.
"""

from __future__ import annotations

import markupsafe
import pytest
from sqlalchemy import text

from geo.db import make_engine, session_scope
from geo.migrate import upgrade
from tests.conftest import load_reference_data, scratch_databases
from tests.webmap.conftest import AS_OF, app_for, build_scored_demo, chromium, login, served

pytestmark = pytest.mark.db

PAYLOAD = (
    "가{{7*191}}${window.pwned=1}`);window.pwned=2;//"
    "</script><script>window.pwned=3</script><img src=x onerror=window.pwned=4>"
    "'\"><svg onload=window.pwned=5>{% if 1 %}JINJA-STMT{% endif %}{{config}}"
    "javascript:window.pwned=6"
)
#: what an evaluated payload would leave on a page ({{7*191}} after 가; {{config}}); the
#: payload's own text, shown as typed, is checked separately
EVALUATED = ("가1337", "\\uac001337", "<Config", "&lt;Config", "SECRET_KEY")


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
                "UPDATE visit_team_members SET name = :p WHERE team_id = :t",
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
            resident, visit = session.execute(
                text("""SELECT r.external_id, v.external_id FROM visits v
                    JOIN residents r ON r.id = v.resident_id
                    JOIN households h ON h.id = r.household_id
                    WHERE h.area_id = :a ORDER BY v.id LIMIT 1"""),
                {"a": area_pk},
            ).one()
        with app_for(url) as app:
            with app.test_client() as client:
                planned = client.post(
                    "/api/routes",
                    json={"team_id": team_id, "date": AS_OF.isoformat(),
                          "time_limit_seconds": 1},
                )  # fmt: skip
                assert planned.status_code == 201, planned.get_json()
                stops = [s for r in planned.get_json()["routes"] for s in r["stops"]]
                assert any(s["name"] == PAYLOAD for s in stops)  # the checks below can fail
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
    return [
        "/",
        "/?lang=en",
        route,
        route + "&print=1",
        "/routes",
        f"/visits/new?resident={h['resident']}",
        f"/visits/{h['visit']}",
        "/unreachable",
        "/overview",
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
            # shown as typed: escaped in the markup (Jinja's escape), or JSON in a script
            assert escaped in page or "\\u003c/script\\u003e" in page, path
        panel = client.get(f"/api/residents/{hostile['resident']}").get_json()
        assert panel["name"] == PAYLOAD


def test_no_payload_runs_in_the_browser_and_the_text_shows_as_typed(hostile):
    with served(hostile["app"]) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        dialogs, errors = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, base)
        for path in _pages(hostile):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.pwned") is None, path
            assert page.locator("img[src=x], svg[onload]").count() == 0, path
            if path.startswith("/?") or path == "/":
                page.wait_for_function("window.visitmap !== undefined", timeout=15_000)
                options = page.locator("#filter-area option").all_inner_texts()
                assert PAYLOAD in options  # the dong's name, as typed
                # every facility tooltip was bound at load: the map's script ran to the end
                assert page.locator(".leaflet-marker-icon").count() > 0
            if path.startswith("/routes?team"):
                assert PAYLOAD in page.locator("body").inner_text(), path
        # the facilities' tooltips show their names as text
        page.goto(base + "/")
        page.wait_for_function("window.visitmap !== undefined", timeout=15_000)
        shown = page.evaluate("""() => {
            const cfg = JSON.parse(document.getElementById('visitmap-config').textContent);
            return window[cfg.layers.facilities].getLayers().map(layer => {
                const box = document.createElement('div');
                box.innerHTML = layer.getTooltip().getContent();
                return box.textContent;
            });
        }""")
        assert any(label.startswith(PAYLOAD + " (") for label in shown)
        assert page.evaluate("window.pwned") is None
        assert dialogs == [] and errors == []
        context.close()
