"""A scorer learned from recorded visit outcomes, with calibrated probabilities.

The model is a logistic regression on standardised features, calibrated with Platt scaling
(:class:`~sklearn.calibration.CalibratedClassifierCV`, ``method="sigmoid"``,
``ensemble=False``: the regression is fitted on all rows and the sigmoid on its
cross-validated decision values). Both steps are linear in the features, so the calibrated
log-odds decompose exactly::

    logit(score) = intercept_ + sum_j coef_[j] * (x_j - center_[j])

``coef_`` is in log-odds per unit of feature ``j`` (per year, per day, per signal...),
``center_`` is the training mean and ``intercept_`` the calibrated log-odds of a resident at
the training means. The contribution of feature ``j`` is ``coef_[j] * (x_j - center_[j])``:
positive when the resident's value raises the risk above that average resident's.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import ClassifierTags
from sklearn.utils.multiclass import type_of_target

from scoring.config import TierCutoffs
from scoring.scorers import BaseScorer, ExplanationParts, assign_tiers, positive_reasons
from scoring.weighted import WeightedIndexScorer

#: Features computed from the visits themselves. When the labels are the outcomes of visits up
#: to the same date as the features, these leak the label (the confirming visit is itself a
#: recent met visit and contact), so :func:`scoring.report.compare_scorers` leaves them out
#: of the learned scorer by default.
VISIT_DERIVED_FEATURES: tuple[str, ...] = (
    "days_since_last_contact",
    "days_since_met_visit",
    "days_overdue",
)


def _matched_edges(probabilities: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Probability edges giving (about) the tier ``shares`` (low, medium, high) on the rows.

    The high tier takes the ``round(share_high * n)`` largest probabilities (ties included),
    the medium tier the next ``round(share_medium * n)``.
    """
    n = len(probabilities)
    descending = np.sort(probabilities)[::-1]
    n_high = int(round(shares[2] * n))
    n_high_or_medium = int(round((shares[1] + shares[2]) * n))

    def edge(count: int) -> float:
        if count <= 0:  # nobody in the training rows reaches this tier
            return float(min(np.nextafter(descending[0], np.inf), 1.0))
        return float(descending[min(count, n) - 1])

    high_start = edge(n_high)
    medium_start = min(edge(n_high_or_medium), high_start)
    return np.array([medium_start, high_start])


