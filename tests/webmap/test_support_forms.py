"""The support, need and consent forms and their JSON API over HTTP, against a committed demo
database of their own: each bad field named next to it with nothing written, a record saved
and shown, agency staff's masked look-up, who may set consent and its log, safe retries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from geo.accounts import create_token, create_user
from geo.db import make_engine, session_scope
from geo.migrate import upgrade
from tests.conftest import load_reference_data, scratch_databases
from tests.webmap.conftest import app_for, build_scored_demo, chromium, served

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def support_db(engine, database_url, tmp_path_factory):
    """A scored demo; a community centre's staff account and some stock; residents of its dong."""
    with scratch_databases(database_url) as create:
        url = create("support_forms")
        db_engine = make_engine(url)
        upgrade(db_engine)
        load_reference_data(db_engine)
        demo = build_scored_demo(db_engine, url, tmp_path_factory)
        with session_scope(db_engine) as session:
            centre = session.execute(
                text("""SELECT p.id, p.external_id, a.code, a.id AS area_id FROM providers p
                    JOIN areas a ON a.code = substr(p.external_id, 6)
                    WHERE p.kind = 'community_centre' ORDER BY p.external_id LIMIT 1""")
            ).one()
            session.execute(
                text("UPDATE providers SET area_id = :a WHERE id = :p"),
                {"a": centre.area_id, "p": centre.id},
            )
            residents = session.execute(
                text("""SELECT r.external_id, r.name, r.birth_year FROM residents r
                    JOIN households h ON h.id = r.household_id
                    WHERE h.area_id = :a AND r.status = 'active' AND r.name IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM support_records s
                                      WHERE s.resident_id = r.id)
                    ORDER BY r.id LIMIT 6"""),
                {"a": centre.area_id},
            ).all()
            session.execute(
                text("""INSERT INTO stock_movements (centre_id, kind, moved_on, minor_category,
                        item, unit, quantity, expires_on, entered_by)
                    VALUES (:c, 'received', '2026-10-01', 'instant_food', '라면 5개입', '봉',
                        20, '2027-03-01', 'test')"""),
                {"c": centre.id},
            )
            create_user(
                session,
                "t.centre",
                display_name="주민센터 직원",
                password="test-centre-pass1",
                roles=["leader"],
                area_codes=[centre.code],
                org=centre.external_id,
            )
            token, _ = create_token(session, "t.centre", "support-forms")
            other_dong = session.execute(
                text("SELECT min(code) FROM areas WHERE code <> :c"), {"c": centre.code}
            ).scalar_one()
            create_user(
                session,
                "t.otherdong",
                display_name="다른 동 통장",
                password=None,
                roles=["leader"],
                area_codes=[other_dong],
            )
            other_token, _ = create_token(session, "t.otherdong", "support-forms")
        yield demo | {
            "centre": centre.external_id,
            "dong": centre.code,
            "residents": [tuple(r) for r in residents],
            "centre_token": token,
            "other_token": other_token,
            "db_engine": db_engine,
        }
        db_engine.dispose()


@pytest.fixture(scope="module")
def app(support_db):
    with app_for(support_db["url"]) as app:
        yield app


def _centre_client(app, support_db, who: str = "centre"):
    client = app.test_client(role=None)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {support_db[who + '_token']}"
    return client


def _counts(support_db) -> tuple[int, int, int, int]:
    with support_db["db_engine"].connect() as conn:
        return tuple(
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("support_records", "needs", "stock_movements", "consent_events")
        )


def _record_id(page: str) -> str:
    return re.search(r'name="record_id" value="([^"]+)"', page).group(1)


def _form(resident: str, record_id: str, **changes) -> dict:
    return {
        "resident": resident,
        "record_id": record_id,
        "minor_category": "side_dishes",
        "item": "밑반찬 3종",
        "quantity": "1",
        "unit": "세트",
        "funding": "donation",
        "provided_on": "2026-10-30",
    } | changes


def test_the_form_groups_the_categories_and_lists_open_needs(app, support_db):
    rid = support_db["residents"][0][0]
    with _centre_client(app, support_db) as client:
        page = client.get(f"/support/records/new?resident={rid}").get_data(as_text=True)
    assert page.count("<optgroup") == 6 and page.count('<option value="rice"') == 1
    assert '<optgroup label="식품">' in page and "쌀·곡류" in page
    assert "라면 5개입" in page  # the centre's stock lots are offered
    assert 'name="record_id" value="S-' in page and "지원 기록" in page


