"""The scorer comparison: metrics by hand, and a tiny constructed case checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scoring.config import FeatureSpec, LinearTransform, LogTransform, ScoringConfig
from scoring.features import FEATURE_NAMES
from scoring.learned import VISIT_DERIVED_FEATURES
from scoring.report import (
    ReportError,
    compare_scorers,
    high_tier_precision_recall,
    precision_at_k,
    scaled_k,
)


def test_precision_at_k_by_hand():
    y = [1, 0, 1, 0, 0, 1]
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.1]
    assert precision_at_k(y, scores, 1) == 1.0
    assert precision_at_k(y, scores, 2) == 0.5
    assert precision_at_k(y, scores, 3) == pytest.approx(2 / 3)
    assert precision_at_k(y, scores, 6) == 0.5
    # Ties at the k-th score: above 0.5 is one positive; the two tied rows (one positive)
    # fill one place: (1 + 1 * 1/2) / 2 = 0.75.
    assert precision_at_k([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1], 2) == 0.75
    # All tied: the base rate.
    assert precision_at_k([1, 0, 0, 0], [0.3] * 4, 2) == 0.25
    with pytest.raises(ReportError):
        precision_at_k(y, scores, 0)
    with pytest.raises(ReportError):
        precision_at_k(y, scores, 7)


def test_high_tier_precision_recall_by_hand():
    # High rows: 0, 1, 3 -> positives among them: 0, 3 -> precision 2/3; positives 0, 3, 4
    # -> recall 2/3.
    precision, recall = high_tier_precision_recall([1, 0, 0, 1, 1], [2, 2, 1, 2, 0])
    assert (precision, recall) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    precision, recall = high_tier_precision_recall([1, 0], [0, 1])
    assert math.isnan(precision) and recall == 0.0


def test_scaled_k_by_hand():
    assert scaled_k(100, 400, 20000) == 2  # 100 * 400 / 20000
    assert scaled_k(100, 50, 20000) == 1  # 0.25 rounds to 0, at least 1
    assert scaled_k(100, 30, 30) == 30  # never more than the fold
    assert scaled_k(20, 20, 200) == 2


def constructed(weight_on: str):
    """40 labelled residents (10 confirmed) and 160 unlabelled, all features present.

    Confirmed: 3 crisis signals (2 electricity arrears), aged 40, not alone.
    Not confirmed: no signals, aged 85, living alone. Everyone: income at the median, met 10
    days ago, so no other rule fires.
    """
    n_labelled, n_unlabelled = 40, 160
    table = pd.DataFrame(0.0, index=[f"R-{i:03d}" for i in range(200)], columns=list(FEATURE_NAMES))
    table["income_to_median_ratio"] = 1.0
    table["days_since_met_visit"] = 10.0
    table["days_since_last_contact"] = 10.0
    table["household_size"] = 2.0
    positive = np.zeros(200, dtype=bool)
    positive[:10] = True
    table.loc[positive, ["crisis_signals_12m", "signals_electricity_arrears_12m"]] = [3.0, 2.0]
    table.loc[positive, "age_years"] = 40.0
    table.loc[~positive, ["age_years", "lives_alone"]] = [85.0, 1.0]
    labels = pd.Series(np.nan, index=table.index)
    labels.iloc[:n_labelled] = positive[:n_labelled].astype(float)
    assert n_unlabelled == labels.isna().sum()
    transform = (
        LogTransform(4.0) if weight_on == "crisis_signals_12m" else LinearTransform(65.0, 85.0)
    )
    config = ScoringConfig(
        version=f"tiny_{weight_on}",
        features=(FeatureSpec(weight_on, 1.0, transform),),
        visits_per_month=20,
    )
    return table, labels, config


def test_tiny_case_by_hand():
    table, labels, config = constructed("crisis_signals_12m")
    report = compare_scorers(table, labels, config=config, folds=2, random_state=0)
    folds = report.per_fold
    assert len(folds) == 6
    # Two stratified folds of 20 (5 confirmed each); k = 20 visits * 20 / 200 residents = 2.
    assert folds["n"].tolist() == [20] * 6
    assert folds["n_positive"].tolist() == [5] * 6
    assert folds["k"].tolist() == [2] * 6
    # Weighted: confirmed score log 4 / log 5 = 0.86 (high), the others 0 (low): perfect.
    # Rules: confirmed fire utility_arrears_2plus (high), the others nothing (low): perfect.
    for scorer in ("weighted", "rules"):
        rows = folds[folds["scorer"] == scorer]
        assert rows["roc_auc"].tolist() == [1.0, 1.0]
        assert rows["high_precision"].tolist() == [1.0, 1.0]
        assert rows["high_recall"].tolist() == [1.0, 1.0]
        assert rows["precision_at_k"].tolist() == [1.0, 1.0]
        assert rows["n_high"].tolist() == [5, 5]
    learned = folds[folds["scorer"] == "learned"]
    assert learned["roc_auc"].tolist() == [1.0, 1.0]
    summary = report.to_frame()
    assert summary.index.tolist() == ["weighted", "rules", "learned"]
    assert summary.loc["weighted", "roc_auc_mean"] == 1.0
    assert summary.loc["weighted", "high_share"] == 0.25
    assert not report.learned_beats_weighted
    assert report.verdict.startswith(
        "The learned scorer does not beat the weighted index: their ROC AUC is equal "
        "(mean over 2 folds, better in 0 of 2 folds)"
    )
    assert report.n_population == 200 and report.n_labelled == 40
    assert not set(VISIT_DERIVED_FEATURES) & set(report.learned_features)


def test_learned_beats_a_backwards_index():
    # The index weights age only, which is higher for the residents *without* a crisis:
    # its ROC AUC is 0 in both folds; the learned scorer separates them perfectly.
    table, labels, config = constructed("age_years")
    report = compare_scorers(table, labels, config=config, folds=2)
    differences = report.differences()
    assert differences.at["roc_auc", "mean_difference"] == 1.0
    assert differences.at["roc_auc", "folds_better"] == 2
    assert report.learned_beats_weighted
    assert report.verdict.startswith(
        "The learned scorer beats the weighted index on ROC AUC by 1.000 "
        "(mean over 2 folds, better in 2 of 2 folds); its precision at k is 1.000 higher"
    )
    markdown = report.to_markdown()
    assert "| weighted | 0.000 ± 0.000 |" in markdown
    assert "| roc_auc | +1.000 | 0.000 | 2 of 2 |" in markdown
    assert report.verdict in markdown


def test_labels_as_array_and_rejections():
    table, labels, config = constructed("crisis_signals_12m")
    report = compare_scorers(table, labels.to_numpy(), config=config, folds=2)
    assert report.n_labelled == 40
    with pytest.raises(ReportError, match="at least 11"):
        compare_scorers(table, labels, config=config, folds=11)
    with pytest.raises(ReportError, match="0 .* 1 .* or missing"):
        compare_scorers(table, labels.replace(1.0, 2.0), config=config, folds=2)
    with pytest.raises(ReportError, match="not in features"):
        compare_scorers(table.iloc[1:], labels, config=config, folds=2)
    with pytest.raises(ReportError, match="folds"):
        compare_scorers(table, labels, config=config, folds=1)
    with pytest.raises(ReportError, match="ScoringConfig"):
        compare_scorers(table, labels, config=None)
