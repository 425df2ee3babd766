"""Recording visits (geo.visits): idempotency, validation, rescoring, the score log, the map's
cached counts, the unreachable lifecycle and the labels, on hand-built residents whose scores
can be worked out on paper (weighted_v1: points out of 100)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from geo.mapdata.queries import area_summaries
from geo.scope import Scope
from geo.score_runs import load_visit_labels
from geo.settings import SettingsError, load_settings
from geo.support_warnings import compute_all
from geo.visit_scores import refresh_unreachable, unreachable_residents
from geo.visits import IdempotencyConflict, VisitError, VisitInput
from scoring.config import default_config
from tests.conftest import count
from visitmap.usecases.scoring_runs import score_residents
from visitmap.usecases.visits import record_visit, visit_input_from_mapping

pytestmark = pytest.mark.db

AS_OF = dt.date(2026, 11, 1)
SEOUL = dt.timezone(dt.timedelta(hours=9))
NOW = dt.datetime(2026, 11, 20, 18, 0, tzinfo=SEOUL)
EVERYTHING = Scope.everything()


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=SEOUL)


def _household(db, external_id: str, area_id: int, *, income: int) -> int:
    return db.execute(
        text("""
        INSERT INTO households (external_id, area_id, size, monthly_income_krw, geom,
            nearest_community_centre_m, nearest_senior_or_welfare_m)
        SELECT :ext, id, 1, :income, label_point, 0, 0 FROM areas WHERE id = :area
        RETURNING id"""),
        {"ext": external_id, "area": area_id, "income": income},
    ).scalar_one()


def _resident(db, external_id, household_id, *, birth_year, alone, disability) -> int:
    return db.execute(
        text("""
        INSERT INTO residents (external_id, household_id, name, birth_year, sex, lives_alone,
            has_disability, registered_on)
        VALUES (:ext, :hh, :name, :by, 'F', :alone, :dis, '2020-01-01') RETURNING id"""),
        {
            "ext": external_id,
            "hh": household_id,
            "name": f"이름 {external_id}",
            "by": birth_year,
            "alone": alone,
            "dis": disability,
        },
    ).scalar_one()


@pytest.fixture
def town(db):
    """Two dongs; in the first a high-tier resident (alone, 96, disabled, no income, never
    met: 12 + 10 + 4 + 15 + 16 = 57 points, high from 55) and three low-tier ones, in the
    second one low-tier resident; one weighted run as of 2026-11-01 with its map caches."""
    areas = db.execute(text("SELECT id, code FROM areas ORDER BY code LIMIT 2")).all()
    ids = {}
    poor = _household(db, "H-T1", areas[0].id, income=0)
    ids["high"] = _resident(db, "R-HIGH", poor, birth_year=1930, alone=True, disability=True)
    for n in range(1, 4):
        hh = _household(db, f"H-L{n}", areas[0].id, income=9_000_000)
        ids[f"low{n}"] = _resident(
            db, f"R-LOW{n}", hh, birth_year=1990, alone=False, disability=False
        )
    other = _household(db, "H-O1", areas[1].id, income=9_000_000)
    ids["other"] = _resident(db, "R-OTHER", other, birth_year=1990, alone=False, disability=False)
    # an old refusal (it counts for no score): geo.features.load_features fails under pandas'
    # deprecation warnings when no resident has a visit at all
    db.execute(
        text("""INSERT INTO visits (external_id, resident_id, visited_at, visitor, outcome)
        VALUES ('V-OLD', :rid, '2025-01-01T10:00+09:00', 'test', 'refused')"""),
        {"rid": ids["other"]},
    )
    run = score_residents(
        db, EVERYTHING, method="weighted", config=default_config(), as_of=AS_OF, created_by="t",
        publish=True,
    ).stored.run_id  # fmt: skip
    return {"db": db, "run": run, "ids": ids, "areas": areas}


def _visit(resident="R-LOW1", outcome="met", key=None, **kw) -> VisitInput:
    kw.setdefault("visited_at", at(20))
    kw.setdefault("visitor_name", "김방문")
    return VisitInput(
        resident_id=resident, outcome=outcome, idempotency_key=key or str(uuid.uuid4()), **kw
    )


def _row(db, run, rid):
    return db.execute(
        text("""SELECT score, tier, next_due_on FROM resident_scores
        WHERE run_id = :run AND resident_id = :rid"""),
        {"run": run, "rid": rid},
    ).one()


def _tier_since(db, run, rid):
    return db.execute(
        text("SELECT tier_since FROM resident_scores WHERE run_id = :run AND resident_id = :rid"),
        {"run": run, "rid": rid},
    ).scalar_one()


def _counts(db) -> dict:
    return {t: count(db, t) for t in ("visits", "needs", "score_updates")}


def test_the_high_resident_is_high_before_any_visit(town):
    score, tier, due = _row(town["db"], town["run"], town["ids"]["high"])
    assert tier == 2 and score == pytest.approx(0.57, abs=1e-6)
    # never met: first scored high on the run's day + 14 days (not registration + 30, 2020)
    assert due == dt.date(2026, 11, 15)


def test_a_retried_submit_records_one_visit(town):
    db = town["db"]
    before = _counts(db)
    visit = _visit(needs=("health", "economic"), notes="쌀 필요")
    first = record_visit(db, EVERYTHING, visit, now=NOW)
    second = record_visit(db, EVERYTHING, visit, now=NOW)
    assert (first["replayed"], second["replayed"]) == (False, True)
    assert second["visit_id"] == first["visit_id"] == f"form-{visit.idempotency_key}"
    after = _counts(db)
    assert after == {
        "visits": before["visits"] + 1,
        "needs": before["needs"] + 2,
        "score_updates": before["score_updates"] + 1,
    }
    needs = db.execute(
        text("SELECT category, status, identified_on, source FROM needs ORDER BY category")
    ).all()
    assert [tuple(n) for n in needs] == [
        ("economic", "open", dt.date(2026, 11, 20), "visit form"),
        ("health", "open", dt.date(2026, 11, 20), "visit form"),
    ]


def test_the_same_key_with_another_payload_is_refused(town):
    db = town["db"]
    key = str(uuid.uuid4())
    record_visit(db, EVERYTHING, _visit(key=key, notes="처음"), now=NOW)
    before = _counts(db)
    with pytest.raises(IdempotencyConflict) as error:
        record_visit(db, EVERYTHING, _visit(key=key, notes="다른 내용"), now=NOW)
    assert error.value.field == "idempotency_key"
    assert _counts(db) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"resident": "R-NOBODY"}, "resident"),
        ({"outcome": "visited"}, "outcome"),
        ({"needs": ("health", "money")}, "needs"),
        ({"visited_at": NOW + dt.timedelta(hours=1)}, "visited_at"),
        ({"next_visit_on": dt.date(2026, 11, 19)}, "next_visit_on"),
        ({"notes": "가" * 2001}, "notes"),
        ({"key": "not-a-uuid"}, "idempotency_key"),
        ({"visitor_name": None}, "visitor_name"),
        ({"member_id": "M-NOBODY"}, "member"),
        ({"plan_id": 999_999}, "plan"),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(town, changes, field):
    db = town["db"]
    before = _counts(db), _row(db, town["run"], town["ids"]["low1"])
    with pytest.raises(VisitError) as error:
        record_visit(db, EVERYTHING, _visit(**changes), now=NOW)
    assert [f for f, _ in error.value.problems] == [field]
    assert (_counts(db), _row(db, town["run"], town["ids"]["low1"])) == before


def test_a_resident_outside_the_scope_cannot_be_visited(town):
    scope = Scope.of_areas([town["areas"][1].code])
    with pytest.raises(VisitError) as error:
        record_visit(town["db"], scope, _visit("R-HIGH"), now=NOW)
    assert error.value.field == "resident"
    assert count(town["db"], "visits") == 1


def test_malformed_submitted_values_name_their_fields():
    with pytest.raises(VisitError) as error:
        visit_input_from_mapping(
            {"visited_at": "어제", "next_visit_on": "2026-13-01", "plan": "x", "needs": "health"}
        )
    fields = [f for f, _ in error.value.problems]
    assert fields == ["visited_at", "next_visit_on", "plan", "needs"]
    parsed = visit_input_from_mapping(
        {"resident": " R-1 ", "visited_at": "2026-11-20T10:30", "needs": ["health"], "notes": " "}
    )
    assert parsed.visited_at == dt.datetime(2026, 11, 20, 10, 30, tzinfo=parsed.visited_at.tzinfo)
    assert parsed.visited_at.utcoffset() == dt.timedelta(hours=9)
    assert (parsed.resident_id, parsed.needs, parsed.notes) == ("R-1", ("health",), None)


def test_meeting_the_high_resident_drops_the_tier_and_logs_the_change(town):
    db, run, rid = town["db"], town["run"], town["ids"]["high"]
    result = record_visit(db, EVERYTHING, _visit("R-HIGH", "met"), now=NOW)
    score, tier, due = _row(db, run, rid)
    # recency no longer counts: 57 - 16 = 41 points, medium; medium cadence 91 days
    assert tier == 1 and score == pytest.approx(0.41, abs=1e-6)
    assert due == dt.date(2026, 11, 20) + dt.timedelta(days=91)
    log = db.execute(text("SELECT * FROM score_updates WHERE resident_id = :r"), {"r": rid})
    log = log.mappings().one()
    assert (log["run_id"], log["old_tier"], log["new_tier"]) == (run, 2, 1)
    assert log["old_score"] == pytest.approx(0.57, abs=1e-6)
    assert log["new_score"] == pytest.approx(score)
    assert (log["old_next_due_on"], log["new_next_due_on"]) == (dt.date(2026, 11, 15), due)
    # the visit moved the tier: the resident entered medium on the visit's day
    assert _tier_since(db, run, rid) == dt.date(2026, 11, 20)
    assert result["score_update"]["new_tier"] == 1 and result["next_due_on"] == due.isoformat()
    days_since_met = db.execute(
        text("""SELECT s.features, r.feature_names FROM resident_scores s
        JOIN score_runs r ON r.id = s.run_id WHERE s.run_id = :run AND s.resident_id = :rid"""),
        {"run": run, "rid": rid},
    ).one()
    from geo.score_runs import unpack_vectors

    values = dict(zip(days_since_met[1], unpack_vectors(days_since_met[0]), strict=True))
    assert values["days_since_met_visit"] == 0


def test_a_refusal_keeps_the_tier_and_the_form_date_overrides_the_cadence(town):
    db, run, rid = town["db"], town["run"], town["ids"]["high"]
    wanted = dt.date(2026, 12, 5)
    record_visit(db, EVERYTHING, _visit("R-HIGH", "refused", next_visit_on=wanted), now=NOW)
    score, tier, due = _row(db, run, rid)
    assert tier == 2 and score == pytest.approx(0.57, abs=1e-6) and due == wanted
    assert _tier_since(db, run, rid) == AS_OF  # the tier stayed: its day stays


def test_map_aggregates_follow_the_visit(town):
    db, run = town["db"], town["run"]
    before = db.execute(
        text("SELECT count(*) FROM run_high_cells WHERE run_id = :run"), {"run": run}
    ).scalar_one()
    assert before > 0  # built with the run: the high resident's cell
    record_visit(db, EVERYTHING, _visit("R-HIGH", "met"), now=NOW)
    cached = db.execute(
        text("""SELECT area_id, tier, due_on, residents FROM run_area_due_counts
        WHERE run_id = :run ORDER BY 1, 2, 3"""),
        {"run": run},
    ).all()
    fresh = db.execute(
        text("""SELECT h.area_id, s.tier, greatest(s.next_due_on, run.as_of - 1), count(*)
        FROM resident_scores s JOIN score_runs run ON run.id = s.run_id
        JOIN residents r ON r.id = s.resident_id JOIN households h ON h.id = r.household_id
        WHERE s.run_id = :run GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""),
        {"run": run},
    ).all()
    assert [tuple(r) for r in cached] == [tuple(r) for r in fresh]
    assert not any(r.tier == 2 for r in cached)
    assert count(db, "run_high_cells") == 0  # the only high resident is medium now