def test_each_bad_field_is_named_next_to_it_and_nothing_is_written(app, support_db):
    rid = support_db["residents"][0][0]
    cases = {
        "minor_category": {"minor_category": "caviar"},
        "item": {"item": ""},
        "quantity": {"quantity": "-2"},
        "unit": {"unit": ""},
        "amount_krw": {"amount_krw": "1.5"},
        "funding": {"funding": ""},
        "provided_on": {"provided_on": "2099-01-01"},
        "expires_on": {"expires_on": "2026-10-01"},
        "recurring_period": {"recurring_period": "hourly"},
        "need": {"need": "N-NONE"},
    }
    with _centre_client(app, support_db) as client:
        for field, change in cases.items():
            counts = _counts(support_db)
            response = client.post("/support/records", data=_form(rid, f"S-BAD-{field}") | change)
            page = response.get_data(as_text=True)
            assert response.status_code == 400, field
            assert f'<span class="vv-field-error" id="error-{field}"' in page, field
            assert f'href="#field-{field}"' in page and "지원이 기록되지 않았습니다" in page
            assert f'id="field-{field}"' in page
            assert _counts(support_db) == counts, field


def test_a_record_is_saved_shown_and_a_retry_writes_nothing(app, support_db):
    rid = support_db["residents"][1][0]
    with _centre_client(app, support_db) as client:
        record_id = _record_id(client.get(f"/support/records/new?resident={rid}").text)
        counts = _counts(support_db)
        form = _form(rid, record_id, stock_lot="instant_food|라면 5개입|봉|2027-03-01",
                     quantity="2")  # fmt: skip
        first = client.post("/support/records", data=form)
        assert first.status_code == 303
        second = client.post("/support/records", data=form)
        assert second.headers["Location"] == first.headers["Location"]
        assert _counts(support_db) == (counts[0] + 1, counts[1], counts[2] + 1, counts[3])
        shown = client.get(first.headers["Location"]).get_data(as_text=True)
        assert 'id="saved"' in shown and "라면 5개입" in shown and "t.centre" in shown
        assert "재고에서 지급" in shown
        changed = client.post("/support/records", data=form | {"quantity": "3"})
        assert changed.status_code == 409 and 'data-field="record_id"' in changed.text


def test_the_agency_finds_a_resident_masked_and_records_for_them(app, support_db):
    rid, name, year = support_db["residents"][2]
    with app.test_client(role="agency") as client:
        found = client.get(f"/api/support/lookup?name={name}&birth_year={year}").get_json()
        row = next(r for r in found["residents"] if r["resident_id"] == rid)
        assert row["masked"] and row["name"] != name and row["name"][0] == name[0]
        page = client.get(f"/support/records/new?name={name}&birth_year={year}").text
        listed = page[page.index('id="found"') :]
        assert rid in listed and name not in listed  # the name typed is in the search box only
        assert client.get(f"/api/residents/{rid}").status_code == 404  # not theirs yet
        response = client.post(
            "/api/support-records",
            json={"resident": rid, "minor_category": "food_parcel", "item": "꾸러미",
                  "quantity": 1, "unit": "상자", "funding": "donation"},
        )  # fmt: skip
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["entered_by"] == "t.agency"
        assert client.get(f"/api/residents/{rid}").status_code == 200  # now in their scope
        again = client.get(f"/api/support/lookup?name={name}&birth_year={year}").get_json()
        assert next(r for r in again["residents"] if r["resident_id"] == rid)["name"] == name
        # their own organisation only; consent is not theirs to set
        other = client.post(
            "/api/support-records",
            json={"resident": rid, "minor_category": "rice", "item": "쌀", "amount_krw": 1000,
                  "funding": "budget", "provider": support_db["centre"]},
        )  # fmt: skip
        assert other.status_code == 400 and other.get_json()["parameter"] == "provider"
        assert client.get(f"/support/consent/{rid}").status_code == 403
        assert (
            client.put(f"/api/residents/{rid}/consent", json={"consented": True}).status_code == 403
        )


