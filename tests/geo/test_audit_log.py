"""The access audit: recording, searching, pruning, and the table's append-only triggers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo.audit import (
    MIN_RETENTION_DAYS,
    AuditError,
    parse_when,
    prune_access,
    record_access,
    search_access,
    separate_owner_sql,
)
from geo.settings import SEOUL
from tests.audit_data import add_residents, insert_audit

pytestmark = pytest.mark.db

UTC = dt.UTC


@pytest.fixture
def residents(db):
    return add_residents(db, ["R-T1", "R-T2", "R-T3"])


def _row(db, audit_id: int):
    return db.execute(
        text("SELECT *, host(address) AS host FROM access_audit WHERE id = :id"), {"id": audit_id}
    ).one()


def test_record_then_search_round_trip(db, residents):
    audit_id = record_access(
        db,
        user_id=7,
        username="kim",
        role="leader",
        address="192.0.2.10",
        method="GET",
        endpoint="api.resident",
        path="/api/residents/R-T2?lang=ko",
        status=200,
        resident_ids=[residents["R-T2"], residents["R-T1"], residents["R-T2"]],
        detail={"panel": True},
    )
    stored = _row(db, audit_id)
    assert stored.resident_ids == sorted([residents["R-T1"], residents["R-T2"]])
    assert stored.resident_count == 2
    assert stored.host == "192.0.2.10"
    assert stored.at is not None
    [found] = search_access(db, username="kim")
    assert found["id"] == audit_id
    assert found["resident_ids"] == ["R-T1", "R-T2"]  # public ids, in database id order
    assert found["resident_db_ids"] == [residents["R-T1"], residents["R-T2"]]
    assert (found["user_id"], found["role"], found["method"]) == (7, "leader", "GET")
    assert (found["endpoint"], found["status"]) == ("api.resident", 200)
    assert found["address"] == "192.0.2.10"
    assert found["path"] == "/api/residents/R-T2?lang=ko"
    assert found["detail"] == {"panel": True}


def test_record_survives_what_a_client_sends(db):
    """A NUL byte, a very long path, a forged address: stored, cut, kept aside; never an
    error that would lose the row."""
    audit_id = record_access(
        db,
        user_id=None,
        username="token:sync\x00",
        role=None,
        address="not-an-ip, 10.0.0.1",
        method="GET",
        endpoint="api.residents",
        path="/api/residents?q=" + "x" * 5000 + "\x00",
        status=400,
        resident_ids=[],
        detail={"z": 14, "note\x00": "a\x00b"},
    )
    stored = _row(db, audit_id)
    assert stored.username == "token:sync\ufffd"
    assert stored.address is None
    assert stored.detail == {
        "z": 14,
        "note\ufffd": "a\ufffdb",
        "address_raw": "not-an-ip, 10.0.0.1",
    }
    assert len(stored.path) == 2000 and stored.path.endswith("…")
    assert stored.resident_ids == [] and stored.resident_count == 0


def test_record_counts_residents_it_does_not_list(db, residents):
    """A tile may be logged by its number of residents; the count cannot be below the ids."""
    audit_id = record_access(
        db,
        user_id=1,
        username="kim",
        role="visitor",
        address="::1",
        method="GET",
        endpoint="tiles.residents",
        path="/tiles/residents/15/27940/12690.pbf",
        status=200,
        resident_ids=[],
        resident_count=38,
        detail={"z": 15, "x": 27940, "y": 12690},
    )
    assert _row(db, audit_id).resident_count == 38
    with pytest.raises(AuditError, match="resident_count"):
        record_access(
            db,
            user_id=1,
            username="kim",
            role="visitor",
            address=None,
            method="GET",
            endpoint="tiles.residents",
            path=None,
            status=200,
            resident_ids=[residents["R-T1"], residents["R-T2"]],
            resident_count=1,
        )
    with pytest.raises(DBAPIError, match="ck_access_audit_resident_count"), db.begin_nested():
        db.execute(
            text("""INSERT INTO access_audit (username, endpoint, resident_ids, resident_count)
                VALUES ('kim', 'x', '{1,2,3}', 2)""")
        )


def test_search_by_user_resident_endpoint_newest_first(db, residents):
    r1, r2, r3 = residents["R-T1"], residents["R-T2"], residents["R-T3"]
    first = insert_audit(db, at="2026-11-01 10:00+09", username="kim", resident_ids=[r1])
    second = insert_audit(db, at="2026-11-02 10:00+09", username="lee", resident_ids=[r1, r2])
    third = insert_audit(
        db, at="2026-11-03 10:00+09", username="kim", endpoint="visits.new_visit", resident_ids=[r3]
    )
    assert [r["id"] for r in search_access(db)] == [third, second, first]
    assert [r["id"] for r in search_access(db, username="kim")] == [third, first]
    assert [r["id"] for r in search_access(db, resident="R-T1")] == [second, first]
    assert [r["id"] for r in search_access(db, resident=r2)] == [second]
    assert [r["id"] for r in search_access(db, resident=str(r3))] == [third]
    assert [r["id"] for r in search_access(db, endpoint="visits.new_visit")] == [third]
    assert [r["id"] for r in search_access(db, username="kim", resident="R-T3")] == [third]
    assert search_access(db, username="park") == []
    assert [r["id"] for r in search_access(db, limit=1, offset=1)] == [second]


def test_search_by_korean_days(db, residents):
    """Dates are Korean days: 00:30 KST on 1 December is still 30 November in UTC."""
    late = insert_audit(db, at=dt.datetime(2026, 11, 30, 15, 30, tzinfo=UTC))
    before = insert_audit(db, at=dt.datetime(2026, 11, 30, 14, 59, tzinfo=UTC))
    next_day = insert_audit(db, at=dt.datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    assert [r["id"] for r in search_access(db, since="2026-12-01")] == [next_day, late]
    assert [r["id"] for r in search_access(db, until="2026-11-30")] == [before]
    assert [r["id"] for r in search_access(db, since="2026-12-01", until="2026-12-01")] == [late]
    assert [r["id"] for r in search_access(db, since=dt.date(2026, 12, 2))] == [next_day]
    stamp = dt.datetime(2026, 12, 1, 0, 30, tzinfo=SEOUL)
    assert [r["id"] for r in search_access(db, since=stamp, until=stamp)] == [late]
    assert [r["id"] for r in search_access(db, until="2026-12-01T00:29")] == [before]


def test_search_refuses_bad_filters(db, residents):
    with pytest.raises(AuditError, match="no resident has the id 'R-NOPE'") as info:
        search_access(db, resident="R-NOPE")
    assert info.value.parameter == "resident"
    with pytest.raises(AuditError, match="since: must be a date") as info:
        search_access(db, since="yesterday")
    with pytest.raises(AuditError, match="until: must not be before since"):
        search_access(db, since="2026-12-02", until="2026-12-01")
    with pytest.raises(AuditError, match="limit"):
        search_access(db, limit=0)
    with pytest.raises(AuditError, match="out of range"):
        parse_when("until", "9999-12-31", end=True)


def test_update_is_refused_always(db):
    old = insert_audit(db, at=dt.datetime(2020, 1, 1, tzinfo=UTC))
    young = insert_audit(db)
    for audit_id in (old, young):
        with pytest.raises(DBAPIError, match="append-only: UPDATE"), db.begin_nested():
            db.execute(
                text("UPDATE access_audit SET username = 'nobody' WHERE id = :id"),
                {"id": audit_id},
            )
    with pytest.raises(DBAPIError, match="append-only: UPDATE"), db.begin_nested():
        db.execute(text("UPDATE access_audit SET at = '2000-01-01' WHERE false"))
    assert _row(db, young).username == "kim"


def test_delete_of_a_young_row_is_refused(db):
    young = insert_audit(db, at=dt.datetime.now(UTC) - dt.timedelta(days=MIN_RETENTION_DAYS - 1))
    old = insert_audit(db, at=dt.datetime.now(UTC) - dt.timedelta(days=MIN_RETENTION_DAYS + 1))
    with pytest.raises(DBAPIError, match="minimum retention of 730 days"), db.begin_nested():
        db.execute(text("DELETE FROM access_audit WHERE id = :id"), {"id": young})
    # one young row makes a wholesale DELETE fail, and the old row stays with it
    with pytest.raises(DBAPIError, match="cannot be deleted"), db.begin_nested():
        db.execute(text("DELETE FROM access_audit"))
    remaining = db.execute(
        text("SELECT id FROM access_audit WHERE id IN (:a, :b) ORDER BY id"), {"a": young, "b": old}
    ).scalars()
    assert list(remaining) == [young, old]


def test_delete_of_an_old_row_is_allowed(db):
    old = insert_audit(db, at=dt.datetime.now(UTC) - dt.timedelta(days=MIN_RETENTION_DAYS + 1))
    deleted = db.execute(text("DELETE FROM access_audit WHERE id = :id"), {"id": old}).rowcount
    assert deleted == 1


def test_truncate_is_refused(db):
    insert_audit(db)
    with pytest.raises(DBAPIError, match="append-only: TRUNCATE"), db.begin_nested():
        db.execute(text("TRUNCATE access_audit"))
    assert db.execute(text("SELECT count(*) FROM access_audit")).scalar_one() >= 1


def test_the_guard_is_installed_for_the_table(db):
    """The three triggers exist and are enabled (a disabled trigger would guard nothing)."""
    triggers = db.execute(
        text("""SELECT tgname, tgenabled FROM pg_trigger
            WHERE tgrelid = 'access_audit'::regclass AND NOT tgisinternal ORDER BY tgname""")
    ).all()
    assert triggers == [
        ("access_audit_no_truncate", "O"),
        ("access_audit_no_update", "O"),
        ("access_audit_retention", "O"),
    ]


def test_prune_refuses_younger_than_the_retention(db):
    with pytest.raises(AuditError, match="729 days is younger than the retention of 730"):
        prune_access(db, older_than_days=729, retention_days=730)
    with pytest.raises(AuditError, match="younger than the retention of 1000 days"):
        prune_access(db, older_than_days=900, retention_days=1000)
    with pytest.raises(AuditError, match="the minimum is 730 days") as info:
        prune_access(db, older_than_days=800, retention_days=365)
    assert info.value.parameter == "retention_days"


def test_prune_deletes_only_rows_older_than_asked(db):
    now = dt.datetime.now(UTC)
    kept = [
        insert_audit(db),
        insert_audit(db, at=now - dt.timedelta(days=731)),
        insert_audit(db, at=now - dt.timedelta(days=799)),
    ]
    pruned = [
        insert_audit(db, at=now - dt.timedelta(days=801)),
        insert_audit(db, at=now - dt.timedelta(days=3000)),
    ]
    assert prune_access(db, older_than_days=800, retention_days=730) == 2
    left = db.execute(
        text("SELECT id FROM access_audit WHERE id = ANY(:ids) ORDER BY id"),
        {"ids": kept + pruned},
    ).scalars()
    assert list(left) == kept
    assert prune_access(db, older_than_days=800, retention_days=730) == 0


@pytest.fixture
def owned_apart(scratch_database, engine):
    """A scratch database at the newest schema whose audit table belongs to another role than
    the application's (geo.audit.separate_owner_sql); the roles are dropped afterwards."""
    from geo.db import make_engine
    from geo.migrate import upgrade

    prefix = engine.url.database
    owner, app = f"{prefix}_audit_owner", f"{prefix}_audit_app"
    with engine.connect() as conn:
        if not conn.execute(
            text("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar_one():
            # the project cluster's role `visitmap` may not (by design): a recipe for
            # deployments, run where the test role is a superuser or may create roles
            pytest.skip("the test role may not create roles")
    scratch = make_engine(scratch_database("audit_owner"))
    try:
        upgrade(scratch)
        with scratch.begin() as conn:
            for role in (owner, app):
                conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
                conn.execute(text(f"CREATE ROLE {role} NOLOGIN"))
            for statement in separate_owner_sql(owner, app):
                conn.execute(text(statement))
        yield scratch, app
    finally:
        scratch.dispose()
        # the roles own privileges in the scratch database: it goes first
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {prefix}_audit_owner WITH (FORCE)"))
            for role in (owner, app):
                conn.execute(text(f"DROP ROLE IF EXISTS {role}"))


def test_a_separate_owner_leaves_the_application_append_and_prune_only(owned_apart):
    scratch, app = owned_apart
    refusals = {
        "UPDATE access_audit SET username = 'x'": "permission denied",
        "TRUNCATE access_audit": "permission denied",
        "ALTER TABLE access_audit DISABLE TRIGGER access_audit_retention": "must be owner",
        "DROP TRIGGER access_audit_retention ON access_audit": "must be owner",
        "DELETE FROM access_audit WHERE username = 'young'": "minimum retention",
    }
    with scratch.connect() as conn:
        conn.execute(text(f"SET ROLE {app}"))
        with Session(bind=conn) as session:
            insert_audit(session, username="young")
            insert_audit(session, username="old", at=dt.datetime(2020, 1, 1, tzinfo=UTC))
            for statement, message in refusals.items():
                with pytest.raises(DBAPIError, match=message), session.begin_nested():
                    session.execute(text(statement))
            assert prune_access(session, older_than_days=730, retention_days=730) == 1
            left = session.execute(text("SELECT username FROM access_audit")).scalars()
            assert list(left) == ["young"]


def test_separate_owner_sql_takes_plain_role_names_only():
    with pytest.raises(AuditError, match="not a plain role name"):
        separate_owner_sql("owner; DROP TABLE residents", "app")
