"""Scorers judged on a time split: features as of a day, outcomes from the visits after it.

Every scorer is scored on the same population as of the split day; it is judged by the visit
outcomes of the following period only, so no visit-derived feature can carry its own label
(the leak of the issue-3 comparison). A scorer that learns is trained on an earlier split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

from scoring.report import precision_at_k


def split_metrics(scores: pd.Series, labels: pd.Series, *, high_size: int, capacity: int) -> dict:
    """Measure one scorer's scores (whole population) against the period's labels.

    Parameters
    ----------
    scores : Series
        Score per resident of the population as of the split day.
    labels : Series
        1 (a visit confirmed a crisis in the period) / 0 (met, no crisis) for those met in the
        period; indexed like ``scores`` (a subset).
    high_size : int
        Size of the high tier to compare at (the weighted index's, for every scorer).
    capacity : int
        Visits the teams make in a month: the k of precision at k.

    Returns
    -------
    dict
        ``roc_auc`` (on the labelled), ``precision_at_capacity`` (of the ``capacity``
        highest-scored labelled), ``brier`` (the scores as probabilities, on the labelled),
        ``caught`` (confirmed crises among the ``high_size`` highest-scored of the whole
        population), ``crises`` (all confirmed crises of the period) and ``caught_share``.
    """
    labels = labels[labels.index.isin(scores.index)]
    y = labels.to_numpy(dtype=int)
    s = scores.loc[labels.index].to_numpy(dtype=float)
    order = np.argsort(-scores.to_numpy(dtype=float), kind="stable")
    top = set(scores.index[order[:high_size]])
    positives = set(labels.index[y == 1])
    caught = len(top & positives)
    return {
        "roc_auc": float(roc_auc_score(y, s)) if len(np.unique(y)) == 2 else float("nan"),
        "precision_at_capacity": precision_at_k(y, s, min(capacity, len(y))) if len(y) else 0.0,
        "brier": float(brier_score_loss(y, np.clip(s, 0, 1))),
        "caught": caught,
        "crises": len(positives),
        "caught_share": caught / len(positives) if positives else float("nan"),
        "high_size": int(high_size),
    }


def reliability(scores: pd.Series, labels: pd.Series, *, bins: int = 5) -> pd.DataFrame:
    """Return mean score and observed rate per score quantile bin, on the labelled."""
    s = scores.loc[labels.index].to_numpy(dtype=float)
    frame = pd.DataFrame({"score": s, "crisis": labels.to_numpy(dtype=int)})
    frame["bin"] = pd.qcut(frame["score"].rank(method="first"), bins, labels=False)
    return frame.groupby("bin").agg(
        residents=("crisis", "size"), mean_score=("score", "mean"), observed=("crisis", "mean")
    )