@pytest.mark.parametrize("days", [-400, -30, -1, 0, 1, 30, 400])
def test_overdue_counts_are_exact_on_every_day_around_the_runs_as_of(town, days):
    """Counts are read from the due-date buckets from the run's as_of on, and made live
    before it; either way they equal a count of resident_scores on that day."""
    db, run = town["db"], town["run"]
    day = AS_OF + dt.timedelta(days=days)
    shown = {
        (a["code"], tier): (a["tier_counts"][tier], a["overdue_counts"][tier])
        for a in area_summaries(db, EVERYTHING, run_id=run, today=day)
        for tier in ("low", "medium", "high")
    }
    rows = db.execute(
        text("""SELECT a.code, s.tier, count(*), count(*) FILTER (WHERE s.next_due_on < :day)
        FROM resident_scores s JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE s.run_id = :run GROUP BY 1, 2"""),
        {"run": run, "day": day},
    ).all()
    names = {0: "low", 1: "medium", 2: "high"}
    expected = {(code, names[tier]): (n, late) for code, tier, n, late in rows}
    assert expected and {k: shown[k] for k in expected} == expected
    assert all(v == (0, 0) for k, v in shown.items() if k not in expected)


def test_unreachable_after_three_not_found_then_cleared_by_a_meeting(town):
    db, run, rid = town["db"], town["run"], town["ids"]["low2"]
    for day, outcome in [(10, "not_home"), (12, "unreachable")]:
        record_visit(db, EVERYTHING, _visit("R-LOW2", outcome, visited_at=at(day)), now=NOW)
    since = db.execute(text("SELECT unreachable_since FROM residents WHERE id = :r"), {"r": rid})
    assert since.scalar() is None
    tier_due_before = _row(db, run, rid)
    record_visit(db, EVERYTHING, _visit("R-LOW2", "not_home", visited_at=at(15)), now=NOW)
    since = db.execute(text("SELECT unreachable_since FROM residents WHERE id = :r"), {"r": rid})
    assert since.scalar() == dt.date(2026, 11, 15)
    # retry cadence: 30 days after the last attempt, instead of the low tier's 182
    assert _row(db, run, rid).next_due_on == dt.date(2026, 12, 15)
    # before: never met, the low tier's first-visit date (the run's day + 182) was later
    # than the attempt gap (7 days after the attempt of 11-12)
    assert tier_due_before.next_due_on == AS_OF + dt.timedelta(days=182)
    listed = unreachable_residents(db, EVERYTHING, run_id=run)
    assert [(r["resident_id"], r["attempts"], r["unreachable_since"]) for r in listed] == [
        ("R-LOW2", 3, "2026-11-15")
    ]
    assert listed[0]["last_attempt_on"] == "2026-11-15" and listed[0]["tier_name"] == "low"
    record_visit(db, EVERYTHING, _visit("R-LOW2", "not_home", visited_at=at(18)), now=NOW)
    assert _row(db, run, rid).next_due_on == dt.date(2026, 12, 18)
    assert unreachable_residents(db, EVERYTHING, run_id=run)[0]["attempts"] == 4
    record_visit(db, EVERYTHING, _visit("R-LOW2", "met", visited_at=at(19)), now=NOW)
    since = db.execute(text("SELECT unreachable_since FROM residents WHERE id = :r"), {"r": rid})
    assert since.scalar() is None
    assert _row(db, run, rid).next_due_on == dt.date(2026, 11, 19) + dt.timedelta(days=182)
    assert unreachable_residents(db, EVERYTHING, run_id=run) == []


