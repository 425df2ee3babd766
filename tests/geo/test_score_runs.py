"""Score runs stored in PostGIS: contents, reproducibility, changes between runs, CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from geo.demo import generate_demo
from geo.demo_load import load_demo_files
from geo.features import load_features
from geo.importers import import_file
from geo.scope import Scope
from geo.score_runs import inputs_digest, labels_of, load_visit_labels, run_changes, unpack_vectors
from scoring.config import TierCutoffs, default_config
from tests.conftest import TEST_RRN_KEY
from visitmap.usecases.scoring_runs import score_residents

pytestmark = pytest.mark.db

AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_scores")
    generate_demo(out, seed=11, scale=3000, region="seodaemun", as_of=AS_OF)
    return out


@pytest.fixture
def demo(db, demo_dir):
    load_demo_files(db, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    return db


def _run(db, method="weighted", config=None):
    return score_residents(
        db,
        Scope.everything(),
        method=method,
        config=config or default_config(),
        as_of=AS_OF,
        created_by="test",
        publish=True,
    )


def _scores(db, run_id) -> pd.DataFrame:
    rows = db.execute(
        text("""
        SELECT r.external_id, s.score, s.tier, s.next_due_on, s.features, s.contributions
        FROM resident_scores s JOIN residents r ON r.id = s.resident_id
        WHERE s.run_id = :run ORDER BY r.external_id"""),
        {"run": run_id},
    ).all()
    return pd.DataFrame(
        rows, columns=["resident_id", "score", "tier", "next_due_on", "features", "contributions"]
    ).set_index("resident_id")


def test_weighted_run_is_stored_whole(demo):
    result = _run(demo)
    run = (
        demo.execute(text("SELECT * FROM score_runs WHERE id = :id"), {"id": result.stored.run_id})
        .mappings()
        .one()
    )
    active = demo.execute(text("SELECT count(*) FROM residents WHERE status = 'active'")).scalar()
    scores = _scores(demo, run["id"])
    assert len(scores) == active == run["input_counts"]["residents_scored"]
    assert run["method"] == "weighted" and run["config_version"] == "weighted_v1"
    assert run["created_by"] == "test" and run["as_of"] == AS_OF
    assert sum(run["tier_counts"].values()) == active
    assert run["tier_counts"]["high"] == int((scores["tier"] == 2).sum())
    assert run["metrics"]["labelled"] > 0 and 0.5 < run["metrics"]["roc_auc_on_labels"] <= 1
    # the stored contributions add up to the score (float32 storage: 1e-5)
    sums = scores["contributions"].map(lambda b: unpack_vectors(b).astype(float).sum())
    np.testing.assert_allclose(sums.to_numpy(), scores["score"].to_numpy(), atol=1e-5)
    widths = scores["features"].map(lambda b: len(unpack_vectors(b)))
    assert set(widths) == {len(run["feature_names"])}


def test_next_due_follows_the_tier_cadence(demo):
    """Tier cadence from the last met visit (never met: first-visit days from the day the
    resident entered the tier, here the first run's day), but not before 7 days after a
    later visit that did not meet the resident, and 30 days after the last attempt for the
    unreachable (scoring.cadence.FollowUp)."""
    result = _run(demo)
    scores = _scores(demo, result.stored.run_id)
    rows = demo.execute(
        text("""
        SELECT r.external_id, coalesce(max((v.visited_at AT TIME ZONE 'Asia/Seoul')::date)
            FILTER (WHERE v.outcome IN ('met', 'crisis_confirmed')), r.registered_on),
            max((v.visited_at AT TIME ZONE 'Asia/Seoul')::date),
            max((v.visited_at AT TIME ZONE 'Asia/Seoul')::date)
                FILTER (WHERE v.outcome IN ('met', 'crisis_confirmed')),
            r.unreachable_since
        FROM residents r LEFT JOIN visits v ON v.resident_id = r.id
        WHERE r.status = 'active'
        GROUP BY r.external_id, r.registered_on, r.unreachable_since""")
    ).all()
    gone = {r[0] for r in rows if r[4] is not None}  # marked by the demo's import
    met = {r[0]: r[3] for r in rows}
    attempt = {r[0]: r[2] for r in rows if r[2] is not None and (r[3] is None or r[2] > r[3])}
    assert len(attempt) > 10  # the demo has residents whose latest visit did not meet them
    cadence = {0: 182, 1: 91, 2: 30}
    first_visit = {0: 182, 1: 60, 2: 14}

    def tier_due(i, t):
        if met[i] is None:  # first scored into the tier on the run's day
            return AS_OF + dt.timedelta(days=first_visit[t])
        return met[i] + dt.timedelta(days=cadence[t])

    expected = [
        attempt[i] + dt.timedelta(days=30)
        if i in gone
        else max(tier_due(i, t), attempt[i] + dt.timedelta(days=7))
        if i in attempt
        else tier_due(i, t)
        for i, t in scores["tier"].items()
    ]
    assert sum(v is None for v in met.values()) > 100  # never met, in the demo
    assert list(scores["next_due_on"]) == expected
    # overdue on the run's day: counted per tier for `visitmap score`
    late = {
        name: int(((scores["tier"] == code) & (scores["next_due_on"] < AS_OF)).sum())
        for code, name in ((0, "low"), (1, "medium"), (2, "high"))
    }
    assert result.overdue_counts == late


def _tier_since(db, run_id) -> pd.Series:
    rows = db.execute(
        text("""SELECT r.external_id, s.tier_since FROM resident_scores s
            JOIN residents r ON r.id = s.resident_id WHERE s.run_id = :run"""),
        {"run": run_id},
    ).all()
    return pd.Series(dict(rows))


def test_tier_since_is_carried_across_runs_and_reset_by_a_tier_change(demo):
    first = _run(demo)
    assert set(_tier_since(demo, first.stored.run_id)) == {AS_OF}
    later = AS_OF + dt.timedelta(days=10)
    config = default_config()
    # other tier edges: some residents change tier in the second run
    moved_config = dataclasses.replace(config, tiers=TierCutoffs.from_edges(0.3, 0.5))
    second = score_residents(
        demo, Scope.everything(), method="weighted", config=moved_config, as_of=later,
        created_by="test",
    )  # fmt: skip
    before = _scores(demo, first.stored.run_id)["tier"]
    after = _scores(demo, second.stored.run_id)
    since = _tier_since(demo, second.stored.run_id)
    same = before.reindex(after.index) == after["tier"]
    assert same.sum() > 100 and (~same).sum() > 10
    assert set(since[same[same].index]) == {AS_OF}  # carried
    assert set(since[same[~same].index]) == {later}  # entered the tier on the run's day
    never_met = set(
        demo.execute(
            text("""SELECT r.external_id FROM residents r WHERE r.status = 'active' AND NOT EXISTS
                (SELECT 1 FROM visits v WHERE v.resident_id = r.id)""")
        ).scalars()
    )
    first_visit = {0: 182, 1: 60, 2: 14}
    for rid in list(never_met & set(after.index))[:200]:
        tier = int(after.loc[rid, "tier"])
        assert after.loc[rid, "next_due_on"] == since[rid] + dt.timedelta(days=first_visit[tier])


def test_same_inputs_and_parameters_reproduce_the_run(demo):
    first = _run(demo)
    # a second run differs only through days_overdue, which uses the first run's tiers;
    # the third run sees the same previous tiers as the second, so it must equal it.
    second = _run(demo)
    third = _run(demo)
    assert second.stored.inputs_digest == third.stored.inputs_digest
    a, b = _scores(demo, second.stored.run_id), _scores(demo, third.stored.run_id)
    pd.testing.assert_frame_equal(a, b)
    assert first.stored.run_id < second.stored.run_id < third.stored.run_id


def test_changes_show_who_moved_into_high(demo, tmp_path):
    first = _run(demo)
    scores = _scores(demo, first.stored.run_id)
    # the medium-tier resident closest to high gets a burst of arrears
    target = scores[scores["tier"] == 1]["score"].idxmax()
    lines = ["signal_id,resident_id,kind,observed_on,source_agency"]
    for n, kind in enumerate(
        [
            "electricity_arrears",
            "gas_arrears",
            "water_arrears",
            "health_insurance_arrears",
            "rent_arrears",
            "electricity_cutoff",
            "management_fee_arrears",
        ]
    ):
        lines.append(f"T{n},{target},{kind},2026-10-{10 + n},test")
    path = tmp_path / "signals.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_file(demo, "crisis-signals", path)
    second = _run(demo)
    changes = run_changes(demo, second.stored.run_id, Scope.everything())
    row = changes.set_index("resident_id").loc[target]
    assert (row["previous_tier"], row["tier"]) == (1, 2)
    assert second.moved_into_high >= 1
    # a scope without the resident's dong hides the change
    code = changes.set_index("resident_id").loc[target, "area_code"]
    others = Scope.of_areas({"1141052000", "1141055500"} - {code})
    assert target not in set(run_changes(demo, second.stored.run_id, others)["resident_id"])


@pytest.mark.parametrize("method", ["rules", "model"])
def test_other_methods_store_runs(demo, method):
    result = _run(demo, method=method)
    run = demo.execute(
        text("SELECT method, metrics FROM score_runs WHERE id = :id"), {"id": result.stored.run_id}
    ).one()
    assert run.method == method
    assert sum(result.stored.tier_counts.values()) == len(_scores(demo, result.stored.run_id))
    assert run.metrics["labelled"] == result.labelled > 0


def test_learned_vs_weighted_on_the_hidden_ground_truth(demo, demo_dir):
    """The report states, with the measured numbers, whether the learned scorer wins."""
    from scoring.report import truth_comparison

    weighted = _scores(demo, _run(demo, "weighted").stored.run_id)["score"]
    learned = _scores(demo, _run(demo, "model").stored.run_id)["score"]
    truth = pd.read_csv(demo_dir / "ground_truth.csv", dtype={"resident_id": str})
    truth = truth.set_index("resident_id")["in_crisis"].reindex(weighted.index)
    frame, sentence = truth_comparison({"weighted": weighted, "learned": learned}, truth)
    auc_w, auc_l = frame.loc["weighted", "roc_auc"], frame.loc["learned", "roc_auc"]
    assert 0.5 < auc_w < 1 and 0.5 < auc_l < 1
    assert f"{auc_l:.3f} vs {auc_w:.3f}" in sentence
    assert ("beats" in sentence) == (auc_l > auc_w)
    assert (" does not beat " in sentence) == (auc_l <= auc_w)


def test_resident_explanation_from_the_stored_run(demo):
    from geo.score_runs import resident_explanation

    result = _run(demo)
    scores = _scores(demo, result.stored.run_id)
    top = scores["score"].idxmax()
    explained = resident_explanation(demo, Scope.everything(), top)
    assert explained["tier"] == scores.loc[top, "tier"] == 2
    assert explained["score"] == pytest.approx(scores.loc[top, "score"])
    assert 1 <= len(explained["reasons_ko"]) == len(explained["reasons_en"]) <= 3
    assert all(isinstance(r, str) and r for r in explained["reasons_ko"])
    # the reasons follow the largest contributions
    biggest = max(explained["contributions"], key=explained["contributions"].get)
    assert explained["contributions"][biggest] > 0
    assert sum(explained["contributions"].values()) == pytest.approx(explained["score"], abs=1e-5)
    assert resident_explanation(demo, Scope.of_areas(set()), top) is None
    assert resident_explanation(demo, Scope.everything(), "no-such-resident") is None


def test_reasons_of_the_never_met_state_no_day_count_beyond_the_records(demo):
    """The demo's visits span about two years; never-met residents registered decades ago
    read "방문 기록 없음", and no reason of any resident states more days than that."""
    import re

    from geo.score_runs import resident_explanation

    result = _run(demo)
    first_visit = demo.execute(
        text("SELECT min((visited_at AT TIME ZONE 'Asia/Seoul')::date) FROM visits")
    ).scalar_one()
    span = (AS_OF - first_visit).days
    never_met = set(
        demo.execute(
            text("""SELECT r.external_id FROM residents r WHERE r.status = 'active'
                AND r.registered_on < :first AND NOT EXISTS (SELECT 1 FROM visits v
                WHERE v.resident_id = r.id AND v.outcome IN ('met', 'crisis_confirmed'))"""),
            {"first": first_visit},
        ).scalars()
    )
    scores = _scores(demo, result.stored.run_id)
    sample = list(scores.sort_values("score", ascending=False).index[:150])
    said = 0
    for rid in sample:
        explained = resident_explanation(demo, Scope.everything(), rid)
        for phrase in explained["reasons_ko"] + explained["reasons_en"]:
            numbers = [
                int(n.replace(",", "")) for n in re.findall(r"(\d[\d,]*)\s*(?:일|day)", phrase)
            ]
            assert all(n <= span for n in numbers), (rid, phrase)
        if rid in never_met and "방문 기록 없음" in explained["reasons_ko"]:
            said += 1
            assert "no visit on record" in explained["reasons_en"]
    assert said > 0


def test_inputs_digest_covers_values_ids_and_parameters():
    features = pd.DataFrame(
        {"age_years": [84.0, 61.0, 70.0], "lives_alone": [1.0, 0.0, 1.0]},
        index=pd.Index(["R-1", "R-2", "R-3"], name="resident_id"),
    )
    base = inputs_digest(features, {"method": "weighted"})
    assert inputs_digest(features.copy(), {"method": "weighted"}) == base
    # a slice digests like the same rows built afresh, and rows outside it do not count
    assert inputs_digest(features.iloc[1:], {}) == inputs_digest(features.iloc[[1, 2]], {})
    assert inputs_digest(features.iloc[:2], {}) == inputs_digest(features.iloc[[0, 1]], {})
    hidden_changed = features.rename(index={"R-3": "R-9"})
    assert inputs_digest(features.iloc[:2], {}) == inputs_digest(hidden_changed.iloc[:2], {})
    arrow_slice = pd.Index(pd.array(["R-0", "R-1", "R-2", "R-3"], dtype="string[pyarrow]")[1:])
    assert inputs_digest(features.set_axis(arrow_slice), {"method": "weighted"}) == base
    # the due-date inputs count too
    due = pd.DataFrame({"planned_on": pd.to_datetime([None, "2026-12-01", None])})
    assert inputs_digest(features, {}, due) != inputs_digest(features, {})
    later = pd.DataFrame({"planned_on": pd.to_datetime([None, "2026-12-02", None])})
    assert inputs_digest(features, {}, due) != inputs_digest(features, {}, later)
    # ids are delimited: ("R-1", "R-23") is not ("R-12", "R-3")
    ab = pd.DataFrame({"x": [1.0, 1.0]}, index=pd.Index(["R-1", "R-23"]))
    assert inputs_digest(ab, {}) != inputs_digest(
        ab.rename(index={"R-1": "R-12", "R-23": "R-3"}), {}
    )
    changed = features.copy()
    changed.loc["R-2", "age_years"] = 62.0
    assert inputs_digest(changed, {"method": "weighted"}) != base
    assert inputs_digest(features.rename(index={"R-3": "R-4"}), {"method": "weighted"}) != base
    assert inputs_digest(features, {"method": "rules"}) != base
    swapped = features.rename(columns={"age_years": "lives_alone", "lives_alone": "age_years"})
    assert inputs_digest(swapped, {"method": "weighted"}) != base


def test_each_run_is_its_own_partition(demo):
    first, second = _run(demo), _run(demo)
    partitions = demo.execute(
        text("""SELECT DISTINCT run_id, tableoid::regclass::text FROM resident_scores
            WHERE run_id IN (:a, :b) ORDER BY run_id"""),
        {"a": first.stored.run_id, "b": second.stored.run_id},
    ).all()
    assert partitions == [
        (run.stored.run_id, f"resident_scores_run_{run.stored.run_id}") for run in (first, second)
    ]


def test_a_new_runs_partition_has_statistics_at_once(demo):
    """Without them the first resident tiles after a run were planned poorly (250 ms against
    78 ms at z15 on the 200k demo, docs/benchmarks.md)."""
    run = _run(demo).stored.run_id
    columns = demo.execute(
        text("SELECT count(*) FROM pg_stats WHERE tablename = :t"),
        {"t": f"resident_scores_run_{run}"},
    ).scalar_one()
    assert columns > 0


def test_labels_for_a_run_match_the_public_label_query(demo):
    as_of = dt.date(2026, 11, 1)
    table = load_features(demo, Scope.everything(), as_of=as_of)
    public = load_visit_labels(demo, Scope.everything(), as_of=as_of)
    expected = public.reindex(table.features.index).dropna().astype("int64")
    labels = labels_of(table)
    assert len(labels) > 10 and labels.sum() > 0
    pd.testing.assert_series_equal(labels, expected)


def test_a_new_run_keeps_the_forms_next_date_and_the_unreachable_retry(demo):
    """What the visit form set (a next visit date; the unreachable mark) survives rescoring."""
    first = _run(demo)
    picked = demo.execute(
        text("""SELECT id, external_id FROM residents r WHERE status = 'active'
                AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.resident_id = r.id
                                AND v.visited_at >= '2026-10-27')
                ORDER BY id LIMIT 2""")
    ).all()  # without a demo visit after the ones below (the demo's teams visit nearly everyone)
    (planned_id, planned_ext), (gone_id, gone_ext) = picked
    demo.execute(
        text("""INSERT INTO visits (external_id, resident_id, visited_at, visitor, outcome,
                next_visit_on)
            VALUES ('T-PLAN', :p, '2026-10-30 10:00+09', 'test', 'met', '2026-11-09'),
                   ('T-GONE', :g, '2026-10-28 10:00+09', 'test', 'not_home', NULL)"""),
        {"p": planned_id, "g": gone_id},
    )
    demo.execute(
        text("UPDATE residents SET unreachable_since = '2026-10-28' WHERE id = :g"),
        {"g": gone_id},
    )
    second = _run(demo)
    assert second.stored.run_id > first.stored.run_id
    due = _scores(demo, second.stored.run_id)["next_due_on"]
    assert due[planned_ext] == dt.date(2026, 11, 9)
    assert due[gone_ext] == dt.date(2026, 10, 28) + dt.timedelta(days=30)
    # a visit that meets them later supersedes the date set before
    demo.execute(
        text("""INSERT INTO visits (external_id, resident_id, visited_at, visitor, outcome)
            VALUES ('T-PLAN-2', :p, '2026-10-31 10:00+09', 'test', 'met')"""),
        {"p": planned_id},
    )
    third = _scores(demo, _run(demo).stored.run_id)
    tier = int(third.loc[planned_ext, "tier"])
    assert third.loc[planned_ext, "next_due_on"] == dt.date(2026, 10, 31) + dt.timedelta(
        days={0: 182, 1: 91, 2: 30}[tier]
    )


@pytest.mark.parametrize("method", ["additive", "weighted"])
def test_a_chunked_rescore_stores_the_run_a_one_chunk_rescore_stores(demo, method):
    """Issue 15: the rescore reads, scores and writes chunks of residents in id order, so its
    memory is bounded by the chunk; any chunk size stores the same rows, counts and digest."""
    previous = _run(demo)  # a published run: previous tiers and tier_since carry over

    def run(chunk_rows):
        return score_residents(
            demo, Scope.everything(), method=method, config=default_config(), as_of=AS_OF,
            created_by="test", chunk_rows=chunk_rows,
        )  # fmt: skip

    whole, chunked = run(10**9), run(700)  # five chunks of the ~3,000 residents
    assert previous.stored.run_id < whole.stored.run_id < chunked.stored.run_id
    columns = "score, tier, next_due_on, features, contributions, tier_since"
    rows = [
        demo.execute(
            text(f"SELECT resident_id, {columns} FROM resident_scores WHERE run_id = :r "
                 "ORDER BY resident_id"),
            {"r": result.stored.run_id},
        ).all()
        for result in (whole, chunked)
    ]  # fmt: skip
    assert len(rows[0]) > 2100 and rows[0] == rows[1]  # more than three chunks
    assert chunked.stored.inputs_digest == whole.stored.inputs_digest
    assert chunked.stored.tier_counts == whole.stored.tier_counts
    assert (chunked.moved_into_high, chunked.overdue_counts, chunked.labelled) == (
        whole.moved_into_high,
        whole.overdue_counts,
        whole.labelled,
    )
    records = [
        demo.execute(
            text("SELECT metrics, input_counts, tier_counts FROM score_runs WHERE id = :r"),
            {"r": result.stored.run_id},
        ).one()
        for result in (whole, chunked)
    ]
    assert records[0] == records[1] and records[0][0]["labelled"] > 0
    aggregates = [
        demo.execute(
            text("""SELECT area_id, tier, due_on, residents FROM run_area_due_counts
            WHERE run_id = :r ORDER BY 1, 2, 3"""),
            {"r": result.stored.run_id},
        ).all()
        for result in (whole, chunked)
    ]
    assert aggregates[0] == aggregates[1]
