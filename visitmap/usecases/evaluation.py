"""Which score deserves the map (issue 14): every scorer judged on a time split.

Two consecutive periods of ``horizon_days`` end at ``as_of``. Learning scorers train on the
first (features as of its start, outcomes within it) and every scorer is judged on the second
(features as of its start, outcomes within it). The rules are :mod:`scoring.timesplit`; the
figures and the command are in docs/scoring.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from geo.features import load_features
from geo.scope import Scope
from geo.score_runs import load_window_labels
from scoring.additive import AdditiveModel, AdditiveScorer, fit_additive
from scoring.audit import audit_tiers
from scoring.config import ScoringConfig, default_config
from scoring.learned import LearnedScorer
from scoring.rules import RuleScorer
from scoring.timesplit import reliability, split_metrics
from scoring.weighted import WeightedIndexScorer


@dataclass(frozen=True)
class TimeSplitReport:
    """The comparison, the days it used, and the additive model fitted on the first period."""

    table: pd.DataFrame
    train_day: dt.date
    test_day: dt.date
    as_of: dt.date
    model: AdditiveModel
    calibration: dict[str, pd.DataFrame]
    audit: object


def _shares(tiers: np.ndarray) -> tuple[float, float, float]:
    counts = np.bincount(np.asarray(tiers, dtype=int), minlength=3) / len(tiers)
    return float(counts[0]), float(counts[1]), float(counts[2])


def fit_on_period(
    session: Session,
    *,
    start: dt.date,
    end: dt.date,
    config: ScoringConfig,
    version: str = "additive_v1",
) -> AdditiveModel:
    """Fit the additive model on features as of ``start`` and outcomes in (start, end]."""
    table = load_features(session, Scope.everything(), as_of=start)
    labels = load_window_labels(session, Scope.everything(), after=start, until=end)
    labels = labels[labels.index.isin(table.features.index)]
    weighted = WeightedIndexScorer(config=config).fit(table.features)
    shares = _shares(weighted.predict(table.features))
    return fit_additive(
        table.features.loc[labels.index],
        labels.to_numpy(),
        version=version,
        tier_shares=shares,
        population=table.features,
        description=(
            "Monotone additive model (one feature per boosted tree), tiers matched to "
            f"{config.version}'s shares"
        ),
        trained={
            "features_as_of": start.isoformat(),
            "outcomes_until": end.isoformat(),
            "labelled": int(len(labels)),
            "crises": int(labels.sum()),
            "residents": int(len(table.features)),
        },
    )


def time_split_report(
    session: Session,
    *,
    as_of: dt.date,
    horizon_days: int = 182,
    config: ScoringConfig | None = None,
) -> TimeSplitReport:
    """Judge weighted, rules, learned and additive on the second period (see the module doc).

    The high tiers are compared at one size: the weighted index's high tier on the features
    as of ``as_of`` (the list the teams work from today), for every scorer.
    """
    config = config or default_config()
    test_day = as_of - dt.timedelta(days=horizon_days)
    train_day = test_day - dt.timedelta(days=horizon_days)
    scope = Scope.everything()
    train = load_features(session, scope, as_of=train_day)
    train_labels = load_window_labels(session, scope, after=train_day, until=test_day)
    train_labels = train_labels[train_labels.index.isin(train.features.index)]
    test = load_features(session, scope, as_of=test_day)
    test_labels = load_window_labels(session, scope, after=test_day, until=as_of)
    test_labels = test_labels[test_labels.index.isin(test.features.index)]
    features = test.features

    weighted = WeightedIndexScorer(config=config).fit(features)
    # the size of the weighted index's high tier today: the list the teams work from
    today = load_features(session, scope, as_of=as_of).features
    high_size = int((WeightedIndexScorer(config=config).fit(today).predict(today) == 2).sum())
    model = fit_on_period(
        session, start=train_day, end=test_day, config=config, version="additive_split"
    )
    learned = LearnedScorer(config=config).fit(
        train.features.loc[train_labels.index], train_labels.to_numpy()
    )
    scorers = {
        config.version: weighted,
        "rules": RuleScorer.default().fit(features),
        "learned (logistic)": learned,
        "additive (monotone)": AdditiveScorer(model).fit(features),
    }
    rows, calibration = [], {}
    for name, scorer in scorers.items():
        scores = pd.Series(scorer.score_samples(features), index=features.index)
        metrics = split_metrics(
            scores, test_labels, high_size=high_size, capacity=config.visits_per_month
        )
        rows.append({"scorer": name, **metrics})
        calibration[name] = reliability(scores, test_labels)
    table = pd.DataFrame(rows).set_index("scorer")
    additive_tiers = scorers["additive (monotone)"].predict(features)
    audit = audit_tiers(
        pd.Series(additive_tiers, index=features.index),
        adm_cd2=test.context["area_code"].to_numpy(),
        age_years=features["age_years"].to_numpy(),
    )
    return TimeSplitReport(table, train_day, test_day, as_of, model, calibration, audit)