def test_a_refusal_breaks_the_run_and_the_threshold_is_configurable(town):
    db, rid = town["db"], town["ids"]["low3"]
    for day, outcome in [(10, "not_home"), (11, "refused"), (12, "not_home")]:
        record_visit(
            db,
            EVERYTHING,
            _visit("R-LOW3", outcome, visited_at=at(day)),
            now=NOW,
            unreachable_after=2,
        )
    since = db.execute(text("SELECT unreachable_since FROM residents WHERE id = :r"), {"r": rid})
    assert since.scalar() is None
    record_visit(
        db,
        EVERYTHING,
        _visit("R-LOW3", "not_home", visited_at=at(13)),
        now=NOW,
        unreachable_after=2,
        retry_days=7,
    )
    since = db.execute(text("SELECT unreachable_since FROM residents WHERE id = :r"), {"r": rid})
    assert since.scalar() == dt.date(2026, 11, 13)
    assert _row(db, town["run"], rid).next_due_on == dt.date(2026, 11, 20)


def test_the_unreachable_list_is_scoped(town):
    db = town["db"]
    for day in (10, 11, 12):
        record_visit(db, EVERYTHING, _visit("R-LOW1", "not_home", visited_at=at(day)), now=NOW)
        record_visit(db, EVERYTHING, _visit("R-OTHER", "not_home", visited_at=at(day)), now=NOW)
    first, second = (a.code for a in town["areas"])
    assert [r["resident_id"] for r in unreachable_residents(db, EVERYTHING)] == [
        "R-LOW1",
        "R-OTHER",
    ]
    assert [r["resident_id"] for r in unreachable_residents(db, Scope.of_areas([second]))] == [
        "R-OTHER"
    ]
    assert unreachable_residents(db, Scope.of_areas([first]))[0]["tier"] is None  # no run given


