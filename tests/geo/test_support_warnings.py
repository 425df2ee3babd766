"""Computing and storing the shared support warnings on a real PostGIS database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.support_warnings import compute_all, list_warnings, refresh_for_residents
from tests.support_data import TODAY, build
from visitmap.errors import FieldError, NotFound

pytestmark = pytest.mark.db


def stored(db):
    return sorted(
        tuple(r)
        for r in db.execute(
            text("""SELECT w.kind, w.level, r.external_id,
                        (SELECT string_agg(s.external_id, ';' ORDER BY s.external_id)
                           FROM support_records s WHERE s.id = ANY(w.record_ids))
                    FROM support_warnings w LEFT JOIN residents r ON r.id = w.resident_id""")
        )
    )


EXPECTED = [
    ("duplicate", "red", "R-SW-1", "S-SW-1;S-SW-2"),
    ("near_duplicate", "yellow", "R-SW-4", "S-SW-3;S-SW-4"),
    ("need_due_soon", "yellow", "R-SW-3", None),
    ("open_need", "red", "R-SW-3", None),
    ("stock_expired", "red", None, None),
    ("stock_expiring", "yellow", None, None),
]


def test_compute_all_links_the_two_ids_and_replaces_the_table(db):
    ids = build(db)
    done = compute_all(db, TODAY)
    assert done.links == 2
    link = db.execute(text("SELECT resident_id, person_id, method FROM resident_links")).all()
    assert sorted(link) == [
        (ids["R-SW-1"], ids["R-SW-1"], "probabilistic"),
        (ids["R-SW-2"], ids["R-SW-1"], "probabilistic"),
    ]
    assert stored(db) == EXPECTED
    assert done.total == len(EXPECTED)
    details = db.execute(
        text("SELECT DISTINCT jsonb_typeof(detail) FROM support_warnings")
    ).scalars()
    assert list(details) == ["object"]
    window = db.execute(
        text("SELECT detail->>'window_days' FROM support_warnings WHERE kind = 'duplicate'")
    ).scalar_one()
    assert float(window) == 14
    # a second run replaces, not appends
    compute_all(db, TODAY)
    assert stored(db) == EXPECTED
    # six days later the due-soon need (then 31 days old) is open too
    compute_all(db, TODAY + dt.timedelta(days=6))
    assert [k for k, *_ in stored(db)].count("open_need") == 2  # 46 and 31 days old


def test_refresh_for_residents_replaces_only_their_warnings(db):
    ids = build(db)
    compute_all(db, TODAY)
    # meet R-SW-3's health needs: a health record today
    db.execute(
        text("""INSERT INTO support_records (external_id, resident_id, provider_id, category,
                    item, amount_krw, provided_on, minor_category, funding, entered_by)
                VALUES ('S-SW-9', :r, :p, 'health', '의료비', 10000, :d, 'medical_costs',
                    'budget', 'test')"""),
        {"r": ids["R-SW-3"], "p": ids["P-SW-A"], "d": TODAY},
    )
    # a stale row of another resident stays untouched by the refresh
    refresh_for_residents(db, [ids["R-SW-3"]], TODAY)
    assert stored(db) == [e for e in EXPECTED if e[2] != "R-SW-3"]
    # the duplicate's persons: refreshing one row refreshes the whole person
    db.execute(text("DELETE FROM support_records WHERE external_id = 'S-SW-2'"))
    refresh_for_residents(db, [ids["R-SW-2"]], TODAY)
    assert [e[0] for e in stored(db)] == [
        "near_duplicate",
        "stock_expired",
        "stock_expiring",
    ]
    assert refresh_for_residents(db, [], TODAY).total == 0


def test_list_warnings_filters_and_errors(db):
    build(db)
    compute_all(db, TODAY)
    everything = list_warnings(db)
    assert list(everything["level"][:3]) == ["red", "red", "red"]
    red = list_warnings(db, level="red")
    assert sorted(red["kind"]) == ["duplicate", "open_need", "stock_expired"]
    dup = list_warnings(db, kind="duplicate")
    assert dup.iloc[0]["records"] == "S-SW-1;S-SW-2"
    assert dup.iloc[0]["providers"] == "P-SW-A;P-SW-B"
    area = everything.iloc[0]["area"]
    assert len(list_warnings(db, area=area)) == len(everything)
    with pytest.raises(FieldError) as error:
        list_warnings(db, level="purple")
    assert error.value.field == "level"
    with pytest.raises(FieldError) as error:
        list_warnings(db, kind="nope")
    assert error.value.field == "kind"
    with pytest.raises(NotFound):
        list_warnings(db, area="0000000000")
