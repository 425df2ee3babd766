"""The dashboard's counts and the consent rules per role, on a real PostGIS database.

Warnings are inserted into ``support_warnings`` directly, as ``geo.support_warnings`` stores
them; support records, consents and providers are hand-built.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.support_dashboard import (
    DashboardFilterError,
    WarningFilters,
    list_warnings,
    resident_warnings,
    summary,
)
from geo.support_visibility import Viewer, centre_contact, visible_records
from sharing.config import load_warning_config

pytestmark = pytest.mark.db

TODAY = dt.date(2026, 11, 2)
DONG, OTHER = "1141052000", "1141055500"
CONFIG = load_warning_config()


def _one(db, sql, **params):
    return db.execute(text(sql), params).scalar_one()


@pytest.fixture
def world(db):
    """Two dongs, three providers (a centre, two agencies), four residents, records."""
    ids = {}
    for code in (DONG, OTHER):
        ids[code] = _one(db, "SELECT id FROM areas WHERE code = :c", c=code)
    fac = _one(
        db,
        """INSERT INTO facilities (external_id, kind, name, address, area_id, geom)
        VALUES ('F-T1', 'community_centre', '천연동 주민센터', '서울 서대문구 천연동 1', :a,
                ST_SetSRID(ST_MakePoint(126.96, 37.57), 4326)) RETURNING id""",
        a=ids[DONG],
    )
    for ext, name, kind, area, facility in (
        ("P-CC-T", "천연동 맞춤형복지팀", "community_centre", ids[DONG], fac),
        ("P-A", "가나 푸드뱅크", "food_bank", None, None),
        ("P-B", "다라 복지관", "welfare_centre", None, None),
    ):
        ids[ext] = _one(
            db,
            """INSERT INTO providers (external_id, name, sector, kind, area_id, facility_id)
            VALUES (:e, :n, 'private', :k, :a, :f) RETURNING id""",
            e=ext,
            n=name,
            k=kind,
            a=area,
            f=facility,
        )
    for n, code in (("R-T1", DONG), ("R-T2", DONG), ("R-T3", OTHER), ("R-T4", DONG)):
        hh = _one(
            db,
            """INSERT INTO households (external_id, area_id, size, monthly_income_krw, geom)
            VALUES (:e, :a, 1, 500000, ST_SetSRID(ST_MakePoint(126.96, 37.57), 4326))
            RETURNING id""",
            e="H-" + n,
            a=ids[code],
        )
        ids[n] = _one(
            db,
            """INSERT INTO residents (external_id, household_id, name, birth_year, sex,
                lives_alone, has_disability, registered_on)
            VALUES (:e, :h, :name, 1944, 'F', true, false, '2020-01-01') RETURNING id""",
            e=n,
            h=hh,
            name="김" + n,
        )

    def record(ext, resident, provider, minor, day):
        return _one(
            db,
            """INSERT INTO support_records (external_id, resident_id, provider_id, category,
                item, quantity, unit, provided_on, minor_category, funding, entered_by)
            VALUES (:e, :r, :p, 'daily_living', :i, 1, '개', :d, :m, 'donation', 'test')
            RETURNING id""",
            e=ext,
            r=ids[resident],
            p=ids[provider],
            i="품목 " + ext,
            d=day,
            m=minor,
        )

    # R-T1: side dishes from A and B 4 days apart (a duplicate), no consent
    ids["S1"] = record("S-1", "R-T1", "P-A", "side_dishes", TODAY - dt.timedelta(days=10))
    ids["S2"] = record("S-2", "R-T1", "P-B", "side_dishes", TODAY - dt.timedelta(days=6))
    # B's rice for R-T1, 60 days before A's side dishes: another category, not hinted
    ids["S3"] = record("S-3", "R-T1", "P-B", "rice", TODAY - dt.timedelta(days=70))
    # R-T2: consented; records from A and B
    ids["S4"] = record("S-4", "R-T2", "P-A", "rice", TODAY - dt.timedelta(days=20))
    ids["S5"] = record("S-5", "R-T2", "P-B", "medicine", TODAY - dt.timedelta(days=5))
    db.execute(
        text("""INSERT INTO sharing_consents (resident_id, consented, decided_on, recorded_by)
            VALUES (:r, true, '2026-10-01', 'test')"""),
        {"r": ids["R-T2"]},
    )
    # R-T3 (other dong): supported by B only, no warning -> blue
    ids["S6"] = record("S-6", "R-T3", "P-B", "rice", TODAY - dt.timedelta(days=30))
    # R-T4: supported by A long ago (outside 90 days): not blue
    ids["S7"] = record("S-7", "R-T4", "P-A", "rice", TODAY - dt.timedelta(days=200))

    def warning(kind, level, resident, area, providers, records, **extra):
        db.execute(
            text("""INSERT INTO support_warnings (level, kind, resident_id, area_id,
                provider_ids, record_ids, minor_category, since, need_id)
                VALUES (:l, :k, :r, :a, :p, :rec, :m, :s, NULL)"""),
            {
                "l": level,
                "k": kind,
                "r": ids.get(resident),
                "a": ids[area],
                "p": providers,
                "rec": records,
                "m": extra.get("minor"),
                "s": extra.get("since"),
            },
        )

    warning(
        "duplicate",
        "red",
        "R-T1",
        DONG,
        [ids["P-A"], ids["P-B"]],
        [ids["S1"], ids["S2"]],
        minor="side_dishes",
        since=TODAY - dt.timedelta(days=6),
    )
    warning("need_due_soon", "yellow", "R-T2", DONG, [], [])
    warning("stock_expiring", "yellow", None, DONG, [ids["P-CC-T"]], [])
    return ids


def _agency(ids, provider):
    return Viewer("agency", provider_id=ids[provider])


def test_leader_sees_every_record_of_their_dong_in_full(db, world):
    records = visible_records(
        db, Viewer("full", frozenset({DONG})), world["R-T1"], DONG, config=CONFIG
    )
    assert [r["record_id"] for r in records] == ["S-2", "S-1", "S-3"]
    assert {r["shape"] for r in records} == {"full"}
    assert records[0]["item"] == "품목 S-2"
    # a leader of another dong sees none of them
    assert (
        visible_records(db, Viewer("full", frozenset({OTHER})), world["R-T1"], DONG, config=CONFIG)
        == []
    )


def test_agency_without_consent_sees_only_that_another_record_exists(db, world):
    records = visible_records(db, _agency(world, "P-A"), world["R-T1"], DONG, config=CONFIG)
    own = [r for r in records if r["shape"] == "full"]
    hints = [r for r in records if r["shape"] == "exists"]
    assert [r["record_id"] for r in own] == ["S-1"]
    assert len(hints) == 1  # B's side dishes within 14 days; B's rice is no hint
    hint = hints[0]
    assert hint["minor_category"] == "side_dishes" and hint["window_days"] == 14
    assert "provider" not in hint and "item" not in hint and "provided_on" not in hint
    assert hint["ask"] == {
        "provider_id": "P-CC-T",
        "name": "천연동 맞춤형복지팀",
        "address": "서울 서대문구 천연동 1",
    }


def test_agency_hint_ends_at_the_window(db, world):
    # B's side dishes moved to day 15 after A's: outside the 14-day window, no hint
    db.execute(
        text("UPDATE support_records SET provided_on = :d WHERE id = :i"),
        {"d": TODAY - dt.timedelta(days=10) + dt.timedelta(days=15), "i": world["S2"]},
    )
    records = visible_records(db, _agency(world, "P-A"), world["R-T1"], DONG, config=CONFIG)
    assert [r["shape"] for r in records] == ["full"]
    # day 14 is inside
    db.execute(
        text("UPDATE support_records SET provided_on = :d WHERE id = :i"),
        {"d": TODAY - dt.timedelta(days=10) + dt.timedelta(days=14), "i": world["S2"]},
    )
    records = visible_records(db, _agency(world, "P-A"), world["R-T1"], DONG, config=CONFIG)
    assert [r["shape"] for r in records] == ["full", "exists"]


def test_agency_with_consent_sees_provider_category_and_date_only(db, world):
    records = visible_records(db, _agency(world, "P-A"), world["R-T2"], DONG, config=CONFIG)
    by_shape = {r["shape"]: r for r in records}
    assert set(by_shape) == {"full", "shared"}
    shared = by_shape["shared"]
    assert shared == {
        "shape": "shared",
        "provider_id": "P-B",
        "provider": "다라 복지관",
        "major_category": "health",
        "major_label": "의료·건강",
        "minor_category": "medicine",
        "minor_label": "의약품",
        "provided_on": (TODAY - dt.timedelta(days=5)).isoformat(),
    }
    # withdrawn consent: back to existence only (medicine has no own record: nothing)
    db.execute(
        text("UPDATE sharing_consents SET consented = false WHERE resident_id = :r"),
        {"r": world["R-T2"]},
    )
    records = visible_records(db, _agency(world, "P-A"), world["R-T2"], DONG, config=CONFIG)
    assert [r["shape"] for r in records] == ["full"]


def test_no_role_sees_nothing(db, world):
    assert visible_records(db, Viewer("none"), world["R-T1"], DONG, config=CONFIG) == []


def test_centre_contact_is_none_without_a_centre(db, world):
    assert centre_contact(db, world["R-T3"]) is None


def test_summary_counts_per_dong_and_agency(db, world):
    result = summary(db, Viewer("full"), today=TODAY)
    areas = {a["code"]: a for a in result["areas"]}
    assert (areas[DONG]["red"], areas[DONG]["yellow"], areas[DONG]["blue"]) == (1, 2, 0)
    assert (areas[OTHER]["red"], areas[OTHER]["yellow"], areas[OTHER]["blue"]) == (0, 0, 1)
    providers = {p["provider_id"]: p for p in result["providers"]}
    assert (providers["P-A"]["red"], providers["P-A"]["blue"]) == (1, 0)
    assert (providers["P-B"]["red"], providers["P-B"]["blue"]) == (1, 1)
    assert providers["P-CC-T"]["yellow"] == 1
    assert result["totals"] == {"red": 1, "yellow": 2, "blue": 1}


def test_summary_filters_and_scope(db, world):
    dong_only = summary(db, Viewer("full", frozenset({OTHER})), today=TODAY)
    assert [a["code"] for a in dong_only["areas"]] == [OTHER]
    red = summary(db, Viewer("full"), today=TODAY, filters=WarningFilters(level="red"))
    assert red["totals"] == {"red": 1, "yellow": 0, "blue": 0}
    agency = summary(db, _agency(world, "P-A"), today=TODAY)
    assert [p["provider_id"] for p in agency["providers"]] == ["P-A"]
    for bad, field in (
        ({"level": "pink"}, "level"),
        ({"kind": "x"}, "kind"),
        ({"area": "0000000000"}, "area"),
        ({"provider": "P-none"}, "provider"),
    ):
        with pytest.raises(DashboardFilterError) as err:
            summary(db, Viewer("full"), today=TODAY, filters=WarningFilters(**bad))
        assert err.value.field == field


def test_drill_down_lists_people_and_records_shaped_by_visibility(db, world):
    full = list_warnings(db, Viewer("full"), config=CONFIG)
    assert full["total"] == 3
    first = full["warnings"][0]
    assert (first["level"], first["kind"], first["resident_id"]) == ("red", "duplicate", "R-T1")
    assert first["name"] == "김R-T1"
    assert sorted(r["record_id"] for r in first["records"]) == ["S-1", "S-2"]
    agency = list_warnings(
        db, _agency(world, "P-A"), config=CONFIG, filters=WarningFilters(kind="duplicate")
    )
    warning = agency["warnings"][0]
    assert warning["name"] is None
    assert [r["shape"] for r in warning["records"]] == ["full", "exists"]
    # an agency that has nothing to do with a warning does not see it
    other = list_warnings(db, _agency(world, "P-CC-T"), config=CONFIG)
    assert [w["kind"] for w in other["warnings"]] == ["stock_expiring"]


def test_resident_warnings(db, world):
    assert [w["kind"] for w in resident_warnings(db, world["R-T1"])] == ["duplicate"]
    assert resident_warnings(db, world["R-T3"]) == []


def test_agency_learns_other_providers_names_only_with_consent(db, world):
    page = list_warnings(
        db, _agency(world, "P-A"), config=CONFIG, filters=WarningFilters(kind="duplicate")
    )
    warning = page["warnings"][0]
    assert warning["providers"] == ["가나 푸드뱅크"] and warning["other_providers"] == 1
    db.execute(
        text("""INSERT INTO sharing_consents (resident_id, consented, decided_on, recorded_by)
            VALUES (:r, true, '2026-10-01', 'test')"""),
        {"r": world["R-T1"]},
    )
    page = list_warnings(
        db, _agency(world, "P-A"), config=CONFIG, filters=WarningFilters(kind="duplicate")
    )
    warning = page["warnings"][0]
    assert sorted(warning["provider_ids"]) == ["P-A", "P-B"] and warning["other_providers"] == 0
    assert [r["shape"] for r in warning["records"]] == ["shared", "full", "shared"]


def test_agency_sees_a_duplicate_between_others_only_if_involved(db, world):
    # B's duplicate of a resident A also supports: not A's to see; an open need is
    b_only = db.execute(
        text("""INSERT INTO support_warnings (level, kind, resident_id, area_id, provider_ids)
            VALUES ('red', 'duplicate', :r, :a, :p) RETURNING id"""),
        {"r": world["R-T2"], "a": world[DONG], "p": [world["P-B"], world["P-CC-T"]]},
    ).scalar_one()
    kinds = [w["kind"] for w in list_warnings(db, _agency(world, "P-A"), config=CONFIG)["warnings"]]
    assert kinds.count("duplicate") == 1 and "need_due_soon" in kinds
    assert b_only
