"""The choice of scorer and one scoring pass: fit, score, tier, explain, measure.

The application layer (:mod:`visitmap.usecases.scoring_runs`) loads the feature table and the
visit labels from the database, calls :func:`score_table`, and stores what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from scoring.additive import AdditiveScorer
from scoring.explain import contribution_matrix
from scoring.learned import LearnedScorer
from scoring.report import high_tier_precision_recall
from scoring.rules import RuleScorer
from scoring.scorers import assign_tiers
from scoring.weighted import WeightedIndexScorer

#: The scoring methods a run can use, by name.
METHODS = ("additive", "weighted", "rules", "model")
#: The published default from issue 14 on (docs/scoring.md, "Which score is the default").
DEFAULT_METHOD = "additive"


def make_scorer(method: str, config):
    """Return the scorer for a method name, configured.

    Parameters
    ----------
    method : {"additive", "weighted", "rules", "model"}
        The monotone additive model (its fitted tables), the weighted index, the default
        rules, or the learned model.
    config : ScoringConfig
        The weighted index's features, weights, transforms and tier edges
        (:mod:`scoring.config`); the learned model uses it only to match the weighted index's
        tier shares, and the rules (:data:`~scoring.rules.DEFAULT_RULES`) do not use it.

    Returns
    -------
    BaseScorer
        An unfitted scorer.

    Raises
    ------
    ValueError
        For an unknown method.
    """
    if method == "weighted":
        return WeightedIndexScorer(config=config)
    if method == "rules":
        return RuleScorer.default()
    if method == "model":
        return LearnedScorer(config=config)
    if method == "additive":
        return AdditiveScorer()  # the shipped tables (scoring/configs/additive_v1.toml)
    raise ValueError(f"unknown scoring method {method!r} (additive, weighted, rules, model)")


@dataclass(frozen=True)
class ScoredTable:
    """What one scoring pass gives: per resident (in the table's order) and for the run."""

    scores: np.ndarray
    tiers: np.ndarray
    contributions: np.ndarray
    metrics: dict


def score_table(method: str, config, features: pd.DataFrame, labels: pd.Series) -> ScoredTable:
    """Fit the method's scorer, score and tier every row, explain it, and measure it.

    Parameters
    ----------
    method : {"weighted", "rules", "model"}
        See :func:`make_scorer`.
    config : ScoringConfig
        The configuration the scorer uses.
    features : DataFrame
        The feature table, one row per resident.
    labels : Series of int
        Confirmed crisis (1) or not (0) for the residents that have a label, indexed like
        ``features``; the learned model trains on them, and every method is measured on them.

    Returns
    -------
    ScoredTable
        Scores in [0, 1], tier codes, the contribution matrix and the metrics (counts of
        labels and positives; ROC AUC and high-tier precision and recall when both labels
        occur).
    """
    scorer = make_scorer(method, config)
    if method == "model":
        scorer.fit(features.loc[labels.index], labels.to_numpy())
    else:
        scorer.fit(features)
    frame = None
    if hasattr(scorer, "scores_and_contributions"):  # weighted, additive: one pass
        scores, frame = scorer.scores_and_contributions(features)
    else:
        scores = scorer.score_samples(features)
    tiers = assign_tiers(scores, *scorer.tier_edges_)  # = scorer.predict, without rescoring
    contributions = contribution_matrix(scorer, features, features.columns, frame=frame)
    position = features.index.get_indexer(labels.index)
    metrics = label_metrics(labels.to_numpy(), scores[position], tiers[position])
    return ScoredTable(scores, tiers, contributions, metrics)


def label_metrics(labels: np.ndarray, scores: np.ndarray, tiers: np.ndarray) -> dict:
    """Return a run's metrics on its labelled residents.

    Counts of labels and positives; ROC AUC and high-tier precision and recall when both
    labels occur. ``scores`` and ``tiers`` are those of the labelled residents, in the
    labels' order (a chunked rescore gathers them chunk by chunk, issue 15).
    """
    labels = np.asarray(labels)
    metrics: dict = {"labelled": int(len(labels)), "positives": int(labels.sum())}
    if len(np.unique(labels)) == 2:
        metrics["roc_auc_on_labels"] = float(roc_auc_score(labels, scores))
        precision, recall = high_tier_precision_recall(labels, np.asarray(tiers))
        metrics["high_precision_on_labels"] = precision
        metrics["high_recall_on_labels"] = recall
    return metrics


def rescore_row(method: str, config, features: pd.DataFrame) -> tuple[float, int, np.ndarray]:
    """Score one resident's row again with a stored run's method and configuration.

    Parameters
    ----------
    method : {"weighted", "rules"}
        A method that needs no training labels (a learned run stores no fitted model).
    config : ScoringConfig
        The run's stored configuration.
    features : DataFrame
        One row, with the run's feature columns.

    Returns
    -------
    tuple of (float, int, ndarray)
        Score, tier code and the contribution matrix (one row).
    """
    scorer = make_scorer(method, config).fit(features)
    score = float(scorer.score_samples(features)[0])
    tier = int(assign_tiers([score], *scorer.tier_edges_)[0])
    return score, tier, contribution_matrix(scorer, features, list(features.columns))
