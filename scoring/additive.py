"""An explainable additive scorer with monotone shapes, served from a versioned table.

Fitting (:func:`fit_additive`): scikit-learn's ``HistGradientBoostingClassifier`` with one
feature per tree (``interaction_cst``: an additive model, no interactions) and a monotone
constraint per feature (:data:`MONOTONE`: risk never falls as age, signals or days since the
last met visit rise, nor as income rises ... falls). Each feature's shape is then read off the
fitted model on the feature's training values (the model is additive, so changing one feature
changes the log-odds by that feature's shape alone) and kept as a step table. The tables are
the model: saved as TOML (``scoring/configs/additive_v1.toml``), they score a row without
refitting, in the service, in the visit rescore and in the notebooks alike.

Scoring: ``logit(score) = intercept + sum_j shape_j(x_j)``, where ``shape_j(x)`` is the value
of the largest grid point at or below ``x`` (the first for ``x`` below the grid). The
contribution of feature ``j`` is ``shape_j(x_j)``, in log-odds, each shape centred on its
training average (positive: this value raises the risk above the average resident's), so the
contributions add up to ``logit(score) - intercept`` exactly.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier

from scoring.learned import _matched_edges
from scoring.scorers import BaseScorer, ExplanationParts, assign_tiers, positive_reasons
from visitmap.errors import FieldError

#: The default model shipped with the package.
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "configs" / "additive_v1.toml"
#: Largest number of grid points per feature (quantiles of the training values beyond it).
MAX_GRID = 256

#: Direction of each feature's effect on risk: +1 never lowers it as the feature rises, -1
#: never raises it. A feature not listed here is not used.
MONOTONE = {
    "lives_alone": 1,
    "age_years": 1,
    "household_size": -1,
    "has_disability": 1,
    "days_since_last_contact": 1,
    "nearest_community_centre_m": 1,
    "nearest_senior_or_welfare_m": 1,
    "income_to_median_ratio": -1,
    "assets_million_krw": -1,
    "crisis_signals_6m": 1,
    "crisis_signals_12m": 1,
    "days_since_met_visit": 1,
    "days_overdue": 1,
}


class AdditiveModelError(FieldError):
    """A model file that cannot be read; the message names the file and the key."""


@dataclass(frozen=True)
class AdditiveModel:
    """The fitted tables: intercept, one step table per feature, tier edges, provenance."""

    version: str
    intercept: float
    shapes: dict[str, tuple[np.ndarray, np.ndarray]]
    tier_edges: tuple[float, float]
    description: str = ""
    trained: dict = field(default_factory=dict)

    @property
    def features(self) -> tuple[str, ...]:
        """The features the model uses, in its order."""
        return tuple(self.shapes)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Return each feature's shape value (log-odds) for each row of X (model's order)."""
        out = np.empty(X.shape, dtype=float)
        for j, (grid, values) in enumerate(self.shapes.values()):
            index = np.clip(np.searchsorted(grid, X[:, j], side="right") - 1, 0, len(grid) - 1)
            out[:, j] = values[index]
        return out


def _grid(values: np.ndarray) -> np.ndarray:
    unique = np.unique(values)
    if len(unique) <= MAX_GRID:
        return unique
    return np.unique(np.quantile(values, np.linspace(0, 1, MAX_GRID)))


def fit_additive(
    features: pd.DataFrame,
    labels,
    *,
    version: str,
    tier_shares: tuple[float, float, float],
    description: str = "",
    trained: dict | None = None,
    population: pd.DataFrame | None = None,
    random_state: int = 0,
) -> AdditiveModel:
    """Fit the monotone additive model on labelled rows and read off its tables.

    Parameters
    ----------
    features : DataFrame
        The labelled residents' features (every name of :data:`MONOTONE` present is used).
    labels : array-like of 0/1
        Crisis confirmed or not.
    version, description, trained
        Stored with the tables (``trained``: dates, counts, the command).
    tier_shares : (low, medium, high)
        The tier shares to match (e.g. the weighted index's), so the high tier has the size
        the teams can visit.
    population : DataFrame, optional
        The rows the shares are matched on (default: ``features``); the labelled rows are the
        visited ones, riskier than the population, so pass the whole population.
    """
    names = [n for n in MONOTONE if n in features.columns]
    X = features[names].to_numpy(dtype=float)
    y = np.asarray(labels, dtype=int)
    if len(np.unique(y)) != 2:
        raise FieldError("both outcomes are needed to fit", field="labels")
    model = HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=8,
        min_samples_leaf=40,
        l2_regularization=1.0,
        monotonic_cst=[MONOTONE[n] for n in names],
        interaction_cst=[[j] for j in range(len(names))],
        early_stopping=False,
        random_state=random_state,
    ).fit(X, y)
    grids = [_grid(X[:, j]) for j in range(len(names))]
    reference = np.array([g[0] for g in grids])
    base = float(model.decision_function(reference[None, :])[0])
    shapes = {}
    for j, name in enumerate(names):
        rows = np.repeat(reference[None, :], len(grids[j]), axis=0)
        rows[:, j] = grids[j]
        shapes[name] = (grids[j], model.decision_function(rows) - base)
    # centre each shape on the training rows: a contribution is then positive when the
    # resident's value raises the risk above the average resident's (as the learned scorer's)
    for j, name in enumerate(names):
        grid, values = shapes[name]
        index = np.clip(np.searchsorted(grid, X[:, j], side="right") - 1, 0, len(grid) - 1)
        mean = float(values[index].mean())
        shapes[name] = (grid, values - mean)
        base += mean
    fitted = AdditiveModel(version, base, shapes, (0.0, 1.0), description, dict(trained or {}))
    matched = X if population is None else population[names].to_numpy(dtype=float)
    scores = expit(base + fitted.contributions(matched).sum(axis=1))
    medium, high = _matched_edges(scores, np.asarray(tier_shares, dtype=float))
    return AdditiveModel(
        version, base, shapes, (float(medium), float(high)), description, dict(trained or {})
    )