class LearnedScorer(BaseScorer):
    """Calibrated probability that a visit confirms a crisis (see the module doc).

    Parameters
    ----------
    features : sequence of str or None, default=None
        Feature columns to use (by name, X must then be a DataFrame); None uses every column.
    config : ScoringConfig or None, default=None
        Only used for the default tier cut-offs: the weighted index of this configuration
        (None: the equal-weight index over X) is applied to the training rows, and the
        probability cut-offs are set so that the learned tiers have the same shares there.
    C : float, default=0.1
        Inverse L2 regularisation strength of the logistic regression (standardised
        features). Fairly strong by default: the 6- and 12-month counts of a signal kind are
        nearly collinear and rare, and would otherwise get large coefficients of opposite
        signs, which make poor explanations.
    cv : int, default=5
        Folds of the calibration's cross-validation (fewer if the rarer outcome has fewer
        rows; at least 2 rows of each outcome are needed).
    tier_cutoffs : TierCutoffs, (medium_start, high_start) or None, default=None
        Fixed probability cut-offs; None matches the weighted index's tier shares (above).
    max_iter : int, default=1000
        Iterations of the logistic regression's solver.

    Attributes
    ----------
    calibrated_ : CalibratedClassifierCV
        The fitted model: standardisation and logistic regression, with the sigmoid fitted
        on cross-validated decision values (``ensemble=False``).
    classes_ : ndarray of shape (2,)
        The two outcomes, sorted; ``classes_[1]`` (1 = crisis confirmed) is the positive one.
    coef_ : ndarray of shape (n_features,)
        Calibrated log-odds per unit of each feature (see the module doc).
    center_ : ndarray of shape (n_features,)
        Training mean of each feature (its own unit).
    intercept_ : float
        Calibrated log-odds of a resident at the training means.
    tier_edges_ : ndarray of shape (2,)
        Probabilities at which medium and high start.
    target_tier_shares_ : ndarray of shape (3,) or None
        Weighted-index tier shares matched on the training rows (None with fixed cut-offs).
    features_ : tuple of str
        Feature names used, in order (``x0, x1, ...`` for a plain array without
        ``features``).
    n_features_in_, feature_names_in_
        As in scikit-learn.
    """

    def __init__(
        self, *, features=None, config=None, C=0.1, cv=5, tier_cutoffs=None, max_iter=1000
    ):
        self.features = features
        self.config = config
        self.C = C
        self.cv = cv
        self.tier_cutoffs = tier_cutoffs
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        """Return scikit-learn's tags: ``fit`` needs ``y``, and only binary targets work."""
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # Binary outcomes only: the generic checks then pass two-valued targets.
        tags.classifier_tags = ClassifierTags(multi_class=False)
        return tags

    def fit(self, X, y):
        """Fit on residents with a recorded outcome.

        Parameters
        ----------
        X : DataFrame or array of shape (n_residents, n_features)
            Feature table rows of residents who were met.
        y : array-like of shape (n_residents,)
            1 (or True) if a visit confirmed a crisis, 0 if the resident was met and no
            crisis was confirmed. Any two-valued target works; the larger value is positive.

        Returns
        -------
        self
        """
        names = None if self.features is None else tuple(self.features)
        X_arr, y = self._validate_fit(X, y, names=names, with_y=True)
        if not isinstance(self.cv, int | np.integer) or isinstance(self.cv, bool) or self.cv < 2:
            raise ValueError(f"cv must be an integer >= 2, got {self.cv!r}")
        target_type = type_of_target(y, input_name="y", raise_unknown=True)
        if target_type not in ("binary", "multiclass"):
            raise ValueError(f"y must hold two outcomes (0/1), got a {target_type} target")
        self.classes_, counts = np.unique(y, return_counts=True)
        if len(self.classes_) != 2:
            raise ValueError(
                f"y has {len(self.classes_)} class{'es' if len(self.classes_) != 1 else ''}: "
                "LearnedScorer needs exactly two outcomes (crisis confirmed 1, not confirmed 0)"
            )
        if counts.min() < 2:
            raise ValueError(
                f"the rarer outcome in y has {counts.min()} sample(s); calibration needs at "
                "least 2 of each"
            )
        positive = (y == self.classes_[1]).astype(np.int64)
        folds = int(min(self.cv, counts.min()))
        self.calibrated_ = CalibratedClassifierCV(
            make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter)),
            method="sigmoid",
            cv=StratifiedKFold(n_splits=folds),
            ensemble=False,
        ).fit(X_arr, positive)
        self._decompose(X_arr)

        probabilities = self._probabilities(X_arr)
        if self.tier_cutoffs is None:
            # Without a config, the equal-weight index over the same columns as the model.
            rows = X if self.config is not None else self._select(X, names, "LearnedScorer")
            tiers = WeightedIndexScorer(config=self.config).fit(rows).predict(rows)
            self.target_tier_shares_ = np.bincount(tiers, minlength=3) / len(tiers)
            self.tier_edges_ = _matched_edges(probabilities, self.target_tier_shares_)
        else:
            self.target_tier_shares_ = None
            self.tier_edges_ = self._fixed_edges(self.tier_cutoffs)
        return self

    @staticmethod
    def _fixed_edges(cutoffs) -> np.ndarray:
        edges = cutoffs.edges if isinstance(cutoffs, TierCutoffs) else tuple(cutoffs)
        if len(edges) != 2 or not 0.0 <= float(edges[0]) <= float(edges[1]) <= 1.0:
            raise ValueError(
                "tier_cutoffs must be a TierCutoffs or (medium_start, high_start) with "
                f"0 <= medium_start <= high_start <= 1, got {cutoffs!r}"
            )
        return np.array(edges, dtype=float)

    def _decompose(self, X_arr: np.ndarray) -> None:
        """Calibrated log-odds as intercept_ + coef_ . (x - center_), checked against sklearn."""
        (pair,) = self.calibrated_.calibrated_classifiers_
        scaler, regression = pair.estimator[0], pair.estimator[-1]
        (calibrator,) = pair.calibrators
        # sklearn's sigmoid calibration: p = expit(-(a * decision + b)).
        a, b = float(calibrator.a_), float(calibrator.b_)
        self.coef_ = -a * regression.coef_[0] / scaler.scale_
        self.center_ = scaler.mean_.copy()
        self.intercept_ = -(a * float(regression.intercept_[0]) + b)
        expected = self.calibrated_.predict_proba(X_arr)[:, 1]
        if not np.allclose(self._probabilities(X_arr), expected, rtol=1e-9, atol=1e-12):
            raise RuntimeError(
                "the log-odds decomposition no longer reproduces CalibratedClassifierCV; "
                "scikit-learn's calibration internals have changed"
            )

    def _log_odds_contributions(self, X_arr: np.ndarray) -> np.ndarray:
        return (X_arr - self.center_) * self.coef_

    def _probabilities(self, X_arr: np.ndarray) -> np.ndarray:
        return expit(self.intercept_ + self._log_odds_contributions(X_arr).sum(axis=1))

    def score_samples(self, X) -> np.ndarray:
        """Calibrated probability of a confirmed crisis, in [0, 1].

        Computed as ``expit(intercept_ + sum of contributions)``, equal to
        ``calibrated_.predict_proba(X)[:, 1]`` up to rounding (checked in ``fit``).
        """
        return self._probabilities(self._validate_predict(X))

    def _explanation_parts(self, X) -> ExplanationParts:
        X_arr = self._validate_predict(X)
        contributions = self._log_odds_contributions(X_arr)
        score = expit(self.intercept_ + contributions.sum(axis=1))
        reason_features = positive_reasons(contributions, self.features_)
        raw = self._raw_frame(X, X_arr)
        columns = {"baseline": np.full(len(X_arr), self.intercept_)}
        columns.update({f"contrib_{n}": contributions[:, j] for j, n in enumerate(self.features_)})
        return ExplanationParts(
            index=raw.index,
            score=score,
            tier=assign_tiers(score, *self.tier_edges_),
            columns=columns,
            raw=raw,
            reason_features=reason_features,
            adds_up_to="log-odds",
        )