def test_form_visits_become_labels(town):
    db = town["db"]
    record_visit(db, EVERYTHING, _visit("R-HIGH", "crisis_confirmed"), now=NOW)
    record_visit(db, EVERYTHING, _visit("R-LOW1", "met"), now=NOW)
    record_visit(db, EVERYTHING, _visit("R-LOW2", "not_home"), now=NOW)
    labels = load_visit_labels(db, EVERYTHING, as_of=dt.date(2026, 11, 20))
    assert labels.to_dict() == {"R-HIGH": 1, "R-LOW1": 0}
    assert load_visit_labels(db, EVERYTHING, as_of=dt.date(2026, 11, 19)).empty


def test_a_resident_not_in_the_run_gets_the_visit_but_no_score_change(town):
    db = town["db"]
    hh = _household(db, "H-NEW", town["areas"][0].id, income=0)
    _resident(db, "R-NEW", hh, birth_year=1950, alone=True, disability=False)
    result = record_visit(db, EVERYTHING, _visit("R-NEW", "met"), now=NOW)
    assert result["score_update"] is None and result["tier"] is None
    assert count(db, "score_updates") == 0 and count(db, "visits") == 2


def _team(db, external_id, name, *, areas=(), members=()) -> int:
    """A team covering ``areas`` (ids) with ``members`` ((external id, name, active))."""
    team = db.execute(
        text("INSERT INTO visit_teams (external_id, name) VALUES (:e, :n) RETURNING id"),
        {"e": external_id, "n": name},
    ).scalar_one()
    for area in areas:
        db.execute(
            text("INSERT INTO team_areas (team_id, area_id) VALUES (:t, :a)"),
            {"t": team, "a": area},
        )
    for member, member_name, active in members:
        db.execute(
            text("""INSERT INTO visit_team_members (external_id, team_id, name, active)
            VALUES (:e, :t, :n, :a)"""),
            {"e": member, "t": team, "n": member_name, "a": active},
        )
    return team


