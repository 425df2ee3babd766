"""The one header navigation, the error pages, the favicon and the overview's risk figures,
through the Flask test client (issue 12; what is seen is in test_nav_browser.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from geo.accounts import TOKEN_PREFIX
from geo.analyst_export import SUPPRESS_BELOW
from geo.mapdata.queries import area_summaries
from geo.scope import Scope
from tests.webmap.conftest import AS_OF
from webmap import create_app

pytestmark = pytest.mark.db

NAV_LINK = re.compile(r'<a href="([^"]+)" data-endpoint="([^"]+)"')

#: role -> the pages its header links to, in order
EXPECTED_NAV = {
    "leader": ["map.map_page", "pages.overview", "routes.my_day", "routes.route_page",
               "visits.unreachable_page", "audit.audit_page", "support_dashboard.dashboard_page",
               "support.new_record"],
    "dong": ["map.map_page", "pages.overview", "routes.my_day", "routes.route_page",
             "visits.unreachable_page", "support_dashboard.dashboard_page", "support.new_record"],
    "visitor": ["map.map_page", "pages.overview", "routes.my_day", "routes.route_page"],
    "agency": ["map.map_page", "pages.overview", "support_dashboard.dashboard_page",
               "support.new_record"],
    "analyst": ["map.map_page", "pages.overview"],
    "admin": ["map.map_page", "pages.overview", "audit.audit_page",
              "support_dashboard.dashboard_page", "support.new_record"],
}  # fmt: skip
# issue 13, resources (helper S): the resources link comes last for those who may open it
for _role in ("leader", "dong", "visitor", "agency", "admin"):
    EXPECTED_NAV[_role].append("resources.stock_page")
# issue 14: the blind-spot list, for the public office's casework (leaders and visitors)
for _role in ("leader", "dong", "visitor"):
    EXPECTED_NAV[_role].append("blind_spots.blind_spots_page")


def _nav(page: str) -> list[str]:
    header = page[page.index('<header class="vm-nav"') : page.index("</header>")]
    return [endpoint for _href, endpoint in NAV_LINK.findall(header)]


@pytest.mark.parametrize("role", sorted(EXPECTED_NAV))
def test_each_role_gets_the_links_of_the_pages_it_may_open(map_app, role):
    with map_app.test_client(role=role) as client:
        for path, status in (
            ("/overview", 200),
            ("/no-such-page", 404),
            ("/overview?lang=en", 200),
        ):
            response = client.get(path)
            assert response.status_code == status, (role, path)
            assert _nav(response.text) == EXPECTED_NAV[role], (role, path)
        # a page the role may not open still shows its own links
        refused = client.get("/audit" if role in ("visitor", "agency", "analyst") else "/nope")
        assert _nav(refused.get_data(as_text=True)) == EXPECTED_NAV[role]


def test_the_current_page_is_marked_and_the_language_links_keep_the_query(map_app):
    with map_app.test_client() as client:
        page = client.get("/audit?user=t.leader&lang=ko").get_data(as_text=True)
    assert 'data-endpoint="audit.audit_page" aria-current="page"' in page
    assert page.count('aria-current="page"') == 1
    assert 'href="/audit?user=t.leader&amp;lang=en" lang="en"' in page
    korean = 'href="/audit?user=t.leader&amp;lang=ko" lang="ko" hreflang="ko" aria-current="true"'
    assert korean in page


def test_the_language_links_stay_on_this_site(map_app):
    with map_app.test_client(role=None) as client:
        path = '//evil.example/x#y"'  # as a server gets GET //evil.example/x%23y%22
        page = client.get("/", environ_overrides={"PATH_INFO": path}).text
    assert 'href="/evil.example/x%23y%22?lang=en"' in page and "//evil" not in page


def test_signed_out_pages_show_the_title_and_languages_only(map_app):
    with map_app.test_client(role=None) as client:
        for path in ("/login", "/no-such-page"):
            page = client.get(path).get_data(as_text=True)
            header = page[page.index('<header class="vm-nav"') : page.index("</header>")]
            assert re.findall(r'href="([^"?]*)', header) == [path, path]  # the two languages
            assert "복지방문지도" in header and 'id="logout"' not in header


def test_unknown_pages_are_a_korean_or_english_404_page(map_app):
    with map_app.test_client(role=None) as client:
        korean = client.get("/no-such-page")
        assert korean.status_code == 404 and korean.mimetype == "text/html"
        text = korean.get_data(as_text=True)
        assert '<html lang="ko">' in text and "페이지를 찾을 수 없습니다" in text
        english = client.get("/no-such-page?lang=en").get_data(as_text=True)
        assert '<html lang="en">' in english and "Page not found" in english
        # the API keeps its JSON body, also for a client that asks for JSON elsewhere
        assert client.get("/api/nothing").get_json()["error"] == "not_found"
        wants = client.get("/no-such-page", headers={"Accept": "application/json"})
        assert wants.status_code == 404 and wants.get_json()["error"] == "not_found"


def test_other_http_errors_and_refusals_are_pages_too(map_app, map_database):
    with map_app.test_client() as client:
        unknown = client.get("/visits/new?resident=R-NONE")  # abort(404) in the view
        assert unknown.status_code == 404 and "페이지를 찾을 수 없습니다" in unknown.text
        wrong_method = client.post("/overview")
        assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
        assert 'data-status="405"' in wrong_method.text and "이 방법으로는" in wrong_method.text
    with map_app.test_client(role="visitor") as client:
        refused = client.get("/audit?lang=en")
        assert refused.status_code == 403 and 'data-status="403"' in refused.text
        assert "Not allowed" in refused.text and 'class="vm-nav"' in refused.text


def test_an_expired_form_is_a_400_page_that_says_so(map_app):
    with map_app.test_client(role=None) as client:
        response = client.post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400 and 'data-status="400"' in response.text
    assert "양식이 만료되었습니다" in response.text


def test_an_unexpected_error_is_a_friendly_500(database_url):
    """A real failure: the database is gone. Pages get the page, the API its JSON body."""
    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SECRET_KEY": "test-" + "k" * 40,
            "BASEMAP_URL": "",
        }
    )
    with app.test_client() as client:
        page = client.get("/healthz?lang=en")
        assert page.status_code == 500 and page.mimetype == "text/html"
        assert 'data-status="500"' in page.text and "Something went wrong" in page.text
        assert "Traceback" not in page.text and "OperationalError" not in page.text
        korean = client.get("/healthz?lang=ko")
        assert korean.status_code == 500 and "오류가 발생했습니다" in korean.text
        token = TOKEN_PREFIX + "x" * 40  # well formed: looked up in the missing database
        api = client.get("/api/areas", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 500
        assert api.get_json() == {"error": "internal_error", "message": "internal server error"}


def test_the_favicon_is_served_without_sign_in(map_app):
    with map_app.test_client(role=None) as client:
        icon = client.get("/favicon.ico", buffered=True)
        assert icon.status_code == 200 and icon.mimetype == "image/x-icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
        assert "max-age=86400" in icon.headers["Cache-Control"]
        svg = client.get("/static/favicon.svg", buffered=True)
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        page = client.get("/login").text
        assert 'rel="icon" href="/favicon.ico"' in page and "favicon.svg" in page


def _risk_rows(page: str) -> dict[str, list[str]]:
    rows = re.findall(r'<tr data-area="(\d+)">(.*?)</tr>', page, flags=re.S)
    return {code: re.findall(r"<td[^>]*>([^<]*)</td>", cells)[1:] for code, cells in rows}


def test_the_overview_shows_tiers_and_overdue_per_dong(map_app, map_database):
    with Session(map_database["engine"]) as session:
        summaries = area_summaries(
            session, Scope.everything(), run_id=map_database["run_id"], today=AS_OF
        )
    with map_app.test_client() as client:
        page = client.get("/overview").text
    rows = _risk_rows(page)
    assert set(rows) == {s["code"] for s in summaries} and len(rows) > 1
    for s in summaries:
        expected = [s["residents_scored"]]
        for tier in ("high", "medium", "low"):
            expected += [s["tier_counts"][tier], s["overdue_counts"][tier]]
        expected.append(sum(s["overdue_counts"].values()))
        assert rows[s["code"]] == [f"{n:,}" for n in expected], s["code"]
    assert f"Score run {map_database['run_id']}" in client.get("/overview?lang=en").text
    assert 'href="/overview?lang=ko"' in page  # and the header leads back to the map
    assert 'data-endpoint="map.map_page"' in page


def test_the_overview_hides_small_counts_from_analysts_and_scopes_a_dong_leader(map_app):
    with map_app.test_client(role="analyst") as client:
        rows = _risk_rows(client.get("/overview").text)
    values = [v for cells in rows.values() for v in cells]
    assert "-" in values  # the demo has small cells: hidden
    assert all(v == "-" or int(v.replace(",", "")) in (0,) or int(v.replace(",", "")) >= 5
               for v in values) and SUPPRESS_BELOW == 5  # fmt: skip
    with map_app.test_client(role="dong") as client:
        assert len(_risk_rows(client.get("/overview").text)) == 1


def test_an_error_of_the_table_on_a_page_is_the_page_with_its_status(map_app):
    """A view that lets a kind of visitmap.errors through: the page (its own text under the
    message) on a page, the JSON body under /api."""
    from visitmap.errors import Conflict, NotFound
    from webmap.errors import _answer

    with map_app.test_request_context("/overview?lang=en"):
        page, status = _answer(NotFound("score run 99 does not exist"))
        assert status == 404 and "Page not found" in page
        assert "score run 99 does not exist" in page
        page, status = _answer(Conflict("<b>changed</b>"))
        assert status == 409 and "&lt;b&gt;changed&lt;/b&gt;" in page
    with map_app.test_request_context("/api/areas"):
        response = _answer(NotFound("gone"))
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"
