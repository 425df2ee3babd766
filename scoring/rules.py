"""A rule baseline: a resident's tier is the highest tier among the rules that fire.

A :class:`Rule` fires when all its :class:`Condition` s hold; a condition compares the sum
of one or more features with a value. :data:`DEFAULT_RULES` is the baseline described in
``docs/scoring.md``; :meth:`RuleScorer.default` uses it.

The score puts each tier in its own third of [0, 1] and breaks ties inside a tier by the
share of rules that fired::

    score = tier / 3 + (n_fired / (n_rules + 1)) / 3

so low is [0, 1/3), medium [1/3, 2/3), high [2/3, 1), and a resident for whom more rules fire
ranks higher within the tier. ``tier_edges_`` is (1/3, 2/3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scoring.config import HIGH, MEDIUM
from scoring.scorers import BaseScorer, ExplanationParts
from visitmap.errors import FieldError

#: Comparison operators a condition may use.
OPERATORS = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
    "==": np.equal,
}


class RuleError(FieldError):
    """An invalid rule or rule set."""


@dataclass(frozen=True)
class Condition:
    """``sum(row[f] for f in features) <op> value``; ``features`` may be a single name."""

    features: tuple[str, ...]
    op: str
    value: float

    def __post_init__(self):
        """Store ``features`` as a tuple and check the names, the operator and the value."""
        features = (self.features,) if isinstance(self.features, str) else tuple(self.features)
        if not features or not all(isinstance(f, str) and f for f in features):
            raise RuleError(f"a condition needs feature names, got {self.features!r}")
        object.__setattr__(self, "features", features)
        if self.op not in OPERATORS:
            raise RuleError(
                f"unknown operator {self.op!r} (expected one of {', '.join(OPERATORS)})"
            )
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise RuleError(f"a condition's value must be a number, got {self.value!r}")
        if not math.isfinite(self.value):
            raise RuleError(f"a condition's value must be finite, got {self.value!r}")

    def holds(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Boolean per row; ``columns`` maps feature names to value arrays."""
        total = sum(columns[f] for f in self.features)
        return OPERATORS[self.op](total, self.value)


@dataclass(frozen=True)
class Rule:
    """Fires (giving ``tier``: 1 medium or 2 high) when all ``conditions`` hold."""

    name: str
    tier: int
    conditions: tuple[Condition, ...]
    description_ko: str = ""
    description_en: str = ""

    def __post_init__(self):
        """Check the name, the tier and the conditions, and store the conditions as a tuple."""
        if not isinstance(self.name, str) or not self.name:
            raise RuleError(f"a rule needs a name, got {self.name!r}")
        if self.tier not in (MEDIUM, HIGH) or isinstance(self.tier, bool):
            raise RuleError(f"rule {self.name}: tier must be 1 (medium) or 2 (high)")
        conditions = tuple(self.conditions)
        if not conditions or not all(isinstance(c, Condition) for c in conditions):
            raise RuleError(f"rule {self.name}: needs at least one Condition")
        object.__setattr__(self, "conditions", conditions)

    @property
    def features(self) -> tuple[str, ...]:
        """Return the features the conditions read, each once, in order of first use."""
        seen: dict[str, None] = {}
        for condition in self.conditions:
            seen.update(dict.fromkeys(condition.features))
        return tuple(seen)


#: Electricity, water and gas arrears and cut-offs in the last 12 months.
UTILITY_SIGNALS_12M = tuple(
    f"signals_{kind}_12m"
    for kind in (
        "electricity_arrears",
        "electricity_cutoff",
        "water_arrears",
        "water_cutoff",
        "gas_arrears",
        "gas_cutoff",
    )
)

_ALONE = Condition(("lives_alone",), ">=", 1)

#: The rule baseline (high rules first; weaker medium versions after).
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        "utility_arrears_2plus",
        HIGH,
        (Condition(UTILITY_SIGNALS_12M, ">=", 2),),
        "최근 12개월 전기·가스·수도 체납 또는 공급 중단 2회 이상",
        "electricity, gas or water arrears or cut-offs at least twice in 12 months",
    ),
    Rule(
        "alone_80plus_not_met_365d",
        HIGH,
        (
            _ALONE,
            Condition(("age_years",), ">=", 80),
            Condition(("days_since_met_visit",), ">=", 365),
        ),
        "80세 이상 혼자 살고 365일 이상 면담 없음",
        "lives alone, 80 or older, not met for 365 days or more",
    ),
    Rule(
        "income_below_32pct_not_met_180d",
        HIGH,
        (
            Condition(("income_to_median_ratio",), "<", 0.32),
            Condition(("days_since_met_visit",), ">=", 180),
        ),
        "소득이 기준 중위소득의 32% 미만이고 180일 이상 면담 없음",
        "income below 32% of the median and not met for 180 days or more",
    ),
    Rule(
        "utility_arrears_1",
        MEDIUM,
        (Condition(UTILITY_SIGNALS_12M, ">=", 1),),
        "최근 12개월 전기·가스·수도 체납 또는 공급 중단",
        "electricity, gas or water arrears or a cut-off in 12 months",
    ),
    Rule(
        "crisis_signals_2plus",
        MEDIUM,
        (Condition(("crisis_signals_12m",), ">=", 2),),
        "최근 12개월 위기 신호 2건 이상",
        "at least two crisis signals in 12 months",
    ),
    Rule(
        "alone_65plus_not_met_180d",
        MEDIUM,
        (
            _ALONE,
            Condition(("age_years",), ">=", 65),
            Condition(("days_since_met_visit",), ">=", 180),
        ),
        "65세 이상 혼자 살고 180일 이상 면담 없음",
        "lives alone, 65 or older, not met for 180 days or more",
    ),
    Rule(
        "income_below_50pct_not_met_180d",
        MEDIUM,
        (
            Condition(("income_to_median_ratio",), "<", 0.5),
            Condition(("days_since_met_visit",), ">=", 180),
        ),
        "소득이 기준 중위소득의 50% 미만이고 180일 이상 면담 없음",
        "income below 50% of the median and not met for 180 days or more",
    ),
)


