"""The interface the three scorers share, and what they have in common.

Every scorer is a scikit-learn estimator with

* ``fit(X, y=None)`` returning ``self``;
* ``score_samples(X)``: a float in [0, 1] per row, higher = more at risk;
* ``predict(X)``: tier codes 0 (low), 1 (medium), 2 (high), from the score and the fitted
  tier edges ``tier_edges_`` (the scores at which medium and high start);
* ``explain(X, top=3)``: per-resident contributions and the top reasons in Korean and English
  (see :mod:`scoring.explain`).

``X`` is the feature table (:mod:`scoring.features`), a DataFrame whose columns are taken by
name. A plain array also works; its columns are then named ``x0, x1, ...`` by position, so a
scorer that names its features (a configuration, rules) needs a DataFrame.

The scorers live in :mod:`scoring.weighted` (:class:`~scoring.weighted.WeightedIndexScorer`),
:mod:`scoring.rules` (:class:`~scoring.rules.RuleScorer`) and :mod:`scoring.learned`
(:class:`~scoring.learned.LearnedScorer`); :func:`scoring.methods.make_scorer` chooses one by
name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from scoring.explain import explain
from visitmap.errors import FieldError

__all__ = [
    "BaseScorer",
    "ExplanationParts",
    "FeatureTableError",
    "assign_tiers",
    "positional_names",
]


class FeatureTableError(FieldError):
    """The feature table lacks columns a scorer needs, or names cannot be resolved."""


def positional_names(n_features: int) -> list[str]:
    """``x0, x1, ...``: the names of the columns of a plain array."""
    return [f"x{i}" for i in range(n_features)]


def assign_tiers(scores, medium_start: float, high_start: float) -> np.ndarray:
    """Tier codes: 0 below ``medium_start``, 1 from it, 2 from ``high_start`` (inclusive)."""
    scores = np.asarray(scores, dtype=float)
    return (scores >= medium_start).astype(np.int64) + (scores >= high_start)


def positive_reasons(contributions: np.ndarray, features, *, candidates: int = 8) -> list:
    """Return, per row, the features with positive contributions, largest first.

    At most ``candidates`` per row: the candidates for the reasons that
    :mod:`scoring.explain` words.
    """
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :candidates]
    names = np.array(features, dtype=object)
    return [
        list(names[row_order[contributions[i, row_order] > 0]]) for i, row_order in enumerate(order)
    ]


@dataclass(frozen=True)
class ExplanationParts:
    """What a scorer hands to :func:`scoring.explain.explain` for rendering.

    ``columns`` are the contribution columns (and any extra, such as the rule fired), in
    display order; ``reason_features`` lists, for each row, the features whose values are the
    reasons, most important first; ``raw`` holds the raw feature values by name.
    """

    index: pd.Index
    score: np.ndarray
    tier: np.ndarray
    columns: dict
    raw: pd.DataFrame
    reason_features: list
    adds_up_to: str


class BaseScorer(BaseEstimator):
    """Common validation, naming, ``predict`` and ``explain``; not used directly."""

    # -- feature selection and validation -------------------------------------------------

    @staticmethod
    def _select(X, names: Sequence[str] | None, owner: str):
        """Return the columns ``names`` of X (by name, or by position name for arrays).

        All of X when ``names`` is None. Raises FeatureTableError when a column is missing,
        or when X is a plain 2-D array and ``names`` are not its position names.
        """
        if names is None:
            return X
        names = list(names)
        if isinstance(X, pd.DataFrame):
            missing = [n for n in names if n not in X.columns]
            if missing:
                raise FeatureTableError(
                    f"{owner} needs feature column(s) missing from X: {', '.join(missing)}"
                )
            return X.loc[:, names]
        shape = getattr(X, "shape", None)
        if shape is None or len(shape) != 2:
            return X  # validate_data reports the problem
        available = positional_names(shape[1])
        missing = [n for n in names if n not in available]
        if missing:
            raise FeatureTableError(
                f"{owner} names its features ({', '.join(missing[:3])}"
                f"{', ...' if len(missing) > 3 else ''}); pass X as a DataFrame with those "
                f"columns (a plain array's columns are named x0, x1, ... by position)"
            )
        index = [available.index(n) for n in names]
        return X[:, index]

    @staticmethod
    def _check_missing(X) -> None:
        """Name the DataFrame columns with missing values (arrays: validate_data reports)."""
        if isinstance(X, pd.DataFrame):
            counts = X.isna().sum()
            counts = counts[counts > 0]
            if len(counts):
                where = ", ".join(f"{name} ({n} rows)" for name, n in counts.items())
                raise FeatureTableError(f"the feature table has missing values (NaN) in {where}")

    def _validate_fit(self, X, y=None, *, names: Sequence[str] | None, with_y: bool = False):
        """Validate X (and y) at fit time; sets n_features_in_, feature_names_in_, features_."""
        selected = self._select(X, names, type(self).__name__)
        self._check_missing(selected)
        if with_y:
            X_arr, y = validate_data(self, selected, y, dtype=np.float64)
        else:
            X_arr = validate_data(self, selected, dtype=np.float64)
        if names is not None:
            self.features_ = tuple(names)
        elif hasattr(self, "feature_names_in_"):
            self.features_ = tuple(str(n) for n in self.feature_names_in_)
        else:
            self.features_ = tuple(positional_names(X_arr.shape[1]))
        self._by_name = names is not None
        return (X_arr, y) if with_y else X_arr

    def _validate_predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        if self._by_name:
            X = self._select(X, self.features_, type(self).__name__)
        elif isinstance(X, pd.DataFrame) and hasattr(self, "feature_names_in_"):
            X = self._select(X, list(self.feature_names_in_), type(self).__name__)
        self._check_missing(X)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _raw_frame(self, X, values: np.ndarray) -> pd.DataFrame:
        index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(values))
        return pd.DataFrame(values, index=index, columns=list(self.features_))

    # -- the shared interface -------------------------------------------------------------

    def score_samples(self, X) -> np.ndarray:  # pragma: no cover - every scorer overrides
        """Return the score of each row, in [0, 1] (higher = more at risk)."""
        raise NotImplementedError

    def predict(self, X) -> np.ndarray:
        """Tier codes (0 low, 1 medium, 2 high) from the score and ``tier_edges_``.

        Parameters
        ----------
        X : DataFrame or array of shape (n_residents, n_features)

        Returns
        -------
        ndarray of int64, shape (n_residents,)
        """
        scores = self.score_samples(X)
        return assign_tiers(scores, *self.tier_edges_)

    def explain(self, X, *, top: int = 3) -> pd.DataFrame:
        """Per-resident contributions and the top reasons (see :func:`scoring.explain.explain`)."""
        return explain(self, X, top=top)

    def _explanation_parts(self, X) -> ExplanationParts:  # pragma: no cover
        raise NotImplementedError