def _plan(db, team: int, day: dt.date) -> int:
    return db.execute(
        text("""INSERT INTO route_plans (team_id, plan_date, version, created_by, method,
            settings, base_geom, candidates, planning_seconds)
        VALUES (:t, :d, 1, 'test', 'test', '{}', ST_SetSRID(ST_MakePoint(126.94, 37.57), 4326),
            0, 0) RETURNING id"""),
        {"t": team, "d": day},
    ).scalar_one()


def test_a_team_member_is_the_visitor_and_the_team_the_needs_source(town):
    db = town["db"]
    _team(db, "T1", "충현동 방문팀", areas=[town["areas"][0].id], members=[("M1", "박통장", True)])
    result = record_visit(
        db, EVERYTHING, _visit(member_id="M1", visitor_name=None, needs=("safety",)), now=NOW
    )
    assert (result["visitor"], result["team_id"]) == ("박통장", "T1")
    source = db.execute(text("SELECT source FROM needs")).scalar_one()
    assert source == "충현동 방문팀"


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("M-GONE", "not an active member of a team covering"),  # inactive, dong's own team
        ("M-ELSE", "not an active member of a team covering"),  # active, another dong's team
    ],
)
def test_visitors_outside_the_documented_rule_are_refused(town, member, expected):
    """docs/visits.md: an active member of the plan's team, else of the teams covering the
    resident's dong. Anything else names the field and writes nothing."""
    db = town["db"]
    first, second = (a.id for a in town["areas"])
    _team(db, "T-HERE", "여기팀", areas=[first], members=[("M-GONE", "전임자", False)])
    _team(db, "T-ELSE", "저기팀", areas=[second], members=[("M-ELSE", "남", True)])
    before = _counts(db), _row(db, town["run"], town["ids"]["low1"])
    with pytest.raises(VisitError) as error:
        record_visit(db, EVERYTHING, _visit(member_id=member, visitor_name=None), now=NOW)
    assert [f for f, _ in error.value.problems] == ["member"]
    assert expected in error.value.problems[0][1]
    assert (_counts(db), _row(db, town["run"], town["ids"]["low1"])) == before


