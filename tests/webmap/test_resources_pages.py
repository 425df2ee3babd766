"""The resources pages over HTTP, on a committed demo database of their own (their writes would
change the shared map database): access per role, the forms' errors next to their fields with
nothing written, donation -> stock, transfer, report page and CSV, sponsorships and alerts,
suggestions page and JSON, and the agency's read-only view of its own provider."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import make_engine, session_scope
from geo.migrate import upgrade
from tests.conftest import load_reference_data, scratch_databases
from tests.webmap.conftest import AS_OF, app_for, build_scored_demo, chromium, login, served

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def res_db(engine, database_url, tmp_path_factory):
    with scratch_databases(database_url) as create:
        url = create("resources_pages")
        res_engine = make_engine(url)
        upgrade(res_engine)
        load_reference_data(res_engine)
        demo = build_scored_demo(res_engine, url, tmp_path_factory)
        with session_scope(res_engine) as session:
            # the community centres serve their dong (the demo files may not say so yet)
            session.execute(
                text("""UPDATE providers p SET area_id = a.id FROM areas a
                    WHERE p.external_id = 'P-CC-' || a.code""")
            )
            session.execute(
                text("""INSERT INTO donors (external_id, name, kind, entered_by) VALUES
                    ('DN-T1', '=HYPERLINK("x") 상회', 'company', 'test'),
                    ('DN-T2', '김후원', 'individual', 'test')""")
            )
            need = session.execute(
                text("""SELECT n.external_id, a.code FROM needs n
                    JOIN residents r ON r.id = n.resident_id
                    JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
                    WHERE n.category = 'daily_living' AND n.status = 'open'
                      AND EXISTS (SELECT 1 FROM providers p WHERE p.external_id = 'P-CC-' || a.code)
                    ORDER BY n.id LIMIT 1""")
            ).one()
            household = session.execute(
                text("""SELECT h.external_id FROM households h JOIN areas a ON a.id = h.area_id
                    WHERE a.code = :c ORDER BY h.id LIMIT 1"""),
                {"c": need.code},
            ).scalar()
        yield demo | {
            "engine": res_engine,
            "need": need.external_id,
            "need_dong": need.code,
            "household": household,
        }
        res_engine.dispose()


@pytest.fixture(scope="module")
def app(res_db):
    with app_for(res_db["url"]) as app:
        yield app


@pytest.fixture(scope="module")
def dong(app, res_db) -> str:
    """The dong of the test dong leader (``t.dong``), whose centre P-CC-<dong> it manages."""
    with Session(res_db["engine"]) as session:
        return session.execute(
            text("""SELECT a.code FROM users u JOIN user_areas ua ON ua.user_id = u.id
                JOIN areas a ON a.id = ua.area_id WHERE u.username = 't.dong'""")
        ).scalar()


def _count(res_db, table: str) -> int:
    with Session(res_db["engine"]) as session:
        return session.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def _donation(centre: str, **changes) -> dict:
    return {
        "donor": "DN-T2",
        "centre": centre,
        "received_on": (AS_OF - dt.timedelta(days=3)).isoformat(),
        "minor_category": "side_dishes",
        "item": "김치 1kg",
        "quantity": "12",
        "unit": "통",
        "amount_krw": "",
        "expires_on": (AS_OF + dt.timedelta(days=10)).isoformat(),
    } | changes


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("leader", "/resources", 200),
        ("dong", "/resources", 200),
        ("agency", "/resources", 200),
        ("visitor", "/resources", 200),
        ("analyst", "/resources", 403),
        ("admin", "/resources/report", 200),
        ("agency", "/resources/report", 200),
        ("leader", "/resources/new/donation", 200),
        ("dong", "/resources/new/transfer", 200),
        ("admin", "/resources/new/sponsorship", 200),
        ("agency", "/resources/new/donation", 403),
        ("visitor", "/resources/new/donation", 403),  # not community-centre staff
        ("analyst", "/resources/new/donation", 403),
        ("agency", "/resources/sponsorships", 403),
        ("leader", "/resources/sponsorships", 200),
        ("leader", "/resources/new/nothing", 404),
        (None, "/resources", 302),  # to the sign-in page
        (None, "/api/resources/suggestions?need=N-000001", 401),
    ],
)
def test_access_per_role(app, role, path, status):
    with app.test_client(role=role) as client:
        assert client.get(path).status_code == status


def test_donation_form_errors_are_next_to_their_fields_and_nothing_is_written(app, res_db, dong):
    before = (_count(res_db, "donations"), _count(res_db, "stock_movements"))
    bad = _donation(
        f"P-CC-{dong}", item="", quantity="열두", received_on="2099-01-01", minor_category="x"
    )
    with app.test_client(role="dong") as client:
        page = client.post("/resources/new/donation", data=bad)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    for field in ("item", "quantity", "received_on", "minor_category"):
        # the message right after the field's input, inside its label
        assert re.search(
            rf'id="field-{field}">.*?aria-invalid="true".*?<span class="vv-field-error" '
            rf'id="error-{field}" data-field="{field}">',
            html,
            re.S,
        ), field
    assert "필수 항목입니다." in html and "숫자를 입력하세요." in html
    assert 'value="열두"' in html  # what was typed stays
    assert (_count(res_db, "donations"), _count(res_db, "stock_movements")) == before


def test_dong_leader_may_not_use_another_dongs_centre(app, res_db, dong):
    with Session(res_db["engine"]) as session:
        other = session.execute(
            text("""SELECT external_id FROM providers WHERE kind = 'community_centre'
                AND external_id <> :mine ORDER BY external_id LIMIT 1"""),
            {"mine": f"P-CC-{dong}"},
        ).scalar()
    with app.test_client(role="dong") as client:
        page = client.post("/resources/new/donation", data=_donation(other))
    assert page.status_code == 400
    assert 'data-field="centre">담당 센터가 아닙니다.' in page.get_data(as_text=True)


def test_donation_then_transfer_updates_both_centres_stock(app, res_db, dong):
    mine = f"P-CC-{dong}"
    with app.test_client(role="dong") as client:
        done = client.post("/resources/new/donation", data=_donation(mine, item="깍두기"))
        assert done.status_code == 303 and "done=donation" in done.headers["Location"]
        page = client.get("/resources").get_data(as_text=True)
        lot = re.search(rf'data-lot="({mine}\|side_dishes\|깍두기\|통\|[0-9-]+)"', page).group(1)
        assert 'data-state="expiring"' in page  # 10 days left
        form = client.get("/resources/new/transfer", query_string={"lot": lot})
        assert f'value="{lot}" selected' in form.get_data(as_text=True)
        with Session(res_db["engine"]) as session:
            other = session.execute(
                text("""SELECT external_id FROM providers WHERE kind = 'community_centre'
                    AND external_id <> :mine ORDER BY external_id LIMIT 1"""),
                {"mine": mine},
            ).scalar()
        too_much = {"lot": lot, "to_centre": other, "quantity": "13", "moved_on": AS_OF.isoformat()}
        refused = client.post("/resources/new/transfer", data=too_much)
        assert refused.status_code == 400
        assert 'data-field="quantity">재고(12)보다 많습니다.' in refused.get_data(as_text=True)
        moved = client.post("/resources/new/transfer", data=too_much | {"quantity": "5"})
        assert moved.status_code == 303
    with app.test_client(role="leader") as client:
        page = client.get("/resources").get_data(as_text=True)
    lots = dict(
        re.findall(r'data-lot="([^"]+)" data-state="[a-z]+">.*?rs-num">([\d.]+) ', page, re.S)
    )
    expires = lot.rsplit("|", 1)[1]
    assert lots[lot] == "7"
    assert lots[f"{other}|side_dishes|깍두기|통|{expires}"] == "5"


def test_report_page_and_csv_sum_the_donations(app, res_db, dong):
    mine = f"P-CC-{dong}"
    with app.test_client(role="dong") as client:
        for q in ("3", "4"):
            assert (
                client.post(
                    "/resources/new/donation",
                    data=_donation(
                        mine,
                        donor="DN-T1",
                        item="쌀",
                        minor_category="rice",
                        unit="포",
                        quantity=q,
                        expires_on="",
                    ),
                ).status_code
                == 303
            )
        month = (AS_OF - dt.timedelta(days=3)).isoformat()[:7]
        page = client.get("/resources/report", query_string={"from": month, "to": month})
        assert page.status_code == 200 and 'id="report-csv"' in page.get_data(as_text=True)
        download = client.get("/resources/report.csv", query_string={"from": month, "to": month})
        bad = client.get("/resources/report", query_string={"from": "2026-13", "to": month})
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    rice = [r for r in rows if r["minor_category"] == "rice" and r["donor_id"] == "DN-T1"]
    assert len(rice) == 1 and float(rice[0]["collected_quantity"]) == 7
    assert rice[0]["donor_name"].startswith("'=")  # no formula in a spreadsheet
    assert rice[0]["area_code"] == dong and rice[0]["major_category"] == "food"
    assert bad.status_code == 400
    assert 'data-field="from">월을 입력하세요 (YYYY-MM).' in bad.get_data(as_text=True)


def test_sponsorship_payment_status_and_alert(app, res_db):
    ends = (AS_OF + dt.timedelta(days=20)).isoformat()
    with app.test_client(role="leader") as client:
        centre = f"P-CC-{res_db['need_dong']}"
        made = client.post(
            "/resources/new/sponsorship",
            data={
                "donor": "DN-T2",
                "household": res_db["household"],
                "centre": centre,
                "programme": "100가정 보듬기",
                "starts_on": "2026-06-01",
                "ends_on": ends,
                "monthly_amount_krw": "100,000",
                "continues": "",
            },
        )
        assert made.status_code == 303
        page = client.get("/resources/sponsorships").get_data(as_text=True)
        sponsorship = re.search(r'id="alerts">.*?data-sponsorship="([^"]+)"', page, re.S).group(1)
        paid = client.post(
            "/resources/new/payment",
            data={
                "sponsorship": sponsorship,
                "month": AS_OF.isoformat()[:7],
                "amount_krw": "100000",
                "received_on": AS_OF.isoformat(),
            },
        )
        assert paid.status_code == 303
        twice = client.post(
            "/resources/new/payment",
            data={
                "sponsorship": sponsorship,
                "month": AS_OF.isoformat()[:7],
                "amount_krw": "100000",
                "received_on": AS_OF.isoformat(),
            },
        )
        assert twice.status_code == 400
        assert "이 달은 이미 납부했습니다." in twice.get_data(as_text=True)
        page = client.get("/resources/sponsorships").get_data(as_text=True)
    row = re.search(rf'<tr data-sponsorship="{sponsorship}">.*?</tr>', page, re.S).group(0)
    assert f'data-month="{AS_OF.isoformat()[:7]}" data-status="paid"' in row
    previous = (AS_OF.replace(day=1) - dt.timedelta(days=1)).isoformat()[:7]
    assert f'data-month="{previous}" data-status="missing"' in row


def test_suggestions_page_and_api(app, res_db):
    need = res_db["need"]
    with app.test_client(role="leader") as client:
        page = client.get("/resources/suggestions", query_string={"need": need})
        api = client.get("/api/resources/suggestions", query_string={"need": need})
        missing = client.get("/api/resources/suggestions", query_string={"need": "N-none"})
        no_need = client.get("/api/resources/suggestions")
    assert page.status_code == 200 and need in page.get_data(as_text=True)
    assert api.status_code == 200
    body = api.get_json()
    assert body["need"]["need_id"] == need
    assert set(body["minor_categories"]) >= {"rice", "side_dishes"}
    distances = [(not s["same_dong"], s["distance_m"]) for s in body["stock"]]
    assert distances == sorted(distances)
    assert missing.status_code == 404 and no_need.status_code == 400
    with app.test_client(role="agency") as client:
        assert (
            client.get("/api/resources/suggestions", query_string={"need": need}).status_code == 403
        )


def test_agency_sees_only_its_own_providers_donations(app, res_db):
    with Session(res_db["engine"]) as session:
        org = session.execute(
            text("""SELECT p.id, p.external_id FROM users u JOIN providers p ON p.id = u.provider_id
                WHERE u.username = 't.agency'""")
        ).one()
        session.execute(
            text("""INSERT INTO donations (external_id, donor_id, centre_id, received_on,
                minor_category, item, amount_krw, entered_by)
                SELECT 'DO-AGENCY', id, :p, '2026-10-01', 'vouchers', '기관 상품권', 50000, 't'
                FROM donors WHERE external_id = 'DN-T2'"""),
            {"p": org.id},
        )
        session.commit()
    with app.test_client(role="agency") as client:
        page = client.get("/resources").get_data(as_text=True)
    assert 'data-donation="DO-AGENCY"' in page
    assert "김치 1kg" not in page and "깍두기" not in page  # centres' donations
    assert 'id="actions"' not in page  # no forms


def test_english_page(app):
    with app.test_client(role="leader") as client:
        page = client.get("/resources/new/donation?lang=en").get_data(as_text=True)
    assert "Donation received" in page and "Use-by date" in page


@pytest.fixture(scope="module")
def server(app):
    with served(app) as url:
        yield url


def test_a_tablet_adds_a_donor_then_their_donation(server, res_db, dong):
    """At a tablet's size: a bad quantity is shown next to its field, then the donation saves
    and its lot shows in the stock; nothing is wider than the screen."""
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, server, "dong")
        page.goto(f"{server}/resources/new/donor")
        page.locator('input[name="name"]').fill("<b>연희 나눔가게</b>")
        page.locator('select[name="kind"]').select_option("company")
        page.locator("#resources-form button[type=submit]").click()
        page.wait_for_selector('#resources-form[data-form="donation"]')
        assert "연희 나눔가게" in page.locator('select[name="donor"] option:checked').inner_text()
        page.locator('select[name="minor_category"]').select_option("rice")
        page.locator('input[name="item"]').fill("햅쌀 20kg")
        page.locator('input[name="quantity"]').fill("0")
        page.locator('input[name="unit"]').fill("포")
        page.locator("#resources-form button[type=submit]").click()
        page.wait_for_selector("#error-quantity")
        assert (
            page.locator("#error-quantity").inner_text() == "0보다 크고 1,000,000 이하여야 합니다."
        )
        assert page.locator('input[name="item"]').input_value() == "햅쌀 20kg"
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        page.locator('input[name="quantity"]').fill("2")
        page.locator("#resources-form button[type=submit]").click()
        page.wait_for_selector("#done")
        row = page.locator("#stock tr", has_text="햅쌀 20kg")
        assert "2 포" in row.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        assert errors == []