def save_model(model: AdditiveModel, path: str | Path) -> None:
    """Write the model as TOML (loadable by :func:`load_model`)."""
    document = {
        "version": model.version,
        "method": "additive",
        "description": model.description,
        "intercept": model.intercept,
        "tier_edges": {"medium_start": model.tier_edges[0], "high_start": model.tier_edges[1]},
        "trained": model.trained,
        "shapes": {
            name: {
                "monotone": MONOTONE[name],
                "grid": [float(v) for v in grid],
                "log_odds": [round(float(v), 6) for v in values],
            }
            for name, (grid, values) in model.shapes.items()
        },
    }
    Path(path).write_text(tomli_w.dumps(document), encoding="utf-8")


def load_model(path: str | Path | None = None) -> AdditiveModel:
    """Read a model file (default: :data:`DEFAULT_MODEL_PATH`); check its tables."""
    path = Path(path) if path is not None else DEFAULT_MODEL_PATH
    source = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        shapes = {}
        for name, table in raw["shapes"].items():
            grid = np.asarray(table["grid"], dtype=float)
            values = np.asarray(table["log_odds"], dtype=float)
            if len(grid) == 0 or len(grid) != len(values) or np.any(np.diff(grid) <= 0):
                raise AdditiveModelError(
                    "grid must rise strictly and match log_odds in length",
                    field=f"{source}: shapes.{name}",
                )
            direction = np.sign(np.diff(values)) * table["monotone"]
            if np.any(direction < 0):
                raise AdditiveModelError(
                    "log_odds break the monotone direction", field=f"{source}: shapes.{name}"
                )
            shapes[name] = (grid, values)
        edges = raw["tier_edges"]
        return AdditiveModel(
            version=str(raw["version"]),
            intercept=float(raw["intercept"]),
            shapes=shapes,
            tier_edges=(float(edges["medium_start"]), float(edges["high_start"])),
            description=str(raw.get("description", "")),
            trained=dict(raw.get("trained", {})),
        )
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as error:
        if isinstance(error, AdditiveModelError):
            raise
        raise AdditiveModelError(f"{source}: {error}", field=source) from error


class AdditiveScorer(BaseScorer):
    """Score with a fitted :class:`AdditiveModel` (default: the shipped one).

    ``fit`` learns nothing: it checks the columns and takes the model's tables and tier
    edges, so a stored run can rescore one resident without any labels.

    Parameters
    ----------
    model : AdditiveModel or None, default=None
        None loads :data:`DEFAULT_MODEL_PATH`.
    """

    def __init__(self, model: AdditiveModel | None = None):
        self.model = model

    def fit(self, X, y=None):
        """Take the model's tables; check X has its feature columns."""
        self.model_ = self.model if self.model is not None else load_model()
        self._validate_fit(X, names=list(self.model_.features))
        self.tier_edges_ = np.asarray(self.model_.tier_edges, dtype=float)
        self.intercept_ = self.model_.intercept
        return self

    def contributions_array(self, X) -> np.ndarray:
        """Return the per-feature log-odds of each row (the model's feature order)."""
        return self.model_.contributions(self._validate_predict(X))

    def scores_and_contributions(self, X) -> tuple[np.ndarray, pd.DataFrame]:
        """Return :meth:`score_samples` and the contributions (columns = features), one pass.

        What a score run needs (:func:`scoring.methods.score_table`): without it the
        contributions came from the explanation's parts, which word every row's reasons
        (~8 s of a rescore of a million residents, issue 15).
        """
        X_arr = self._validate_predict(X)
        parts = self.model_.contributions(X_arr)
        return expit(self.intercept_ + parts.sum(axis=1)), self._raw_frame(X, parts)

    def score_samples(self, X) -> np.ndarray:
        """Return ``expit(intercept + sum of contributions)``, in [0, 1]."""
        return expit(self.intercept_ + self.contributions_array(X).sum(axis=1))

    def _explanation_parts(self, X) -> ExplanationParts:
        X_arr = self._validate_predict(X)
        contributions = self.model_.contributions(X_arr)
        score = expit(self.intercept_ + contributions.sum(axis=1))
        raw = self._raw_frame(X, X_arr)
        columns = {"baseline": np.full(len(X_arr), self.intercept_)}
        columns.update({f"contrib_{n}": contributions[:, j] for j, n in enumerate(self.features_)})
        return ExplanationParts(
            index=raw.index,
            score=score,
            tier=assign_tiers(score, *self.tier_edges_),
            columns=columns,
            raw=raw,
            reason_features=positive_reasons(contributions, self.features_),
            adds_up_to="log-odds",
        )