def test_the_api_lists_every_bad_field(app, support_db):
    rid = support_db["residents"][3][0]
    counts = _counts(support_db)
    with _centre_client(app, support_db) as client:
        response = client.post(
            "/api/support-records",
            json={"resident": rid, "minor_category": "rice", "item": "", "funding": "budget",
                  "provided_on": "2099-01-01", "quantity": 1},
        )  # fmt: skip
        body = response.get_json()
        assert response.status_code == 400
        assert {p["parameter"] for p in body["problems"]} == {"item", "provided_on", "unit"}
        unknown = client.post(
            "/api/support-records",
            json={"resident": "R-NONE", "minor_category": "rice", "item": "쌀", "quantity": 1,
                  "unit": "포", "funding": "budget"},
        )  # fmt: skip
        assert unknown.status_code == 404
        typo = client.post("/api/support-records", json={"resident": rid, "minor": "rice"})
        assert typo.status_code == 400
    assert _counts(support_db) == counts


def test_a_need_is_recorded_and_offered_on_the_support_form(app, support_db):
    rid = support_db["residents"][4][0]
    with _centre_client(app, support_db) as client:
        bad = client.post("/support/needs", data={"resident": rid, "need_id": "N-F1"})
        assert bad.status_code == 400 and 'id="error-category"' in bad.text
        done = client.post(
            "/support/needs",
            data={"resident": rid, "need_id": "N-F1", "category": "health",
                  "identified_on": "2026-10-20", "status": "open"},
        )  # fmt: skip
        assert done.status_code == 303
        page = client.get(f"/support/records/new?resident={rid}").text
        assert '<option value="N-F1"' in page
        api = client.post("/api/needs", json={"resident": rid, "category": "legal"})
        assert api.status_code == 201 and api.get_json()["source"] == "api"


def test_consent_is_set_by_centre_staff_and_logged(app, support_db):
    rid = support_db["residents"][5][0]
    with _centre_client(app, support_db) as client:
        page = client.get(f"/support/consent/{rid}").text
        assert "기록된 적 없음" in page
        bad = client.post(f"/support/consent/{rid}", data={"decided_on": "2026-10-30"})
        assert bad.status_code == 400 and 'id="error-consented"' in bad.text
        done = client.post(
            f"/support/consent/{rid}", data={"consented": "yes", "decided_on": "2026-10-30"}
        )
        assert done.status_code == 303
        withdrawn = client.put(f"/api/residents/{rid}/consent", json={"consented": False})
        body = withdrawn.get_json()
        assert withdrawn.status_code == 200 and body["consented"] is False and body["changed"]
        assert [e["source"] for e in body["events"]] == ["api", "form"]
        log = client.get(f"/support/consent/{rid}").text
        assert log.count("t.centre") >= 2 and "철회" in log
    counts = _counts(support_db)
    with _centre_client(app, support_db, "other") as client:  # another dong's leader
        other = client.put(f"/api/residents/{rid}/consent", json={"consented": True})
        assert other.status_code == 404
        assert client.get(f"/support/consent/{rid}").status_code == 404
        form = client.post(f"/support/consent/{rid}", data={"consented": "yes"})
        assert form.status_code == 404
    assert _counts(support_db) == counts


def test_on_a_tablet_the_error_sits_next_to_the_field_and_the_fixed_form_saves(app, support_db):
    """In headless Chromium at 768 x 1024: a category grouped by major, a missing unit named
    next to its field, then saved from the centre's stock; nothing overflows sideways."""
    rid = support_db["residents"][0][0]
    with served(app) as base, chromium() as browser:
        page = browser.new_context(viewport={"width": 768, "height": 1024}).new_page()
        page.goto(f"{base}/login")
        page.fill('input[name="username"]', "t.centre")
        page.fill('input[name="password"]', "test-centre-pass1")
        page.click('#login-form button[type="submit"]')
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"{base}/support/records/new?resident={rid}")
        groups = page.eval_on_selector_all("select[name=minor_category] optgroup", "g => g.length")
        assert groups == 6
        page.select_option("select[name=minor_category]", "hygiene")
        page.fill("input[name=item]", "위생용품 세트")
        page.fill("input[name=quantity]", "1")
        page.check("input[name=funding][value=budget]")
        page.click("#submit")
        error = page.locator("#field-unit .vv-field-error")
        assert error.is_visible() and "단위" in error.inner_text()
        assert page.locator("#errors li").count() == 1
        field_box = page.locator("#field-unit input").bounding_box()
        error_box = error.bounding_box()
        assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40  # right below
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.select_option("select[name=stock_lot]", "instant_food|라면 5개입|봉|2027-03-01")
        page.fill("input[name=quantity]", "1")
        page.click("#submit")
        page.wait_for_url(lambda url: "saved=" in url)
        assert "라면 5개입" in page.locator("#saved").inner_text()
