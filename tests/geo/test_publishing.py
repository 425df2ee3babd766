"""Published score runs: a new run is a draft; the map, the planner, the field pages and the
visit rescoring keep the published run until another is published (docs/publishing.md)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from geo.db import make_engine
from geo.demo import generate_demo
from geo.demo_load import load_demo_files
from geo.mapdata.queries import list_runs, resident_panel
from geo.migrate import upgrade
from geo.scope import Scope
from geo.score_runs import latest_run_id, publish_run, published_run_id, resident_explanation
from geo.settings import SEOUL
from geo.visits import VisitInput
from routing.plan import PlanSettings
from scoring.config import default_config
from tests.conftest import TEST_RRN_KEY
from visitmap.errors import NotFound
from visitmap.usecases.planning import plan_team_day
from visitmap.usecases.scoring_runs import publish_score_run, score_residents
from visitmap.usecases.visits import record_visit

pytestmark = pytest.mark.db

EVERYTHING = Scope.everything()
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_publish")
    generate_demo(out, seed=12, scale=2000, region="seodaemun", as_of=AS_OF)
    return out


@pytest.fixture
def demo(db, demo_dir):
    load_demo_files(db, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    return db


def _score(db, *, publish=False, method="weighted"):
    return score_residents(
        db,
        EVERYTHING,
        method=method,
        config=default_config(),
        as_of=AS_OF,
        created_by="test",
        publish=publish,
    )


def _team(db) -> str:
    return db.execute(text("SELECT external_id FROM visit_teams ORDER BY id LIMIT 1")).scalar_one()


def _top_resident(db, run_id: int) -> str:
    return db.execute(
        text("""SELECT r.external_id FROM resident_scores s JOIN residents r ON r.id = s.resident_id
        WHERE s.run_id = :run ORDER BY s.score DESC, r.id LIMIT 1"""),
        {"run": run_id},
    ).scalar_one()


def test_a_new_run_is_a_draft_and_the_readers_keep_the_published_run(demo):
    db = demo
    first = _score(db, publish=True)
    assert first.published
    published = first.stored.run_id
    assert published_run_id(db) == published
    draft = _score(db, method="rules")
    assert not draft.published
    draft_id = draft.stored.run_id
    # the comparison of a new run is with the published run
    assert draft.stored.previous_run_id == published
    assert latest_run_id(db) == draft_id
    assert published_run_id(db) == published
    rows = {row["id"]: row for row in list_runs(db)}
    assert rows[draft_id]["published_at"] is None and not rows[draft_id]["is_published"]
    assert rows[published]["published_by"] == "test" and rows[published]["is_current"]
    resident = _top_resident(db, published)
    # the map's panel, the explanation, the planner: the published run
    assert resident_explanation(db, EVERYTHING, resident)["run_id"] == published
    assert resident_panel(db, EVERYTHING, resident, today=AS_OF)["run_id"] == published
    settings = PlanSettings(time_limit_seconds=0.3)
    planned = plan_team_day(db, EVERYTHING, _team(db), AS_OF, created_by="t", settings=settings)
    assert planned.run_id == published

    publication = publish_run(db, draft_id, "leader-kim")
    assert publication.changed and publication.previous_run_id == published
    assert published_run_id(db) == draft_id
    assert resident_explanation(db, EVERYTHING, resident)["run_id"] == draft_id
    planned = plan_team_day(db, EVERYTHING, _team(db), AS_OF, created_by="t", settings=settings)
    assert planned.run_id == draft_id
    rows = {row["id"]: row for row in list_runs(db)}
    assert rows[draft_id]["published_by"] == "leader-kim" and rows[draft_id]["is_current"]
    assert rows[published]["is_published"] and not rows[published]["is_current"]


def test_publishing_twice_changes_nothing_and_an_earlier_run_can_be_put_back(demo):
    db = demo
    first = _score(db, publish=True).stored.run_id
    second = _score(db, publish=True).stored.run_id
    assert published_run_id(db) == second
    when = db.execute(
        text("SELECT published_at FROM score_runs WHERE id = :id"), {"id": second}
    ).scalar_one()
    again = publish_run(db, second, "someone else")
    assert not again.changed and again.published_by == "test" and again.published_at == when
    back = publish_run(db, first, "leader-kim")
    assert back.changed and back.previous_run_id == second
    assert published_run_id(db) == first
    with pytest.raises(NotFound, match="score run 999999 does not exist"):
        publish_run(db, 999_999, "x")


def test_no_published_run_means_no_run_for_the_readers(demo):
    db = demo
    draft = _score(db).stored.run_id
    assert published_run_id(db) is None
    assert resident_explanation(db, EVERYTHING, _top_resident(db, draft)) is None


def test_visits_recorded_after_a_draft_was_stored_catch_up_when_it_is_published(demo):
    """A visit rescores the published run only; publishing the draft rescores it there."""
    db = demo
    live = _score(db, publish=True).stored.run_id
    draft = _score(db).stored.run_id
    resident = _top_resident(db, live)
    visit = VisitInput(
        resident_id=resident,
        outcome="met",
        idempotency_key=str(uuid.uuid4()),
        visited_at=dt.datetime.combine(AS_OF, dt.time(10), SEOUL),
        visitor_name="김방문",
    )
    record_visit(db, EVERYTHING, visit, now=dt.datetime.combine(AS_OF, dt.time(18), SEOUL))

    def updates(run_id):
        return db.execute(
            text("SELECT count(*) FROM score_updates WHERE run_id = :run"), {"run": run_id}
        ).scalar_one()

    def due(run_id):
        return db.execute(
            text("""SELECT s.next_due_on FROM resident_scores s
            JOIN residents r ON r.id = s.resident_id
            WHERE s.run_id = :run AND r.external_id = :rid"""),
            {"run": run_id, "rid": resident},
        ).scalar_one()

    assert (updates(live), updates(draft)) == (1, 0)  # the draft is a snapshot
    assert due(draft) != due(live)
    result = publish_score_run(db, draft, by="leader-kim")
    assert result.caught_up == 1 and updates(draft) == 1
    assert due(draft) == due(live)
    # publishing it again replays nothing
    assert publish_score_run(db, live, by="x").caught_up == 0  # live has seen the visit
    assert publish_score_run(db, draft, by="x").caught_up == 0


def test_migration_publishes_the_newest_existing_run(scratch_database):
    engine = make_engine(scratch_database("visitmap_test_publish_migration"))
    try:
        upgrade(engine, "0012")
        with engine.begin() as conn:
            for run_id in (1, 2):
                conn.execute(
                    text("""INSERT INTO score_runs (id, created_by, method, config_version,
                    parameters, as_of, feature_names, input_counts, inputs_digest, tier_counts,
                    metrics) VALUES (:id, 'test', 'weighted', 'v1', '{}', '2026-11-01', '{a}',
                    '{}', 'd', '{}', '{}')"""),
                    {"id": run_id},
                )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("""SELECT id, published_at = created_at, published_by FROM score_runs
                ORDER BY id""")
            ).all()
        assert [tuple(r) for r in rows] == [(1, None, None), (2, True, "migration 0014")]
    finally:
        engine.dispose()