class RuleScorer(BaseScorer):
    """Tier = the highest tier among the rules that fire (0 if none); see the module doc.

    Parameters
    ----------
    rules : sequence of Rule or None, default=None
        None (or empty) gives a trivial scorer: every row low, score 0. It exists for the
        generic scikit-learn checks; :meth:`default` gives the baseline.

    Attributes
    ----------
    rules_ : tuple of Rule
        The rules, checked (empty without rules).
    features_ : tuple of str
        Features the rules read (all columns of X when there are no rules).
    tier_edges_ : ndarray of shape (2,)
        (1/3, 2/3).
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    def __init__(self, *, rules=None):
        self.rules = rules

    @classmethod
    def default(cls) -> RuleScorer:
        """Return an unfitted scorer with the baseline rules, :data:`DEFAULT_RULES`."""
        return cls(rules=DEFAULT_RULES)

    def fit(self, X, y=None):
        """Check the rules against X's columns (nothing is learned).

        Parameters
        ----------
        X : DataFrame or array of shape (n_residents, n_features)
        y : ignored

        Returns
        -------
        self
        """
        rules = () if self.rules is None else tuple(self.rules)
        if not all(isinstance(rule, Rule) for rule in rules):
            raise RuleError("rules must be Rule objects")
        names = [rule.name for rule in rules]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise RuleError(f"rule names must be unique: {', '.join(duplicated)}")
        features = list(dict.fromkeys(f for rule in rules for f in rule.features)) or None
        self._validate_fit(X, names=features)
        self.rules_ = rules
        self.tier_edges_ = np.array([1 / 3, 2 / 3])
        return self

    def _fired(self, X_arr: np.ndarray) -> np.ndarray:
        columns = {name: X_arr[:, j] for j, name in enumerate(self.features_)}
        fired = np.zeros((X_arr.shape[0], len(self.rules_)), dtype=bool)
        for k, rule in enumerate(self.rules_):
            holds = np.ones(X_arr.shape[0], dtype=bool)
            for condition in rule.conditions:
                holds &= condition.holds(columns)
            fired[:, k] = holds
        return fired

    def _tiers_and_tie_break(self, fired: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rule_tiers = np.array([rule.tier for rule in self.rules_], dtype=np.int64)
        tiers = (fired * rule_tiers).max(axis=1, initial=0)
        tie_break = fired.sum(axis=1) / (len(self.rules_) + 1)
        return tiers, tie_break

    def score_samples(self, X) -> np.ndarray:
        """``tier / 3 + (n_fired / (n_rules + 1)) / 3`` per row, in [0, 1)."""
        tiers, tie_break = self._tiers_and_tie_break(self._fired(self._validate_predict(X)))
        return tiers / 3 + tie_break / 3

    def predict(self, X) -> np.ndarray:
        """Return the highest tier among the rules that fire for each row (0 if none)."""
        return self._tiers_and_tie_break(self._fired(self._validate_predict(X)))[0]

    def _explanation_parts(self, X) -> ExplanationParts:
        X_arr = self._validate_predict(X)
        fired = self._fired(X_arr)
        tiers, tie_break = self._tiers_and_tie_break(fired)
        raw = self._raw_frame(X, X_arr)
        position = {name: j for j, name in enumerate(self.features_)}
        rule_names, fired_lists, reason_features = [], [], []
        for i in range(len(X_arr)):
            fired_rules = [rule for k, rule in enumerate(self.rules_) if fired[i, k]]
            fired_lists.append([rule.name for rule in fired_rules])
            top = next((rule for rule in fired_rules if rule.tier == tiers[i]), None)
            rule_names.append(None if top is None else top.name)
            reasons: list[str] = []
            for condition in () if top is None else top.conditions:
                nonzero = [f for f in condition.features if X_arr[i, position[f]] != 0]
                reasons.extend(nonzero if len(condition.features) > 1 else condition.features)
            reason_features.append(reasons)
        return ExplanationParts(
            index=raw.index,
            score=tiers / 3 + tie_break / 3,
            tier=tiers,
            columns={
                "rule": rule_names,
                "rules_fired": fired_lists,
                "contrib_tier": tiers / 3,
                "contrib_tie_break": tie_break / 3,
            },
            raw=raw,
            reason_features=reason_features,
            adds_up_to="score",
        )
