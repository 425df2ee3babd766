"""The rule baseline: each default rule fires on a constructed row; scores by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.features import FEATURE_NAMES
from scoring.rules import DEFAULT_RULES, Condition, Rule, RuleError, RuleScorer
from scoring.scorers import FeatureTableError

N_RULES = len(DEFAULT_RULES)  # 7


def row(**values) -> dict:
    """A resident no rule fires for (40, not alone, at the median, met 10 days ago)."""
    base = dict.fromkeys(FEATURE_NAMES, 0.0)
    base.update(
        age_years=40.0,
        income_to_median_ratio=1.0,
        days_since_met_visit=10.0,
        days_since_last_contact=10.0,
        household_size=2.0,
    )
    base.update(values)
    return base


CASES = {
    "nothing": (row(), 0, None),
    "two utility signals": (
        row(signals_electricity_arrears_12m=1, signals_water_cutoff_12m=1, crisis_signals_12m=2),
        2,
        "utility_arrears_2plus",
    ),
    "lone 80, a year unmet": (
        row(lives_alone=1, age_years=80, days_since_met_visit=365),
        2,
        "alone_80plus_not_met_365d",
    ),
    "lone 80, 364 days unmet": (
        row(lives_alone=1, age_years=80, days_since_met_visit=364),
        1,
        "alone_65plus_not_met_180d",
    ),
    "lone 79, a year unmet": (
        row(lives_alone=1, age_years=79, days_since_met_visit=400),
        1,
        "alone_65plus_not_met_180d",
    ),
    "lone 64, a year unmet": (row(lives_alone=1, age_years=64, days_since_met_visit=400), 0, None),
    "income 31%, 180 days": (
        row(income_to_median_ratio=0.31, days_since_met_visit=180),
        2,
        "income_below_32pct_not_met_180d",
    ),
    "income 32%, 180 days": (
        row(income_to_median_ratio=0.32, days_since_met_visit=180),
        1,
        "income_below_50pct_not_met_180d",
    ),
    "income 31%, 179 days": (row(income_to_median_ratio=0.31, days_since_met_visit=179), 0, None),
    "one gas cut-off": (
        row(signals_gas_cutoff_12m=1, crisis_signals_12m=1),
        1,
        "utility_arrears_1",
    ),
    "two rent arrears": (
        row(signals_rent_arrears_12m=2, crisis_signals_12m=2),
        1,
        "crisis_signals_2plus",
    ),
    "6-month utility signal only counts through 12 months": (
        row(signals_gas_arrears_6m=3, crisis_signals_6m=3),
        0,
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_default_rules_fire(case):
    values, tier, rule = CASES[case]
    X = pd.DataFrame([values])
    scorer = RuleScorer.default().fit(X)
    assert scorer.predict(X).tolist() == [tier]
    assert scorer.explain(X)["rule"].tolist() == [rule]


def test_scores_by_hand():
    X = pd.DataFrame(
        [
            row(),
            # Fires utility_arrears_2plus (high), utility_arrears_1 and crisis_signals_2plus:
            # 2/3 + (3 / (7 + 1)) / 3 = 0.6667 + 0.125 = 0.791666...
            row(signals_electricity_arrears_12m=2, crisis_signals_12m=2),
            # Fires alone_65plus_not_met_180d only: 1/3 + (1/8) / 3 = 0.375
            row(lives_alone=1, age_years=70, days_since_met_visit=200),
        ]
    )
    scorer = RuleScorer.default().fit(X)
    np.testing.assert_allclose(scorer.score_samples(X), [0.0, 2 / 3 + 0.125, 0.375], atol=1e-15)
    assert scorer.predict(X).tolist() == [0, 2, 1]
    # The score's thirds agree with the tiers through the tier edges (1/3, 2/3).
    assert scorer.tier_edges_.tolist() == [1 / 3, 2 / 3]
    explained = scorer.explain(X)
    assert explained["rules_fired"].iloc[1] == [
        "utility_arrears_2plus",
        "utility_arrears_1",
        "crisis_signals_2plus",
    ]
    total = explained["contrib_tier"] + explained["contrib_tie_break"]
    assert np.abs(total.to_numpy() - explained["score"].to_numpy()).max() < 1e-12


def test_rule_reasons_in_both_languages():
    X = pd.DataFrame(
        [
            row(lives_alone=1, age_years=84, days_since_met_visit=400),
            row(
                signals_electricity_arrears_12m=2, signals_water_cutoff_12m=1, crisis_signals_12m=3
            ),
            row(income_to_median_ratio=0.28, days_since_met_visit=212),
            row(),
        ]
    )
    explained = RuleScorer.default().fit(X).explain(X)
    assert explained["reasons_ko"].tolist() == [
        ["혼자 사는 84세", "400일 동안 방문 없음"],
        ["전기요금 2회 체납", "단수 1회"],
        ["기준 중위소득의 28%", "212일 동안 방문 없음"],
        [],
    ]
    assert explained["reasons_en"].tolist() == [
        ["lives alone, 84", "not visited for 400 days"],
        ["electricity arrears twice", "water cut off once"],
        ["income 28% of the median", "not visited for 212 days"],
        [],
    ]


def test_no_rules_is_trivial():
    X = np.random.default_rng(0).normal(size=(5, 3))
    scorer = RuleScorer().fit(X)
    assert scorer.score_samples(X).tolist() == [0.0] * 5
    assert scorer.predict(X).tolist() == [0] * 5
    assert scorer.features_ == ("x0", "x1", "x2")


def test_custom_rules_with_a_summed_condition():
    rules = (
        Rule("many", 2, (Condition(("a", "b"), ">", 3),)),
        Rule("some", 1, (Condition("a", ">=", 1), Condition("b", "==", 0))),
    )
    X = pd.DataFrame({"a": [2, 1, 0, 4], "b": [2, 0, 0, 0], "unused": [9, 9, 9, 9]})
    scorer = RuleScorer(rules=rules).fit(X)
    # Row 0: a + b = 4 > 3 -> many. Row 1: a >= 1 and b == 0 -> some. Row 2: none.
    # Row 3: a + b = 4 -> many; a >= 1, b == 0 -> some too.
    assert scorer.predict(X).tolist() == [2, 1, 0, 2]
    assert scorer.features_ == ("a", "b")
    np.testing.assert_allclose(
        scorer.score_samples(X), [2 / 3 + 1 / 9, 1 / 3 + 1 / 9, 0.0, 2 / 3 + 2 / 9], atol=1e-15
    )


def test_rules_need_their_columns():
    with pytest.raises(FeatureTableError, match="lives_alone"):
        RuleScorer.default().fit(pd.DataFrame({"age_years": [80.0]}))
    with pytest.raises(FeatureTableError, match="DataFrame"):
        RuleScorer.default().fit(np.zeros((3, len(FEATURE_NAMES))))


def test_invalid_rules():
    with pytest.raises(RuleError, match="operator"):
        Condition("a", "=>", 1)
    with pytest.raises(RuleError, match="tier"):
        Rule("x", 3, (Condition("a", ">", 1),))
    with pytest.raises(RuleError, match="at least one Condition"):
        Rule("x", 2, ())
    with pytest.raises(RuleError, match="finite"):
        Condition("a", ">", float("nan"))
    twice = (Rule("x", 2, (Condition("a", ">", 1),)), Rule("x", 1, (Condition("a", ">", 0),)))
    with pytest.raises(RuleError, match="unique: x"):
        RuleScorer(rules=twice).fit(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(RuleError, match="Rule objects"):
        RuleScorer(rules=["x"]).fit(pd.DataFrame({"a": [1.0]}))


def test_default_rules_use_known_features():
    for rule in DEFAULT_RULES:
        assert set(rule.features) <= set(FEATURE_NAMES), rule.name
    assert [rule.tier for rule in DEFAULT_RULES] == [2, 2, 2, 1, 1, 1, 1]