def test_with_a_plan_only_the_plans_team_may_visit(town):
    db = town["db"]
    first, second = (a.id for a in town["areas"])
    # the dong's own team is not the plan's: its member is refused with the plan
    _team(db, "T-HERE", "여기팀", areas=[first], members=[("M-HERE", "여기", True)])
    planned = _team(
        db,
        "T-PLAN",
        "계획팀",
        areas=[second],
        members=[("M-PLAN", "계획", True), ("M-OFF", "휴직", False)],
    )
    plan = _plan(db, planned, dt.date(2026, 11, 20))
    for member in ("M-HERE", "M-OFF"):
        with pytest.raises(VisitError) as error:
            record_visit(
                db, EVERYTHING, _visit(member_id=member, visitor_name=None, plan_id=plan), now=NOW
            )
        assert error.value.field == "member"
        assert "route plan's team (계획팀)" in error.value.problems[0][1]
    assert count(db, "visits") == 1
    result = record_visit(
        db, EVERYTHING, _visit(member_id="M-PLAN", visitor_name=None, plan_id=plan), now=NOW
    )
    assert (result["visitor"], result["team_id"]) == ("계획", "T-PLAN")
    # without the plan, the dong's team member is accepted and the visit is that team's
    result = record_visit(db, EVERYTHING, _visit(member_id="M-HERE", visitor_name=None), now=NOW)
    assert result["team_id"] == "T-HERE"


def test_the_form_offers_exactly_the_members_who_may_visit(town):
    from visitmap.usecases.visits import visit_form

    db = town["db"]
    first, second = (a.id for a in town["areas"])
    _team(
        db, "T-HERE", "여기팀", areas=[first], members=[("M-B", "나", True), ("M-A", "가", False)]
    )
    planned = _team(db, "T-PLAN", "계획팀", areas=[second], members=[("M-P", "계획", True)])
    plan = _plan(db, planned, dt.date(2026, 11, 20))
    context = visit_form(db, EVERYTHING, "R-LOW1")
    assert [m["external_id"] for m in context["members"]] == ["M-B"]
    context = visit_form(db, EVERYTHING, "R-LOW1", plan_id=plan)
    assert [m["external_id"] for m in context["members"]] == ["M-P"]


def test_unreachable_settings_come_from_the_environment():
    settings = load_settings({"VISITMAP_RRN_HMAC_KEY": "k" * 32})
    assert (settings.unreachable_after, settings.unreachable_retry_days) == (3, 30)
    settings = load_settings(
        {
            "VISITMAP_RRN_HMAC_KEY": "k" * 32,
            "VISITMAP_UNREACHABLE_AFTER": "2",
            "VISITMAP_UNREACHABLE_RETRY_DAYS": "14",
        }
    )
    assert (settings.unreachable_after, settings.unreachable_retry_days) == (2, 14)
    for bad in ("0", "three"):
        with pytest.raises(SettingsError, match="VISITMAP_UNREACHABLE_AFTER"):
            load_settings({"VISITMAP_RRN_HMAC_KEY": "k" * 32, "VISITMAP_UNREACHABLE_AFTER": bad})


