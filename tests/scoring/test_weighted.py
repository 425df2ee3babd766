"""The weighted index: hand-computed scores, contributions, tiers at the cut-offs, inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from scoring.config import (
    FeatureSpec,
    LinearTransform,
    LogTransform,
    ScoringConfig,
    StepTransform,
    TierCutoffs,
    default_config,
)
from scoring.features import FEATURE_NAMES
from scoring.scorers import FeatureTableError
from scoring.weighted import WeightedIndexScorer

SIGNAL_COLUMNS = [n for n in FEATURE_NAMES if n.startswith("signals_") and n.endswith("_6m")]


def random_feature_table(n: int, seed: int = 0) -> pd.DataFrame:
    """Plausible random values for every feature (12-month counts include the 6-month ones)."""
    rng = np.random.default_rng(seed)
    data = {
        "lives_alone": rng.integers(0, 2, n),
        "age_years": rng.integers(0, 100, n),
        "household_size": rng.integers(1, 6, n),
        "has_disability": (rng.random(n) < 0.1).astype(int),
        "nearest_community_centre_m": rng.uniform(10, 3000, n),
        "nearest_senior_or_welfare_m": rng.uniform(10, 2000, n),
        "income_to_median_ratio": rng.gamma(2.0, 0.5, n),
        "assets_million_krw": rng.gamma(1.0, 80.0, n),
        "days_since_met_visit": rng.integers(0, 4000, n),
        "days_overdue": rng.integers(0, 300, n),
    }
    data["days_since_last_contact"] = data["days_since_met_visit"] - rng.integers(0, 50, n).clip(
        max=data["days_since_met_visit"]
    )
    total_6m, total_12m = np.zeros(n), np.zeros(n)
    for column in SIGNAL_COLUMNS:
        six = rng.poisson(0.15, n)
        twelve = six + rng.poisson(0.1, n)
        data[column] = six
        data[column.replace("_6m", "_12m")] = twelve
        total_6m, total_12m = total_6m + six, total_12m + twelve
    data["crisis_signals_6m"], data["crisis_signals_12m"] = total_6m, total_12m
    index = pd.Index([f"R-{i:07d}" for i in range(n)], name="resident_id")
    return pd.DataFrame(data, index=index)[list(FEATURE_NAMES)].astype(float)


def hand_config(tiers=None) -> ScoringConfig:
    return ScoringConfig(
        version="hand_v1",
        features=(
            FeatureSpec("lives_alone", 1.0, LinearTransform(0.0, 1.0)),
            FeatureSpec("age_years", 2.0, LinearTransform(60.0, 80.0)),
            FeatureSpec("signals_electricity_arrears_12m", 1.0, LogTransform(3.0)),
        ),
        tiers=tiers or TierCutoffs.from_edges(0.35, 0.6),
    )


HAND_ROWS = pd.DataFrame(
    {
        "lives_alone": [1.0, 0.0, 0.0],
        "age_years": [70.0, 90.0, 50.0],
        "signals_electricity_arrears_12m": [1.0, 0.0, 7.0],
    },
    index=pd.Index(["A", "B", "C"], name="resident_id"),
)


def test_hand_computed_scores():
    # Weights 1, 2, 1 normalise to 0.25, 0.5, 0.25.
    # A: lives alone -> 1; age 70 on [60, 80] -> 0.5; 1 arrears -> log 2 / log 4 = 0.5
    #    score = 0.25 * 1 + 0.5 * 0.5 + 0.25 * 0.5 = 0.625                    -> high (>= 0.6)
    # B: 0; age 90 -> clipped to 1; 0 arrears -> 0: score = 0.5 * 1 = 0.5     -> medium
    # C: 0; age 50 -> 0; 7 arrears -> capped at 3 -> 1: score = 0.25 * 1 = 0.25 -> low
    scorer = WeightedIndexScorer(config=hand_config()).fit(HAND_ROWS)
    np.testing.assert_allclose(scorer.score_samples(HAND_ROWS), [0.625, 0.5, 0.25], atol=1e-15)
    assert scorer.predict(HAND_ROWS).tolist() == [2, 1, 0]
    contributions = scorer.contributions(HAND_ROWS)
    np.testing.assert_allclose(contributions.loc["A"].to_numpy(), [0.25, 0.25, 0.125], atol=1e-15)
    assert list(contributions.columns) == list(hand_config().feature_names)


def test_contributions_sum_to_score_default_config():
    table = random_feature_table(500)
    scorer = WeightedIndexScorer(config=default_config()).fit(table)
    scores = scorer.score_samples(table)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert np.abs(scorer.contributions(table).sum(axis=1).to_numpy() - scores).max() < 1e-12
    explained = scorer.explain(table)
    contrib = explained.filter(like="contrib_")
    assert contrib.shape[1] == len(default_config().features)
    assert np.abs(contrib.sum(axis=1).to_numpy() - explained["score"].to_numpy()).max() < 1e-12
    assert explained.attrs["adds_up_to"] == "score"
    assert (explained["tier"].to_numpy() == scorer.predict(table)).all()


@pytest.mark.parametrize(
    ("value", "tier"),
    [(0.0, 0), (0.3499999999, 0), (0.35, 1), (0.5999999999, 1), (0.6, 2), (1.0, 2)],
)
def test_tiers_at_the_cut_offs(value, tier):
    # One feature, weight 1, linear on [0, 1]: the score is the value itself, exactly.
    config = ScoringConfig(
        version="boundary",
        features=(FeatureSpec("income_to_median_ratio", 5.0, LinearTransform(0.0, 1.0)),),
        tiers=TierCutoffs.from_edges(0.35, 0.6),
    )
    X = pd.DataFrame({"income_to_median_ratio": [value]})
    scorer = WeightedIndexScorer(config=config).fit(X)
    assert scorer.score_samples(X)[0] == value
    assert scorer.predict(X)[0] == tier


def test_columns_by_name_any_order_and_extra_columns():
    table = random_feature_table(50, seed=1)
    scorer = WeightedIndexScorer(config=default_config()).fit(table)
    shuffled = table[table.columns[::-1]].assign(adm_cd2="1141052000")
    np.testing.assert_array_equal(scorer.score_samples(shuffled), scorer.score_samples(table))
    assert scorer.n_features_in_ == len(default_config().features)
    assert tuple(scorer.feature_names_in_) == default_config().feature_names


def test_missing_column_is_named():
    table = random_feature_table(10).drop(columns=["days_since_met_visit"])
    with pytest.raises(FeatureTableError, match="days_since_met_visit"):
        WeightedIndexScorer(config=default_config()).fit(table)


def test_config_needs_named_columns():
    with pytest.raises(FeatureTableError, match="DataFrame"):
        WeightedIndexScorer(config=hand_config()).fit(HAND_ROWS.to_numpy())


def test_config_must_be_a_config():
    with pytest.raises(TypeError, match="ScoringConfig"):
        WeightedIndexScorer(config={"version": "x"}).fit(HAND_ROWS)


def test_without_config_equal_weights_min_max():
    # Column 0 spans [0, 10] and column 1 [10, 30]: weights 1/2 each. Column 2 is constant:
    # weight 0. Row 1: 0 -> low. Row 2: (1 + 1) / 2 = 1 -> high.
    # Row 3: (5 - 0) / 10 = 0.5 and (20 - 10) / 20 = 0.5 -> (0.5 + 0.5) / 2 = 0.5 -> medium.
    X = np.array([[0.0, 10.0, 7.0], [10.0, 30.0, 7.0], [5.0, 20.0, 7.0]])
    scorer = WeightedIndexScorer().fit(X)
    np.testing.assert_allclose(scorer.score_samples(X), [0.0, 1.0, 0.5], atol=1e-15)
    assert scorer.weights_.tolist() == [0.5, 0.5, 0.0]
    assert scorer.features_ == ("x0", "x1", "x2")
    assert scorer.predict(X).tolist() == [0, 2, 1]
    # Outside the training range the transforms clip: (1 * 0.5 + 0 * 0.5) + 0 for column 2.
    assert scorer.score_samples(np.array([[20.0, 0.0, 99.0]]))[0] == 0.5


def test_inputs_are_not_mutated():
    table = random_feature_table(30)
    before = table.copy()
    scorer = WeightedIndexScorer(config=default_config()).fit(table)
    scorer.score_samples(table)
    scorer.explain(table)
    pd.testing.assert_frame_equal(table, before)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        WeightedIndexScorer().score_samples(np.zeros((2, 2)))


def test_step_transform_in_the_index():
    config = ScoringConfig(
        version="step",
        features=(
            FeatureSpec("has_disability", 1.0, StepTransform(1.0)),
            FeatureSpec("nearest_community_centre_m", 3.0, StepTransform(1000.0)),
        ),
    )
    # Weights 0.25 and 0.75: disability only -> 0.25; far only -> 0.75; both -> 1.
    X = pd.DataFrame(
        {"has_disability": [1, 0, 1, 0], "nearest_community_centre_m": [10, 1000, 1200, 999]}
    )
    scores = WeightedIndexScorer(config=config).fit(X).score_samples(X)
    np.testing.assert_allclose(scores, [0.25, 0.75, 1.0, 0.0], atol=1e-15)


def test_missing_values_are_named():
    table = random_feature_table(20)
    table.loc[table.index[:3], "income_to_median_ratio"] = np.nan
    with pytest.raises(FeatureTableError, match=r"NaN\) in income_to_median_ratio \(3 rows\)"):
        WeightedIndexScorer(config=default_config()).fit(table)
    scorer = WeightedIndexScorer(config=default_config()).fit(table.fillna(0.5))
    with pytest.raises(FeatureTableError, match="income_to_median_ratio"):
        scorer.score_samples(table)
    # A column the configuration does not use may be missing.
    assert "assets_million_krw" not in default_config().feature_names
    scorer.score_samples(table.fillna(0.5).assign(assets_million_krw=np.nan))
