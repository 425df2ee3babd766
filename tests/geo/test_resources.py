"""Resources (geo.resources, geo.sponsorships, geo.resource_report) on hand-built rows: stock
arithmetic, both sides of a transfer, discards, bad input naming its field with nothing
written, sponsorship status and alerts, the report's sums and the suggestions' order."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.resource_report import monthly_report, report_totals, suggestions
from geo.resources import (
    CentreScope,
    ResourceError,
    add_donor,
    discard,
    lot_key,
    record_donation,
    stock,
    transfer,
)
from geo.scope import Scope
from geo.sponsorships import add_sponsorship, record_payment, sponsorship_status
from tests.conftest import count

pytestmark = pytest.mark.db

TODAY = dt.date(2026, 11, 20)
ALL = CentreScope(None, True, None)


@pytest.fixture
def world(db):
    """Three dongs, a community centre in each (A, B far C), an agency, a donor, a household."""
    areas = db.execute(
        text("SELECT id, code FROM areas WHERE district_code = '11410' ORDER BY code")
    ).all()
    # A and B: the two dongs nearest each other; C: the dong farthest from A
    a = areas[0]
    rest = db.execute(
        text("""SELECT o.id, o.code FROM areas a, areas o WHERE a.id = :a AND o.id <> a.id
            AND o.district_code = '11410'
            ORDER BY ST_Distance(a.label_point::geography, o.label_point::geography)"""),
        {"a": a.id},
    ).all()
    b, c = rest[0], rest[-1]
    ids = {}
    for key, area in (("A", a), ("B", b), ("C", c)):
        ids[key] = db.execute(
            text("""INSERT INTO providers (external_id, name, sector, kind, area_id)
                VALUES (:x, :n, 'public', 'community_centre', :a) RETURNING id"""),
            {"x": f"T-CC-{key}", "n": f"센터 {key}", "a": area.id},
        ).scalar()
    ids["AG"] = db.execute(
        text("""INSERT INTO providers (external_id, name, sector, kind, area_id)
            VALUES ('T-AG', '푸드뱅크 T', 'private', 'food_bank', :a) RETURNING id"""),
        {"a": b.id},
    ).scalar()
    db.execute(
        text("""INSERT INTO donors (external_id, name, kind, entered_by)
            VALUES ('T-DN1', '후원자 1', 'company', 't'),
                   ('T-DN2', '후원자 2', 'individual', 't')""")
    )
    hh = db.execute(
        text("""INSERT INTO households (external_id, area_id, size, monthly_income_krw, geom,
            nearest_community_centre_m, nearest_senior_or_welfare_m)
            SELECT 'T-H1', id, 1, 0, label_point, 0, 0 FROM areas WHERE id = :a RETURNING id"""),
        {"a": a.id},
    ).scalar()
    hh_b = db.execute(
        text("""INSERT INTO households (external_id, area_id, size, monthly_income_krw, geom,
            nearest_community_centre_m, nearest_senior_or_welfare_m)
            SELECT 'T-H2', id, 1, 0, label_point, 0, 0 FROM areas WHERE id = :a RETURNING id"""),
        {"a": b.id},
    ).scalar()
    res = {}
    for key, household in (("r1", hh), ("r2", hh_b)):
        res[key] = db.execute(
            text("""INSERT INTO residents (external_id, household_id, name, birth_year, sex,
                lives_alone, has_disability, registered_on)
                VALUES (:x, :h, '이름', 1940, 'F', true, false, '2020-01-01') RETURNING id"""),
            {"x": f"T-{key}", "h": household},
        ).scalar()
    db.execute(
        text("""INSERT INTO needs (external_id, resident_id, category, status, identified_on,
            entered_by) VALUES ('T-N1', :r, 'daily_living', 'open', '2026-10-01', 't')"""),
        {"r": res["r1"]},
    )
    return {"areas": {"A": a, "B": b, "C": c}, "ids": ids, "res": res}


def donate(db, centre, minor="rice", item="쌀 10kg", q="10", unit="포", exp="", on="2026-11-01"):
    return record_donation(
        db,
        ALL,
        {
            "donor": "T-DN1",
            "centre": centre,
            "received_on": on,
            "minor_category": minor,
            "item": item,
            "quantity": q,
            "unit": unit,
            "expires_on": exp,
        },
        user="tester",
        today=TODAY,
    )


def lots(db, centre=None):
    return {
        (r["centre_id"], r["item"], r["expires_on"]): r["quantity"]
        for r in stock(db, ALL, today=TODAY)
        if r["centre_id"].startswith("T-") and (centre is None or r["centre_id"] == centre)
    }


def test_stock_is_the_signed_sum_per_lot(db, world):
    donate(db, "T-CC-A", q="10", exp="2026-12-31")
    donate(db, "T-CC-A", q="5", exp="2026-12-31")
    donate(db, "T-CC-A", q="3", exp="2027-01-31")  # another expiry: another lot
    assert lots(db) == {
        ("T-CC-A", "쌀 10kg", dt.date(2026, 12, 31)): 15,
        ("T-CC-A", "쌀 10kg", dt.date(2027, 1, 31)): 3,
    }
    assert count(db, "stock_movements") >= 3
    lot = lot_key("T-CC-A", "rice", "쌀 10kg", "포", dt.date(2026, 12, 31))
    discard(db, ALL, {"lot": lot, "quantity": "4", "moved_on": "2026-11-10"}, user="t", today=TODAY)
    assert lots(db)[("T-CC-A", "쌀 10kg", dt.date(2026, 12, 31))] == 11
    # no quantity: the whole rest of the lot; the lot then leaves the stock list
    discard(db, ALL, {"lot": lot, "moved_on": "2026-11-10"}, user="t", today=TODAY)
    assert ("T-CC-A", "쌀 10kg", dt.date(2026, 12, 31)) not in lots(db)


def test_money_only_donation_moves_no_stock(db, world):
    before = count(db, "stock_movements")
    record_donation(
        db,
        ALL,
        {
            "donor": "T-DN2",
            "centre": "T-CC-A",
            "received_on": "2026-11-02",
            "minor_category": "livelihood_cash",
            "item": "성금",
            "amount_krw": "500,000",
        },
        user="t",
        today=TODAY,
    )
    assert count(db, "stock_movements") == before


def test_transfer_writes_both_sides(db, world):
    donate(db, "T-CC-A", q="10", exp="2026-12-31")
    lot = lot_key("T-CC-A", "rice", "쌀 10kg", "포", dt.date(2026, 12, 31))
    transfer(
        db,
        ALL,
        {"lot": lot, "to_centre": "T-CC-B", "quantity": "4", "moved_on": "2026-11-15"},
        user="t",
        today=TODAY,
    )
    assert lots(db) == {
        ("T-CC-A", "쌀 10kg", dt.date(2026, 12, 31)): 6,
        ("T-CC-B", "쌀 10kg", dt.date(2026, 12, 31)): 4,
    }
    rows = db.execute(
        text("""SELECT kind, centre_id, counterpart_centre_id FROM stock_movements
            WHERE kind LIKE 'transferred%' ORDER BY kind""")
    ).all()
    ids = world["ids"]
    assert [tuple(r) for r in rows] == [
        ("transferred_in", ids["B"], ids["A"]),
        ("transferred_out", ids["A"], ids["B"]),
    ]


def test_transfer_more_than_in_stock_names_quantity_and_writes_nothing(db, world):
    donate(db, "T-CC-A", q="2")
    lot = lot_key("T-CC-A", "rice", "쌀 10kg", "포", None)
    before = count(db, "stock_movements")
    with pytest.raises(ResourceError) as error:
        transfer(
            db,
            ALL,
            {"lot": lot, "to_centre": "T-CC-A", "quantity": "3", "moved_on": "2026-12-01"},
            user="t",
            today=TODAY,
        )
    assert dict(error.value.problems).keys() == {"to_centre", "quantity", "moved_on"}
    assert count(db, "stock_movements") == before


def test_donation_errors_name_each_field(db, world):
    before = (count(db, "donations"), count(db, "stock_movements"))
    with pytest.raises(ResourceError) as error:
        record_donation(
            db,
            ALL,
            {
                "donor": "NO-SUCH",
                "centre": "T-CC-A",
                "received_on": "2026-13-01",
                "minor_category": "caviar",
                "item": "",
                "quantity": "-1",
                "unit": "포",
            },
            user="t",
            today=TODAY,
        )
    assert set(dict(error.value.problems)) == {
        "donor",
        "received_on",
        "minor_category",
        "item",
        "quantity",
    }
    assert (count(db, "donations"), count(db, "stock_movements")) == before


def test_read_only_scope_may_not_write(db, world):
    agency = CentreScope(frozenset([world["ids"]["AG"]]), False, frozenset())
    with pytest.raises(ResourceError) as error:
        record_donation(
            db,
            agency,
            {
                "donor": "T-DN1",
                "centre": "T-AG",
                "received_on": "2026-11-01",
                "minor_category": "rice",
                "item": "쌀",
                "quantity": "1",
                "unit": "포",
            },
            user="t",
            today=TODAY,
        )
    assert dict(error.value.problems) == {"centre": "not a centre you manage"}
    with pytest.raises(ResourceError):
        add_donor(db, agency, {"name": "x", "kind": "company"}, user="t")


def test_stock_marks_expiring_and_expired(db, world):
    donate(db, "T-CC-A", item="빵", exp="2026-11-19", on="2026-11-01")  # expired yesterday
    donate(db, "T-CC-A", item="우유", exp="2026-12-04", on="2026-11-01")  # day 14: expiring
    donate(db, "T-CC-A", item="라면", exp="2026-12-05", on="2026-11-01")  # day 15: ok
    states = {
        r["item"]: r["state"] for r in stock(db, ALL, today=TODAY) if r["centre_id"] == "T-CC-A"
    }
    assert states == {"빵": "expired", "우유": "expiring", "라면": "ok"}


def test_sponsorship_status_payments_and_alerts(db, world):
    base = {
        "donor": "T-DN1",
        "household": "T-H1",
        "centre": "T-CC-A",
        "programme": "100가정 보듬기",
        "monthly_amount_krw": "100000",
    }
    ending = add_sponsorship(
        db, ALL, base | {"starts_on": "2026-01-01", "ends_on": "2026-12-15"}, user="t"
    )
    long = add_sponsorship(
        db, ALL, base | {"starts_on": "2026-09-01", "ends_on": "2027-08-31"}, user="t"
    )
    for month in ("2026-09", "2026-10"):
        record_payment(
            db,
            ALL,
            {
                "sponsorship": ending,
                "month": month,
                "amount_krw": "100000",
                "received_on": "2026-11-01",
            },
            user="t",
            today=TODAY,
        )
    with pytest.raises(ResourceError) as error:
        record_payment(
            db,
            ALL,
            {
                "sponsorship": ending,
                "month": "2026-10",
                "amount_krw": "0",
                "received_on": "2026-11-01",
            },
            user="t",
            today=TODAY,
        )
    assert dict(error.value.problems) == {
        "month": "already paid",
        "amount_krw": "must be more than 0 and at most 100,000,000,000",
    }
    status = sponsorship_status(db, ALL, today=TODAY, months=3)
    assert status["months"] == ["2026-09", "2026-10", "2026-11"]
    by_id = {r["external_id"]: r for r in status["rows"]}
    assert by_id[ending]["status"] == {"2026-09": "paid", "2026-10": "paid", "2026-11": "missing"}
    assert by_id[long]["missing_count"] == 3
    assert [r["external_id"] for r in status["alerts"]] == [ending]  # 25 days left
    # a successor clears the alert
    add_sponsorship(
        db,
        ALL,
        base | {"starts_on": "2026-12-16", "ends_on": "2027-12-15", "continues": ending},
        user="t",
    )
    assert sponsorship_status(db, ALL, today=TODAY)["alerts"] == []


def test_sponsorship_household_outside_the_dongs_is_refused(db, world):
    codes = frozenset([world["areas"]["C"].code])
    scope = CentreScope(frozenset([world["ids"]["C"]]), True, codes)
    with pytest.raises(ResourceError) as error:
        add_sponsorship(
            db,
            scope,
            {
                "donor": "T-DN1",
                "household": "T-H1",
                "centre": "T-CC-A",
                "programme": "p",
                "starts_on": "2026-02-01",
                "ends_on": "2026-01-01",
                "monthly_amount_krw": "x",
            },
            user="t",
        )
    assert set(dict(error.value.problems)) == {
        "household",
        "centre",
        "ends_on",
        "monthly_amount_krw",
    }


def test_report_sums_collection_and_distribution(db, world):
    donate(db, "T-CC-A", q="10", on="2026-10-05")
    donate(db, "T-CC-A", q="5", on="2026-10-20")
    donate(db, "T-CC-A", q="7", on="2026-11-02")
    res = world["res"]["r2"]  # lives in dong B
    record = db.execute(
        text("""INSERT INTO support_records (external_id, resident_id, provider_id, category,
            item, quantity, unit, provided_on, minor_category, funding, entered_by)
            VALUES ('T-S1', :r, :p, 'daily_living', '쌀 10kg', 4, '포', '2026-10-25', 'rice',
            'donation', 't') RETURNING id"""),
        {"r": res, "p": world["ids"]["A"]},
    ).scalar()
    db.execute(
        text("""INSERT INTO stock_movements (centre_id, kind, moved_on, minor_category, item,
            unit, quantity, support_record_id, entered_by)
            VALUES (:c, 'issued', '2026-10-25', 'rice', '쌀 10kg', '포', 4, :s, 't')"""),
        {"c": world["ids"]["A"], "s": record},
    )
    scope = CentreScope(frozenset([world["ids"]["A"]]), True, None)
    rows = monthly_report(db, scope, first=dt.date(2026, 10, 1), last=dt.date(2026, 10, 1))
    a, b = world["areas"]["A"].code, world["areas"]["B"].code
    got = {
        (r["month"], r["area_code"], r["donor_id"]): (
            r["collected_quantity"],
            r["distributed_quantity"],
        )
        for r in rows
    }
    assert got == {("2026-10", a, "T-DN1"): (15, 0), ("2026-10", b, ""): (0, 4)}
    assert report_totals(rows)["collected_quantity"] == 15
    both = monthly_report(db, scope, first=dt.date(2026, 10, 1), last=dt.date(2026, 11, 1))
    assert report_totals(both)["collected_quantity"] == 22


def test_suggestions_same_dong_first_then_nearest(db, world):
    for centre in ("T-CC-C", "T-CC-B", "T-CC-A"):
        donate(db, centre, minor="side_dishes", item="밑반찬", q="3", exp="2026-12-31")
    donate(db, "T-CC-B", minor="side_dishes", item="김치", q="2", exp="2026-11-19")  # expired
    donate(db, "T-CC-B", minor="medicine", item="파스", q="2")  # another domain
    db.execute(
        text("""INSERT INTO support_records (external_id, resident_id, provider_id, category,
            item, quantity, unit, provided_on, minor_category, funding, entered_by)
            VALUES ('T-S2', :r, :p, 'daily_living', '도시락', 1, '개', '2026-06-01',
            'meal_delivery', 'donation', 't')"""),
        {"r": world["res"]["r2"], "p": world["ids"]["AG"]},
    )
    found = suggestions(db, Scope.everything(), "T-N1", today=TODAY)
    mine = [r for r in found["stock"] if r["centre_id"].startswith("T-")]
    assert [r["centre_id"] for r in mine] == ["T-CC-A", "T-CC-B", "T-CC-C"]
    assert mine[0]["same_dong"] and mine[1]["distance_m"] < mine[2]["distance_m"]
    assert {r["item"] for r in mine} == {"밑반찬"}
    assert [a["provider_id"] for a in found["agencies"] if a["provider_id"] == "T-AG"] == ["T-AG"]
    # out of the caller's scope: not found
    assert suggestions(db, Scope.of_areas([world["areas"]["C"].code]), "T-N1", today=TODAY) is None