def test_imported_visits_mark_the_unreachable_in_one_statement(town):
    """Visits imported without the form: one statement marks the resident, by hand-counted
    runs (a refusal breaks a run), and doing it again changes nothing."""
    db, rid = town["db"], town["ids"]["low2"]
    for n, (day, outcome) in enumerate(
        [(3, "not_home"), (4, "refused"), (6, "not_home"), (8, "unreachable"), (9, "not_home")]
    ):
        db.execute(
            text("""INSERT INTO visits (external_id, resident_id, visited_at, visitor, outcome)
                VALUES (:x, :r, :at, 'import', :o)"""),
            {"x": f"IMP-{n}", "r": rid, "at": at(day), "o": outcome},
        )
    assert refresh_unreachable(db, after=3) == 1
    since = db.execute(text("SELECT unreachable_since FROM residents WHERE id = :r"), {"r": rid})
    assert since.scalar() == dt.date(2026, 11, 9)  # the refusal on the 4th broke the first run
    assert refresh_unreachable(db, after=3) == 0  # again: nothing changes
    assert refresh_unreachable(db, after=4, resident_db_ids=[rid]) == 1  # below 4: cleared
    assert (
        db.execute(
            text("SELECT unreachable_since FROM residents WHERE id = :r"), {"r": rid}
        ).scalar()
        is None
    )


def test_visits_at_the_same_time_are_ordered_by_id(town):
    """Two visits recorded for the same minute: the later record decides."""
    db, rid = town["db"], town["ids"]["low2"]

    def add(n, day, outcome):
        db.execute(
            text("""INSERT INTO visits (external_id, resident_id, visited_at, visitor, outcome)
                VALUES (:x, :r, :at, 'import', :o)"""),
            {"x": f"TIE-{n}", "r": rid, "at": at(day), "o": outcome},
        )

    add(1, 3, "not_home")
    add(2, 4, "not_home")
    add(3, 5, "met")  # found ...
    add(4, 5, "not_home")  # ... then, same time, a later record of not home: counts
    add(5, 6, "not_home")
    add(6, 7, "not_home")
    refresh_unreachable(db, after=3)
    since = db.execute(text("SELECT unreachable_since FROM residents WHERE id = :r"), {"r": rid})
    assert since.scalar() == dt.date(2026, 11, 7)
    add(7, 7, "refused")  # same time as the third miss, recorded later: found
    refresh_unreachable(db, after=3)
    since = db.execute(text("SELECT unreachable_since FROM residents WHERE id = :r"), {"r": rid})
    assert since.scalar() is None


