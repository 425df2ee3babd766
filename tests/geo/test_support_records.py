"""Recording support, needs and consent (geo.support_records through visitmap.usecases.support):
each bad field named with nothing written, who entered, the stock issue on give, the need
moved on, safe retries, who may write for whom, and the consent log; on hand-built rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.accounts import create_user, scope_for
from geo.scope import Scope
from geo.support_records import (
    RecordIdConflict,
    SupportError,
    lookup_residents,
    mask_name,
    stock_on_hand,
)
from tests.conftest import count
from visitmap.errors import Forbidden
from visitmap.usecases.support import record_need, record_support, set_consent

pytestmark = pytest.mark.db

TODAY = dt.date(2026, 11, 20)


def _resident(db, external_id: str, area_id: int, name: str, year: int) -> int:
    household = db.execute(
        text("""INSERT INTO households (external_id, area_id, size, monthly_income_krw, geom,
                nearest_community_centre_m, nearest_senior_or_welfare_m)
            SELECT :ext, id, 1, 0, label_point, 0, 0 FROM areas WHERE id = :area RETURNING id"""),
        {"ext": "H-" + external_id, "area": area_id},
    ).scalar_one()
    return db.execute(
        text("""INSERT INTO residents (external_id, household_id, name, birth_year, sex,
                lives_alone, has_disability, registered_on)
            VALUES (:ext, :hh, :name, :year, 'F', true, false, '2020-01-01') RETURNING id"""),
        {"ext": external_id, "hh": household, "name": name, "year": year},
    ).scalar_one()


def _provider(db, external_id: str, kind: str, sector: str, area_id=None) -> int:
    return db.execute(
        text("""INSERT INTO providers (external_id, name, sector, kind, area_id)
            VALUES (:x, :x, :s, :k, :a) RETURNING id"""),
        {"x": external_id, "s": sector, "k": kind, "a": area_id},
    ).scalar_one()


@pytest.fixture
def town(db):
    """Two dongs; residents A and C in the first, B (same name and year as A) in the second;
    the first dong's community centre with 10 포 of rice in stock; a food bank; an open need
    of A; accounts: agency (food bank), centre staff (leader of the first dong, of the
    centre), leader of the second dong (no organisation), admin, analyst, district leader."""
    areas = db.execute(text("SELECT id, code FROM areas ORDER BY code LIMIT 2")).all()
    ids = {
        "A": _resident(db, "R-SA", areas[0].id, "김영희", 1950),
        "B": _resident(db, "R-SB", areas[1].id, "김영희", 1950),
        "C": _resident(db, "R-SC", areas[0].id, "박철수", 1960),
        "centre": _provider(db, "P-TCC", "community_centre", "public", areas[0].id),
        "bank": _provider(db, "P-TBANK", "food_bank", "private"),
    }
    db.execute(
        text("""INSERT INTO stock_movements (centre_id, kind, moved_on, minor_category, item,
                unit, quantity, expires_on, entered_by)
            VALUES (:c, 'received', '2026-11-01', 'rice', '쌀 10kg', '포', 10, '2027-01-31',
                'test')"""),
        {"c": ids["centre"]},
    )
    db.execute(
        text("""INSERT INTO needs (external_id, resident_id, category, status, identified_on,
                entered_by) VALUES ('N-SA', :r, 'daily_living', 'open', '2026-11-01', 'test')"""),
        {"r": ids["A"]},
    )
    specs = {
        "agency": {"roles": ["agency"], "org": "P-TBANK"},
        "centre": {"roles": ["leader"], "area_codes": [areas[0].code], "org": "P-TCC"},
        "leader2": {"roles": ["leader"], "area_codes": [areas[1].code]},
        "district": {"roles": ["leader"], "all_areas": True},
        "admin": {"roles": ["admin"]},
        "analyst": {"roles": ["analyst"]},
    }
    accounts = {
        role: create_user(db, f"s.{role}", display_name=role, password=None, **spec)
        for role, spec in specs.items()
    }
    return ids | {"accounts": accounts, "areas": areas}


def _rice(**changes) -> dict:
    return {
        "record_id": "S-T1",
        "resident": "R-SA",
        "minor_category": "rice",
        "item": "쌀 10kg",
        "quantity": 2,
        "unit": "포",
        "funding": "donation",
        "provided_on": "2026-11-19",
        "expires_on": "2027-01-31",
    } | changes


def test_an_agency_records_support_and_the_person_enters_its_scope(db, town):
    agency = town["accounts"]["agency"]
    assert town["A"] not in (scope_for(db, agency, today=TODAY).resident_ids or ())
    summary = record_support(db, agency, _rice(), today=TODAY)
    assert summary["replayed"] is False
    assert summary["provider_id"] == "P-TBANK" and summary["entered_by"] == "s.agency"
    assert (summary["major_category"], summary["category"]) == ("food", "daily_living")
    stored = db.execute(
        text(
            "SELECT entered_by, funding, minor_category FROM support_records "
            "WHERE external_id = 'S-T1'"
        )
    ).one()
    assert tuple(stored) == ("s.agency", "donation", "rice")
    assert town["A"] in scope_for(db, agency, today=TODAY).resident_ids
    assert not summary["from_stock"]
    assert count(db, "stock_movements") == 1  # an agency's own goods: no centre stock touched


def test_every_bad_field_is_named_and_nothing_is_written(db, town):
    before = count(db, "support_records")
    bad = _rice(
        record_id="bad id!",
        resident="R-NONE",
        minor_category="caviar",
        item="",
        quantity=-1,
        unit=None,
        amount_krw=None,
        funding="lottery",
        recurring_period="daily",
        provided_on="2026-12-01",
        need_met=True,
        need=None,
    )
    with pytest.raises(SupportError) as caught:
        record_support(db, town["accounts"]["agency"], bad, today=TODAY)
    fields = {field for field, _ in caught.value.problems}
    assert fields == {
        "record_id", "resident", "minor_category", "item", "quantity", "unit", "funding",
        "recurring_period", "provided_on", "need_met",
    }  # fmt: skip
    assert count(db, "support_records") == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": "many"}, "quantity"),
        ({"amount_krw": "12.5"}, "amount_krw"),
        ({"provided_on": "19/11/2026"}, "provided_on"),
        ({"expires_on": "2026-11-01"}, "expires_on"),
        ({"from_stock": "maybe"}, "from_stock"),
        ({"item": "쌀" * 201}, "item"),
        ({"quantity": None, "unit": None, "amount_krw": None}, "quantity"),
        ({"need": "N-NONE"}, "need"),
        ({"provided_on": "1999-12-31"}, "provided_on"),
        ({"provider": "P-TCC"}, "provider"),  # agency staff: their own organisation only
        ({"item": 5}, "item"),
    ],
)
def test_one_bad_field_is_named(db, town, changes, field):
    with pytest.raises(SupportError) as caught:
        record_support(db, town["accounts"]["agency"], _rice(**changes), today=TODAY)
    assert caught.value.field == field, caught.value.problems
    assert (
        count(db, "support_records") == 0
        or not db.execute(text("SELECT 1 FROM support_records WHERE external_id = 'S-T1'")).first()
    )


def test_a_retry_writes_nothing_and_a_reused_id_is_refused(db, town):
    agency = town["accounts"]["agency"]
    first = record_support(db, agency, _rice(), today=TODAY)
    again = record_support(db, agency, _rice(quantity="2", unit=" 포 "), today=TODAY)
    assert again["replayed"] is True and again["record_id"] == first["record_id"]
    assert count(db, "support_records") == 1
    with pytest.raises(RecordIdConflict):
        record_support(db, agency, _rice(quantity=3), today=TODAY)
    assert count(db, "support_records") == 1


def test_giving_from_the_centres_stock_writes_its_issue(db, town):
    staff = town["accounts"]["centre"]
    summary = record_support(db, staff, _rice(quantity=3, from_stock=True), today=TODAY)
    assert summary["from_stock"] and summary["provider_id"] == "P-TCC"
    issued = db.execute(
        text("""SELECT m.kind, m.quantity, m.unit, m.expires_on, m.entered_by, s.external_id
            FROM stock_movements m JOIN support_records s ON s.id = m.support_record_id""")
    ).one()
    assert tuple(issued) == ("issued", 3, "포", dt.date(2027, 1, 31), "s.centre", "S-T1")
    lot = (town["centre"], "rice", "쌀 10kg", "포", dt.date(2027, 1, 31))
    assert stock_on_hand(db, *lot) == 7
    # more than is left: refused, naming the quantity; nothing written
    with pytest.raises(SupportError) as caught:
        record_support(db, staff, _rice(record_id="S-T2", quantity=8, from_stock=True), today=TODAY)
    assert caught.value.field == "quantity" and "only 7 포" in str(caught.value)
    # another lot (another expiry) is not this stock
    with pytest.raises(SupportError):
        record_support(
            db,
            staff,
            _rice(record_id="S-T3", quantity=1, from_stock=True, expires_on="2027-02-01"),
            today=TODAY,
        )
    assert stock_on_hand(db, *lot) == 7 and count(db, "support_records") == 1


def test_only_a_community_centre_gives_from_stock(db, town):
    with pytest.raises(SupportError) as caught:
        record_support(db, town["accounts"]["agency"], _rice(from_stock=True), today=TODAY)
    assert caught.value.field == "from_stock"


def test_support_moves_its_need_on(db, town):
    agency = town["accounts"]["agency"]
    summary = record_support(db, agency, _rice(need="N-SA"), today=TODAY)
    assert (summary["need_id"], summary["need_status"]) == ("N-SA", "in_progress")
    summary = record_support(
        db, agency, _rice(record_id="S-T2", need="N-SA", need_met="on"), today=TODAY
    )
    assert summary["need_status"] == "met"
    resolved = db.execute(text("SELECT resolved_on FROM needs WHERE external_id = 'N-SA'"))
    assert resolved.scalar_one() == dt.date(2026, 11, 19)
    with pytest.raises(SupportError) as caught:  # a met need takes no more support
        record_support(db, agency, _rice(record_id="S-T3", need="N-SA"), today=TODAY)
    assert caught.value.field == "need"


def test_who_may_write_for_whom(db, town):
    accounts = town["accounts"]
    # a dong leader: only residents of their dong; without an organisation they name one
    with pytest.raises(SupportError) as caught:
        record_support(db, accounts["leader2"], _rice(provider="P-TBANK"), today=TODAY)
    assert caught.value.field == "resident"
    with pytest.raises(SupportError) as caught:
        record_support(db, accounts["leader2"], _rice(resident="R-SB"), today=TODAY)
    assert caught.value.field == "provider"
    done = record_support(
        db, accounts["leader2"], _rice(resident="R-SB", provider="P-TBANK"), today=TODAY
    )
    assert done["entered_by"] == "s.leader2"
    # centre staff: their centre only
    with pytest.raises(SupportError) as caught:
        record_support(db, accounts["centre"], _rice(record_id="S-X", provider="P-TBANK"),
                       today=TODAY)  # fmt: skip
    assert caught.value.field == "provider"
    # the admin names any provider; an analyst records nothing
    admin = record_support(
        db, accounts["admin"], _rice(record_id="S-ADM", provider="P-TCC"), today=TODAY
    )
    assert admin["provider_id"] == "P-TCC"
    with pytest.raises(Forbidden):
        record_support(db, accounts["analyst"], _rice(record_id="S-AN"), today=TODAY)


def test_a_need_is_recorded_with_who_entered_it(db, town):
    staff = town["accounts"]["centre"]
    need = {"need_id": "N-T1", "resident": "R-SC", "category": "health"}
    summary = record_need(db, staff, need, today=TODAY, source="api")
    assert (summary["status"], summary["entered_by"], summary["identified_on"]) == (
        "open", "s.centre", TODAY.isoformat(),
    )  # fmt: skip
    assert record_need(db, staff, need, today=TODAY, source="api")["replayed"]
    with pytest.raises(RecordIdConflict):
        record_need(db, staff, need | {"category": "legal"}, today=TODAY, source="api")
    with pytest.raises(SupportError) as caught:
        record_need(
            db,
            staff,
            {"need_id": "N-T2", "resident": "R-SB", "category": "wealth", "status": "met",
             "identified_on": "2027-01-01"},
            today=TODAY,
            source="api",
        )  # fmt: skip
    assert {f for f, _ in caught.value.problems} == {
        "resident", "category", "status", "identified_on",
    }  # fmt: skip
    assert count(db, "needs") == 2


def test_consent_is_set_withdrawn_and_logged(db, town):
    staff = town["accounts"]["centre"]
    state = set_consent(
        db, staff, "R-SA", {"consented": "yes", "decided_on": "2026-11-02"}, today=TODAY,
        source="form",
    )  # fmt: skip
    assert (state["consented"], state["decided_on"], state["changed"]) == (
        True, "2026-11-02", True,
    )  # fmt: skip
    again = set_consent(
        db, staff, "R-SA", {"consented": True, "decided_on": "2026-11-02"}, today=TODAY,
        source="api",
    )  # fmt: skip
    assert again["changed"] is False and len(again["events"]) == 1
    withdrawn = set_consent(db, staff, "R-SA", {"consented": False}, today=TODAY, source="api")
    assert withdrawn["consented"] is False and withdrawn["decided_on"] == TODAY.isoformat()
    assert [e["consented"] for e in withdrawn["events"]] == [False, True]
    assert [e["source"] for e in withdrawn["events"]] == ["api", "form"]
    assert withdrawn["events"][0]["recorded_by"] == "s.centre"
    current = db.execute(text("SELECT consented FROM sharing_consents WHERE resident_id = :r"),
                         {"r": town["A"]}).scalar_one()  # fmt: skip
    assert current is False


def test_who_may_set_consent(db, town):
    accounts = town["accounts"]
    for role in ("agency", "analyst"):
        with pytest.raises(Forbidden):
            set_consent(db, accounts[role], "R-SA", {"consented": True}, today=TODAY,
                        source="api")  # fmt: skip
    with pytest.raises(SupportError) as caught:  # another dong's leader
        set_consent(db, accounts["leader2"], "R-SA", {"consented": True}, today=TODAY,
                    source="api")  # fmt: skip
    assert caught.value.field == "resident"
    with pytest.raises(SupportError) as caught:
        set_consent(db, accounts["centre"], "R-SA", {"consented": "perhaps",
                    "decided_on": "soon"}, today=TODAY, source="api")  # fmt: skip
    assert {f for f, _ in caught.value.problems} == {"consented", "decided_on"}
    with pytest.raises(SupportError) as caught:
        set_consent(db, accounts["centre"], "R-SA", {}, today=TODAY, source="api")
    assert caught.value.field == "consented"
    assert count(db, "consent_events") == 0
    assert set_consent(db, accounts["admin"], "R-SB", {"consented": True}, today=TODAY,
                       source="api")["changed"]  # fmt: skip


def _warnings(db, resident_db_id: int) -> list[tuple[str, str]]:
    return [
        tuple(r)
        for r in db.execute(
            text("SELECT kind, level FROM support_warnings WHERE resident_id = :r ORDER BY kind"),
            {"r": resident_db_id},
        )
    ]


def test_a_write_refreshes_the_warnings_of_the_person_written_for(db, town):
    """after_write is wired to geo.support_warnings.refresh_for_residents: a second provider's
    rice within the window turns red at once; meeting the open need takes its omission away."""
    agency, staff = town["accounts"]["agency"], town["accounts"]["centre"]
    old_need = {"need_id": "N-OLD", "resident": "R-SC", "category": "health",
                "identified_on": "2026-09-01"}  # fmt: skip
    record_need(db, staff, old_need, today=TODAY, source="api")
    assert ("open_need", "red") in _warnings(db, town["C"])  # 80 days open, nothing meets it
    record_support(db, agency, _rice(), today=TODAY)
    assert not [w for w in _warnings(db, town["A"]) if w[0] == "duplicate"]
    record_support(db, staff, _rice(record_id="S-T2", provided_on="2026-11-18"), today=TODAY)
    assert ("duplicate", "red") in _warnings(db, town["A"])
    replayed = record_support(db, staff, _rice(record_id="S-T2", provided_on="2026-11-18"),
                              today=TODAY)  # fmt: skip
    assert replayed["replayed"] and _warnings(db, town["A"]).count(("duplicate", "red")) == 1
    medicine = {"record_id": "S-T3", "resident": "R-SC", "minor_category": "medicine",
                "item": "약", "amount_krw": 20000, "funding": "budget",
                "provided_on": "2026-11-19", "need_id": "N-OLD"}  # fmt: skip
    record_support(db, staff, medicine, today=TODAY)
    assert ("open_need", "red") not in _warnings(db, town["C"])


def test_lookup_by_exact_name_and_year(db, town):
    everywhere = lookup_residents(db, Scope.everything(), "김영희", 1950)
    assert [r["resident_id"] for r in everywhere] == ["R-SA", "R-SB"]
    first_dong = Scope.of_areas([town["areas"][0].code])
    assert [r["resident_id"] for r in lookup_residents(db, first_dong, "김영희", 1950)] == ["R-SA"]
    assert lookup_residents(db, Scope.everything(), "김영", 1950) == []
    assert lookup_residents(db, Scope.everything(), "김영희", 1951) == []
    assert [mask_name(n) for n in ("김영희", "이수", "남궁민수", "", None)] == [
        "김*희", "이*", "남**수", "", None,
    ]  # fmt: skip
