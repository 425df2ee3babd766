"""Explanation wording in Korean and English, from constructed rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.config import FeatureSpec, LinearTransform, LogTransform, ScoringConfig
from scoring.explain import explain, reasons
from scoring.weighted import WeightedIndexScorer
from visitmap.vocab import CRISIS_SIGNAL_KINDS


@pytest.mark.parametrize(
    ("features", "row", "ko", "en"),
    [
        (
            ["signals_electricity_arrears_12m"],
            {"signals_electricity_arrears_12m": 2},
            "전기요금 2회 체납",
            "electricity arrears twice",
        ),
        (
            ["signals_health_insurance_arrears_12m"],
            {"signals_health_insurance_arrears_12m": 1},
            "건강보험료 1회 체납",
            "health insurance arrears once",
        ),
        (
            ["signals_electricity_cutoff_12m"],
            {"signals_electricity_cutoff_12m": 3},
            "단전 3회",
            "electricity cut off 3 times",
        ),
        (
            ["signals_gas_arrears_6m"],
            {"signals_gas_arrears_6m": 2},
            "최근 6개월 가스요금 2회 체납",
            "gas arrears twice in 6 months",
        ),
        (
            ["signals_rent_arrears_12m"],
            {"signals_rent_arrears_12m": 0},
            "임차료 체납 없음",
            "no rent arrears",
        ),
        (["lives_alone"], {"lives_alone": 1, "age_years": 84}, "혼자 사는 84세", "lives alone, 84"),
        (["age_years"], {"lives_alone": 1, "age_years": 84.0}, "혼자 사는 84세", "lives alone, 84"),
        (["age_years"], {"lives_alone": 0, "age_years": 91}, "91세", "aged 91"),
        (["lives_alone"], {"lives_alone": 1}, "혼자 삶", "lives alone"),
        (["lives_alone"], {"lives_alone": 0}, "혼자 살지 않음", "does not live alone"),
        (
            ["days_since_met_visit"],
            {"days_since_met_visit": 212},
            "212일 동안 방문 없음",
            "not visited for 212 days",
        ),
        (
            ["days_since_met_visit"],
            {"days_since_met_visit": 1},
            "1일 동안 방문 없음",
            "not visited for 1 day",
        ),
        (
            ["days_since_met_visit"],
            {"days_since_met_visit": 4321},
            "4,321일 동안 방문 없음",
            "not visited for 4,321 days",
        ),
        (
            ["days_since_last_contact"],
            {"days_since_last_contact": 90},
            "90일 동안 연락 안 됨",
            "not reached for 90 days",
        ),
        (
            ["days_overdue"],
            {"days_overdue": 15},
            "방문 예정일 2주 이상 지남",
            "visit over 2 weeks overdue",
        ),
        (["days_overdue"], {"days_overdue": 3}, "방문 예정일 3일 지남", "visit 3 days overdue"),
        (
            ["days_overdue"],
            {"days_overdue": 400},
            "방문 예정일 1년 이상 지남",
            "visit over a year overdue",
        ),
        (
            ["income_to_median_ratio"],
            {"income_to_median_ratio": 0.28},
            "기준 중위소득의 28%",
            "income 28% of the median",
        ),
        (
            ["income_to_median_ratio"],
            {"income_to_median_ratio": 0.284999},
            "기준 중위소득의 28%",
            "income 28% of the median",
        ),
        (["has_disability"], {"has_disability": 1}, "등록 장애", "registered disability"),
        (["household_size"], {"household_size": 1}, "1인 가구", "household of 1"),
        (
            ["assets_million_krw"],
            {"assets_million_krw": 12.5},
            "재산 1,250만 원",
            "assets 12.5 million KRW",
        ),
        (
            ["nearest_community_centre_m"],
            {"nearest_community_centre_m": 1234.0},
            "주민센터까지 1.2km",
            "1.2 km to the community centre",
        ),
        (
            ["nearest_senior_or_welfare_m"],
            {"nearest_senior_or_welfare_m": 849.6},
            "경로당·복지관까지 850m",
            "850 m to a senior or welfare centre",
        ),
        (
            ["crisis_signals_12m"],
            {"crisis_signals_12m": 3, "crisis_signals_6m": 1},
            "최근 12개월 위기 신호 3건",
            "3 crisis signals in 12 months",
        ),
        (
            ["crisis_signals_6m"],
            {"crisis_signals_6m": 1},
            "최근 6개월 위기 신호 1건",
            "1 crisis signal in 6 months",
        ),
        (["x0"], {"x0": 3.5}, "x0 = 3.5", "x0 = 3.5"),
    ],
)
def test_wording(features, row, ko, en):
    assert reasons(features, row) == ([ko], [en])


def test_every_signal_kind_uses_the_vocabulary_label():
    for kind, (label_ko, label_en) in CRISIS_SIGNAL_KINDS.items():
        ko, en = reasons([f"signals_{kind}_12m"], {f"signals_{kind}_12m": 2})
        assert ko[0].replace(" 2회", "") == label_ko
        assert en[0] == f"{label_en.lower()} twice"


def test_related_features_are_said_once_and_top_limits():
    row = {
        "lives_alone": 1,
        "age_years": 84,
        "days_since_met_visit": 212,
        "days_since_last_contact": 200,
        "signals_gas_arrears_6m": 1,
        "signals_gas_arrears_12m": 2,
        "income_to_median_ratio": 0.28,
    }
    order = [
        "age_years",
        "lives_alone",
        "signals_gas_arrears_6m",
        "signals_gas_arrears_12m",
        "days_since_met_visit",
        "days_since_last_contact",
        "income_to_median_ratio",
    ]
    ko, en = reasons(order, row)
    # The 6- and 12-month counts of one kind are one reason, told from the 12-month count.
    assert ko == ["혼자 사는 84세", "가스요금 2회 체납", "212일 동안 방문 없음"]
    assert en == ["lives alone, 84", "gas arrears twice", "not visited for 212 days"]
    assert reasons(order, row, top=5)[1] == [
        "lives alone, 84",
        "gas arrears twice",
        "not visited for 212 days",
        "not reached for 200 days",
        "income 28% of the median",
    ]
    assert reasons(order, row, top=0) == ([], [])


def test_weighted_explanation_orders_reasons_by_contribution():
    config = ScoringConfig(
        version="explain_v1",
        features=(
            FeatureSpec("lives_alone", 2.0, LinearTransform(0.0, 1.0)),
            FeatureSpec("age_years", 1.0, LinearTransform(65.0, 85.0)),
            FeatureSpec("days_since_met_visit", 3.0, LinearTransform(0.0, 365.0)),
            FeatureSpec("income_to_median_ratio", 4.0, LinearTransform(0.0, 1.0, invert=True)),
            FeatureSpec("signals_electricity_arrears_12m", 5.0, LogTransform(2.0)),
        ),
    )
    X = pd.DataFrame(
        {
            "lives_alone": [1.0, 0.0],
            "age_years": [84.0, 30.0],
            "days_since_met_visit": [212.0, 10.0],
            "income_to_median_ratio": [0.28, 2.0],
            "signals_electricity_arrears_12m": [2.0, 0.0],
        },
        index=pd.Index(["R-1", "R-2"], name="resident_id"),
    )
    scorer = WeightedIndexScorer(config=config).fit(X)
    explained = explain(scorer, X)
    # Weights /15. R-1: electricity 5 * 1 = 5; income 4 * 0.72 = 2.88; lives alone 2 * 1 = 2;
    # days 3 * 212 / 365 = 1.74; age 1 * 0.95. R-2: only days, 3 * 10 / 365 = 0.08.
    assert explained.index.tolist() == ["R-1", "R-2"]
    assert explained.loc["R-1", "reasons_ko"] == [
        "전기요금 2회 체납",
        "기준 중위소득의 28%",
        "혼자 사는 84세",
    ]
    assert explained.loc["R-1", "reasons_en"] == [
        "electricity arrears twice",
        "income 28% of the median",
        "lives alone, 84",
    ]
    assert explained.loc["R-2", "reasons_en"] == ["not visited for 10 days"]
    assert explained.loc["R-1", "contrib_signals_electricity_arrears_12m"] == pytest.approx(5 / 15)
    assert list(explained.columns[:2]) == ["score", "tier"]
    assert list(explained.columns[-2:]) == ["reasons_ko", "reasons_en"]
    contrib = explained.filter(like="contrib_").sum(axis=1)
    assert np.abs(contrib - explained["score"]).max() < 1e-12


def test_explain_arrays_get_positional_names():
    X = np.array([[0.0, 1.0], [2.0, 3.0]])
    explained = WeightedIndexScorer().fit(X).explain(X)
    assert explained.index.tolist() == [0, 1]
    assert explained.loc[1, "reasons_en"] == ["x0 = 2", "x1 = 3"]
    assert explained.loc[0, "reasons_en"] == []


def test_top_must_be_a_count():
    X = np.array([[0.0], [1.0]])
    with pytest.raises(ValueError, match="top"):
        WeightedIndexScorer().fit(X).explain(X, top=-1)


def test_never_met_says_no_visit_on_record_not_a_number():
    """A never-met resident's days count from registration: no number is stated."""
    row = {"days_since_met_visit": 17174, "days_since_last_contact": 17174, "days_overdue": 16992}
    features = ["days_since_met_visit", "days_overdue", "days_since_last_contact"]
    ko, en = reasons(features, row, never_met=True, never_contacted=True)
    assert ko == ["방문 기록 없음", "연락 기록 없음"]  # said once, though two features ask
    assert en == ["no visit on record", "no contact on record"]
    # without the flags, the records' span caps: 730 days of visits cannot hold a visit
    # 17,174 days ago
    ko, en = reasons(features, row, records_days=730)
    assert ko == ["방문 기록 없음", "연락 기록 없음"]
    # within the span the number is the records'
    ko, _ = reasons(["days_since_met_visit"], {"days_since_met_visit": 212}, records_days=730)
    assert ko == ["212일 동안 방문 없음"]
    # met, never reached since: only the contact reason changes
    ko, _ = reasons(
        features[:1] + features[2:], row | {"days_since_met_visit": 40}, never_contacted=True
    )
    assert ko == ["40일 동안 방문 없음", "연락 기록 없음"]


def test_no_reason_states_more_days_than_the_records():
    """Whatever the values, with the span given no reason holds a day count above it."""
    import re

    span = 730
    rng = np.random.default_rng(3)
    names = ["days_since_met_visit", "days_since_last_contact", "days_overdue"]
    for _ in range(200):
        met = float(rng.integers(0, 30000))
        row = {
            "days_since_met_visit": met,
            "days_since_last_contact": float(rng.integers(0, 30000)),
            "days_overdue": max(0.0, met - 30),
        }
        ko, en = reasons(names, row, records_days=span)
        for phrase in ko + en:
            numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", phrase)]
            assert all(n <= span for n in numbers), phrase


def test_explain_takes_never_met():
    config = ScoringConfig(
        version="t",
        features=(FeatureSpec("days_since_met_visit", 1.0, LinearTransform(low=0.0, high=365.0)),),
    )
    X = pd.DataFrame({"days_since_met_visit": [20000.0, 100.0]})
    scorer = WeightedIndexScorer(config=config).fit(X)
    frame = explain(scorer, X, never_met=[True, False])
    assert frame["reasons_ko"].tolist() == [["방문 기록 없음"], ["100일 동안 방문 없음"]]