def test_visit_states_of_before_and_after_visits(town):
    """The visit states on a day from the run's due dates and the visits; the map's overdue
    counts agree with their days overdue, before and after a visit."""
    from geo.visit_scores import visit_states_of

    db, run = town["db"], town["run"]
    ids = ["R-HIGH", "R-LOW1", "R-LOW2", "R-OTHER", "R-NOBODY"]
    on_run_day = visit_states_of(db, run, ids, AS_OF)
    assert "R-NOBODY" not in on_run_day
    high = on_run_day["R-HIGH"]
    assert (high["state"], high["due_on"], high["never_met"]) == (
        "first_visit",
        dt.date(2026, 11, 15),  # first scored high on 11-01, + 14 days
        True,
    )
    assert high["words_ko"] == "첫 방문 필요 (2026-11-15까지)"
    assert high["tier"] == 2 and high["tier_since"] == AS_OF
    assert on_run_day["R-LOW1"]["state"] == "first_visit"
    day = dt.date(2026, 11, 20)
    later = visit_states_of(db, run, ids, day)
    assert (later["R-HIGH"]["state"], later["R-HIGH"]["days_overdue"]) == ("overdue", 5)
    assert later["R-HIGH"]["words_ko"] == "5일 지남"

    def map_overdue(on):
        return {
            (a["code"], tier): a["overdue_counts"][tier]
            for a in area_summaries(db, EVERYTHING, run_id=run, today=on)
            for tier in ("low", "medium", "high")
        }

    def states_overdue(on):
        everyone = db.execute(text("SELECT external_id FROM residents")).scalars().all()
        states = visit_states_of(db, run, everyone, on)
        codes = dict(
            db.execute(
                text("""SELECT r.external_id, a.code FROM residents r
                    JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id""")
            ).all()
        )
        out = {}
        for rid, s in states.items():
            if s["tier"] is not None and s["days_overdue"] > 0:
                key = (codes[rid], ("low", "medium", "high")[s["tier"]])
                out[key] = out.get(key, 0) + 1
        return out

    def tile_overdue(on):
        """The z16 tile of R-HIGH's household: each resident's overdue flag."""
        import math

        import mapbox_vector_tile

        from geo.mapdata.filters import NO_FILTERS
        from geo.mapdata.tiles import resident_tile_sql

        lon, lat = db.execute(
            text("""SELECT ST_X(h.geom), ST_Y(h.geom) FROM residents r
                JOIN households h ON h.id = r.household_id WHERE r.external_id = 'R-HIGH'""")
        ).one()
        n = 2**16
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        sql, params = resident_tile_sql(EVERYTHING, NO_FILTERS, today=on)
        tile = db.execute(text(sql), params | {"z": 16, "x": x, "y": y, "run_id": run}).one()[0]
        features = mapbox_vector_tile.decode(bytes(tile))["residents"]["features"]
        return {f["properties"]["id"]: bool(f["properties"]["overdue"]) for f in features}

    def states_flags(on, ids):
        return {rid: s["days_overdue"] > 0 for rid, s in visit_states_of(db, run, ids, on).items()}

    flags = tile_overdue(day)
    assert flags["R-HIGH"] is True and flags == states_flags(day, list(flags))
    shown = map_overdue(day)
    assert {k: v for k, v in shown.items() if v} == states_overdue(day)
    record_visit(db, EVERYTHING, _visit("R-HIGH", "met", visited_at=at(20)), now=NOW)
    flags = tile_overdue(day)
    assert flags["R-HIGH"] is False and flags == states_flags(day, list(flags))
    for d in (10, 12, 15):  # three not found: unreachable, retry 30 days after the last
        record_visit(db, EVERYTHING, _visit("R-LOW2", "not_home", visited_at=at(d)), now=NOW)
    after = visit_states_of(db, run, ids, day)
    assert after["R-HIGH"]["state"] == "visited" and after["R-HIGH"]["last_outcome"] == "met"
    assert after["R-HIGH"]["words_ko"] == "오늘 방문함 (면담)"
    assert after["R-HIGH"]["days_overdue"] == 0 and not after["R-HIGH"]["never_met"]
    low2 = after["R-LOW2"]
    assert (low2["state"], low2["retry_on"]) == ("unreachable", dt.date(2026, 12, 15))
    assert visit_states_of(db, run, ["R-HIGH"], dt.date(2026, 11, 21))["R-HIGH"]["state"] == "due"
    shown = map_overdue(day)
    assert {k: v for k, v in shown.items() if v} == states_overdue(day)
    db.execute(text("UPDATE residents SET status = 'moved' WHERE external_id = 'R-LOW1'"))
    moved = visit_states_of(db, run, ["R-LOW1"], day)["R-LOW1"]
    assert (moved["state"], moved["words_ko"]) == ("inactive", "방문 대상 아님 (전출)")
    assert visit_states_of(db, None, ["R-LOW3"], day)["R-LOW3"]["due_on"] is None


def test_a_met_visit_ends_the_unserved_crisis_warning(town):
    """A high-tier resident with a crisis signal and neither support nor a met visit since is
    an omission (red); recording a met visit refreshes the person's warnings at once."""
    db, high = town["db"], town["ids"]["high"]
    db.execute(
        text("""INSERT INTO crisis_signals (external_id, resident_id, kind, observed_on,
                source_agency) VALUES ('CS-T1', :r, 'electricity_cutoff', '2026-10-15', 'test')"""),
        {"r": high},
    )
    compute_all(db, NOW.date())

    def crisis() -> int:
        return db.execute(
            text("""SELECT count(*) FROM support_warnings
                WHERE kind = 'unserved_crisis' AND resident_id = :r"""),
            {"r": high},
        ).scalar_one()

    assert crisis() == 1
    record_visit(db, EVERYTHING, _visit("R-HIGH", outcome="not_home"), now=NOW)
    assert crisis() == 1  # not met: still nobody in touch
    record_visit(db, EVERYTHING, _visit("R-HIGH", visited_at=at(19)), now=NOW)
    assert crisis() == 0
