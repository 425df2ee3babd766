"""The additive scorer's one-pass scores and contributions (what a score run stores, issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.additive import AdditiveScorer, fit_additive
from scoring.explain import contribution_matrix
from tests.scoring.test_additive import synthetic


def test_one_pass_equals_the_explanation_and_the_scores():
    frame, labels = synthetic(n=2000, seed=3)
    model = fit_additive(frame, labels, version="t1", tier_shares=(0.8, 0.15, 0.05))
    scorer = AdditiveScorer(model).fit(frame)
    scores, parts = scorer.scores_and_contributions(frame)
    assert np.array_equal(scores, scorer.score_samples(frame))
    assert list(parts.columns) == list(scorer.features_) and parts.index.equals(frame.index)
    names = [*frame.columns, "days_overdue"]  # a column the model does not use gets 0
    fast = contribution_matrix(scorer, frame, names, frame=parts)
    slow = contribution_matrix(AdditiveScorer(model).fit(frame), frame, names)
    assert np.array_equal(fast, slow) and (fast[:, -1] == 0).all()
    assert pd.Series(fast[:, 0]).nunique() > 1
