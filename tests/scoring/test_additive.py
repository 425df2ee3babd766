"""The additive scorer: monotone tables, contributions that add up, served without refitting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit

from scoring.additive import (
    MONOTONE,
    AdditiveModelError,
    AdditiveScorer,
    fit_additive,
    load_model,
    save_model,
)
from scoring.methods import make_scorer, rescore_row


def synthetic(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age_years": rng.integers(20, 95, n).astype(float),
            "income_to_median_ratio": rng.uniform(0, 2, n),
            "crisis_signals_12m": rng.poisson(0.3, n).astype(float),
            "lives_alone": rng.integers(0, 2, n).astype(float),
        },
        index=[f"R-{i:05d}" for i in range(n)],
    )
    risk = (
        -5
        + 0.04 * (frame["age_years"] - 50)
        - 1.5 * frame["income_to_median_ratio"]
        + 0.9 * frame["crisis_signals_12m"]
        + 0.7 * frame["lives_alone"]
    )
    labels = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(int)
    return frame, labels


@pytest.fixture(scope="module")
def fitted():
    frame, labels = synthetic()
    model = fit_additive(frame, labels, version="t1", tier_shares=(0.8, 0.15, 0.05))
    return frame, labels, model


def test_shapes_keep_their_monotone_direction(fitted):
    _, _, model = fitted
    for name, (_grid, values) in model.shapes.items():
        steps = np.diff(values) * MONOTONE[name]
        assert (steps >= -1e-9).all(), name
    # and they learned the planted directions, not flat lines
    age = model.shapes["age_years"][1]
    income = model.shapes["income_to_median_ratio"][1]
    assert age[-1] - age[0] > 1.0 and income[0] - income[-1] > 1.0


def test_contributions_add_up_to_the_log_odds(fitted):
    frame, _, model = fitted
    scorer = AdditiveScorer(model).fit(frame)
    parts = scorer._explanation_parts(frame.iloc[:50])
    contributions = np.column_stack([parts.columns[f"contrib_{n}"] for n in scorer.features_])
    total = parts.columns["baseline"] + contributions.sum(axis=1)
    assert np.allclose(total, logit(scorer.score_samples(frame.iloc[:50])))
    assert parts.adds_up_to == "log-odds"


def test_tiers_match_the_requested_shares(fitted):
    frame, _, model = fitted
    tiers = AdditiveScorer(model).fit(frame).predict(frame)
    assert abs((tiers == 2).mean() - 0.05) < 0.01
    assert abs((tiers >= 1).mean() - 0.20) < 0.02


def test_saved_tables_score_alike_and_bad_tables_are_named(fitted, tmp_path):
    frame, _, model = fitted
    path = tmp_path / "m.toml"
    save_model(model, path)
    again = load_model(path)
    a = AdditiveScorer(model).fit(frame).score_samples(frame)
    b = AdditiveScorer(again).fit(frame).score_samples(frame)
    assert np.allclose(a, b, atol=1e-5)
    broken = path.read_text(encoding="utf-8").replace("monotone = 1", "monotone = -1", 1)
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(AdditiveModelError, match="m.toml: shapes"):
        load_model(path)


def test_the_shipped_model_rescores_one_row_without_labels():
    model = load_model()
    assert model.version == "additive_v1" and model.trained["crises"] > 0
    row = pd.DataFrame(
        [{name: float(grid[len(grid) // 2]) for name, (grid, _) in model.shapes.items()}],
        index=["R-1"],
    )
    score, tier, contributions = rescore_row("additive", None, row)
    assert 0 < score < 1 and tier in (0, 1, 2)
    assert contributions.shape == (1, len(model.shapes))
    assert type(make_scorer("additive", None)).__name__ == "AdditiveScorer"
