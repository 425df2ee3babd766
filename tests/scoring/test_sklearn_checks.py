"""The generic scikit-learn estimator checks on the three scorers, default-constructed."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from scoring.learned import LearnedScorer
from scoring.rules import RuleScorer
from scoring.weighted import WeightedIndexScorer

EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


@parametrize_with_checks(
    [WeightedIndexScorer(), RuleScorer(), LearnedScorer()],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS.get(
        type(estimator).__name__, {}
    ),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
