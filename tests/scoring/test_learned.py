"""The learned scorer: it finds a planted signal, its probabilities are calibrated, and its
log-odds decomposition adds up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.metrics import roc_auc_score

from scoring.config import TierCutoffs, default_config
from scoring.learned import VISIT_DERIVED_FEATURES, LearnedScorer
from scoring.scorers import FeatureTableError
from scoring.weighted import WeightedIndexScorer
from tests.scoring.test_weighted import random_feature_table


def planted(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature table where the outcome depends on signals and income only:

    logit p = -3 + 0.8 * crisis_signals_12m - 2 * (income_to_median_ratio - 1)
    """
    table = random_feature_table(n, seed=seed)
    rng = np.random.default_rng(seed + 100)
    log_odds = (
        -3.0
        + 0.8 * table["crisis_signals_12m"].to_numpy()
        - 2.0 * (table["income_to_median_ratio"].to_numpy() - 1.0)
    )
    return table, (rng.random(n) < expit(log_odds)).astype(int)


@pytest.fixture(scope="module")
def fitted():
    X, y = planted(4000, seed=0)
    return LearnedScorer(config=default_config()).fit(X, y), X, y


def test_learns_the_planted_signal(fitted):
    scorer, _, _ = fitted
    X_new, y_new = planted(4000, seed=1)
    scores = scorer.score_samples(X_new)
    assert roc_auc_score(y_new, scores) > 0.75
    # Noise-only features score about 0.5 on their own; the planted ones lead the model.
    coef = pd.Series(scorer.coef_ * X_new.std().to_numpy(), index=scorer.features_)
    assert coef["crisis_signals_12m"] > 0.3
    assert coef["income_to_median_ratio"] < -0.5
    noise = coef.drop(["crisis_signals_12m", "income_to_median_ratio"]).abs()
    # Signal kinds add up to crisis_signals_12m, so they share some of its weight.
    assert noise.drop([c for c in noise.index if "signals" in c]).max() < 0.15


def test_probabilities_are_calibrated(fitted):
    scorer, _, _ = fitted
    X_new, y_new = planted(20000, seed=2)
    scores = scorer.score_samples(X_new)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert abs(scores.mean() - y_new.mean()) < 0.02
    # Reliability by decile of the score: predicted and observed rates agree.
    deciles = pd.qcut(scores, 10, labels=False, duplicates="drop")
    table = pd.DataFrame({"p": scores, "y": y_new, "bin": deciles}).groupby("bin").mean()
    assert (table["p"] - table["y"]).abs().max() < 0.05


def test_log_odds_decomposition_adds_up(fitted):
    scorer, X, _ = fitted
    sample = X.iloc[:300]
    explained = scorer.explain(sample)
    contrib = explained.filter(like="contrib_").to_numpy()
    total = explained["baseline"].to_numpy() + contrib.sum(axis=1)
    scores = explained["score"].to_numpy()
    np.testing.assert_allclose(total, logit(scores), rtol=0, atol=1e-9)
    assert explained.attrs["adds_up_to"] == "log-odds"
    # The decomposition reproduces scikit-learn's calibrated probabilities.
    np.testing.assert_allclose(
        scorer.score_samples(sample),
        scorer.calibrated_.predict_proba(sample.to_numpy())[:, 1],
        rtol=0,
        atol=1e-12,
    )
    # A positive contribution means the value raises the risk above the average resident.
    signals = explained["contrib_crisis_signals_12m"]
    above = (
        sample["crisis_signals_12m"] > scorer.center_[scorer.features_.index("crisis_signals_12m")]
    )
    assert (signals[above] > 0).all() and (signals[~above] < 0).all()


def test_default_tiers_match_the_weighted_index_shares(fitted):
    scorer, X, _ = fitted
    weighted = WeightedIndexScorer(config=default_config()).fit(X)
    expected = np.bincount(weighted.predict(X), minlength=3) / len(X)
    np.testing.assert_allclose(scorer.target_tier_shares_, expected)
    learned = np.bincount(scorer.predict(X), minlength=3) / len(X)
    # Equal up to rounding and ties of the probability at the edges.
    np.testing.assert_allclose(learned, expected, atol=5 / len(X))
    assert 0 <= scorer.tier_edges_[0] <= scorer.tier_edges_[1] <= 1


def test_fixed_tier_cutoffs():
    X, y = planted(600, seed=3)
    scorer = LearnedScorer(tier_cutoffs=(0.1, 0.3)).fit(X, y)
    scores = scorer.score_samples(X)
    expected = (scores >= 0.1).astype(int) + (scores >= 0.3)
    assert scorer.predict(X).tolist() == expected.tolist()
    assert scorer.target_tier_shares_ is None
    same = LearnedScorer(tier_cutoffs=TierCutoffs.from_edges(0.1, 0.3)).fit(X, y)
    assert same.tier_edges_.tolist() == [0.1, 0.3]
    with pytest.raises(ValueError, match="tier_cutoffs"):
        LearnedScorer(tier_cutoffs=(0.5, 0.2)).fit(X, y)


def test_feature_selection_by_name():
    X, y = planted(600, seed=4)
    chosen = [c for c in X.columns if c not in VISIT_DERIVED_FEATURES]
    scorer = LearnedScorer(features=chosen).fit(X.assign(adm_cd2="1141052000"), y)
    assert scorer.features_ == tuple(chosen)
    assert len(scorer.coef_) == len(chosen)
    with pytest.raises(FeatureTableError, match="DataFrame"):
        LearnedScorer(features=chosen).fit(X.to_numpy(), y)


def test_outcome_encodings():
    X, y = planted(600, seed=5)
    as_int = LearnedScorer().fit(X, y).score_samples(X)
    as_bool = LearnedScorer().fit(X, y.astype(bool)).score_samples(X)
    as_text = LearnedScorer().fit(X, np.where(y == 1, "yes", "no")).score_samples(X)
    np.testing.assert_allclose(as_bool, as_int)
    np.testing.assert_allclose(as_text, as_int)


def test_invalid_targets():
    X, y = planted(300, seed=6)
    with pytest.raises(ValueError, match="1 class"):
        LearnedScorer().fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="3 classes"):
        LearnedScorer().fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="continuous"):
        LearnedScorer().fit(X, np.linspace(0, 1, len(X)))
    one_positive = np.zeros(len(X), dtype=int)
    one_positive[0] = 1
    with pytest.raises(ValueError, match="at least 2 of each"):
        LearnedScorer().fit(X, one_positive)
    with pytest.raises(ValueError, match="requires y"):
        LearnedScorer().fit(X, None)
    with pytest.raises(ValueError, match="cv must be"):
        LearnedScorer(cv=1).fit(X, y)


def test_inputs_are_not_mutated():
    X, y = planted(300, seed=7)
    X_before, y_before = X.copy(), y.copy()
    scorer = LearnedScorer().fit(X, y)
    scorer.explain(X)
    pd.testing.assert_frame_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
