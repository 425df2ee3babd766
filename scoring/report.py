"""Compare the weighted index, the rule baseline and the learned scorer on recorded outcomes.

:func:`compare_scorers` splits the labelled residents with stratified k-fold
cross-validation. On each fold the learned scorer is trained on the other folds; the
weighted index and the rules learn nothing but are evaluated on exactly the same held-out
rows. Per fold and scorer it measures

* ``roc_auc``: ROC AUC of the score against the label;
* ``high_precision`` / ``high_recall``: of the held-out residents in the high tier, the share
  with a confirmed crisis (NaN when nobody is high), and of those with a confirmed crisis,
  the share in the high tier;
* ``precision_at_k``: the share of confirmed crises among the k highest scores, ties at the
  k-th score shared out proportionally (the expected value under a random tie-break).

**k** is the month's visit capacity (``visits_per_month`` of the configuration), which is
meant for the whole scored population. A fold is treated as a random sample of that
population, so it gets the same fraction of the capacity::

    k_fold = clip(round(visits_per_month * n_fold / n_population), 1, n_fold)

where ``n_population`` is the number of rows of ``features`` (labelled or not). Pass the
whole feature table, with unlabelled residents, for this to mean what it says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from scoring.config import HIGH, ScoringConfig
from scoring.learned import VISIT_DERIVED_FEATURES, LearnedScorer
from scoring.rules import RuleScorer
from scoring.weighted import WeightedIndexScorer
from visitmap.errors import FieldError

SCORERS: tuple[str, ...] = ("weighted", "rules", "learned")
METRICS: tuple[str, ...] = ("roc_auc", "high_precision", "high_recall", "precision_at_k")


class ReportError(FieldError):
    """The comparison cannot be made with these inputs."""


# --------------------------------------------------------------------------- metrics


def precision_at_k(y_true, scores, k: int) -> float:
    """Share of positives among the ``k`` highest scores, ties at the k-th score shared out.

    If the k-th highest score is tied, the tied rows fill the remaining places in
    proportion: ``(positives above + positives tied * places left / n tied) / k``.

    Examples
    --------
    >>> precision_at_k([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1], 2)
    0.75
    """
    y_true = np.asarray(y_true, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if not 1 <= k <= len(scores):
        raise ReportError(f"k must be between 1 and {len(scores)}, got {k}")
    kth = np.sort(scores)[::-1][k - 1]
    above, tied = scores > kth, scores == kth
    places_left = k - int(above.sum())
    positives = y_true[above].sum() + y_true[tied].sum() * places_left / int(tied.sum())
    return float(positives / k)


def high_tier_precision_recall(y_true, tiers) -> tuple[float, float]:
    """(precision, recall) of "tier is high" as a prediction of a confirmed crisis.

    Precision is NaN when nobody is in the high tier; recall is NaN without positives.
    """
    y_true = np.asarray(y_true).astype(bool)
    high = np.asarray(tiers) == HIGH
    hits = int((high & y_true).sum())
    precision = hits / int(high.sum()) if high.any() else math.nan
    recall = hits / int(y_true.sum()) if y_true.any() else math.nan
    return precision, recall


def scaled_k(visits_per_month: int, n_fold: int, n_population: int) -> int:
    """Return k for a fold: its share of the monthly capacity, from 1 to ``n_fold``.

    See the module doc for the formula.
    """
    return int(min(max(round(visits_per_month * n_fold / n_population), 1), n_fold))


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class ComparisonReport:
    """Result of :func:`compare_scorers`.

    ``per_fold`` is tidy: one row per fold and scorer with ``n``, ``n_positive``, ``k``,
    ``n_high`` and the four metrics.
    """

    per_fold: pd.DataFrame
    config_version: str
    folds: int
    visits_per_month: int
    n_population: int
    n_labelled: int
    learned_features: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """Mean and standard deviation over folds of each metric, one row per scorer."""
        grouped = self.per_fold.groupby("scorer", sort=False)[list(METRICS)]
        mean, std = grouped.mean(), grouped.std(ddof=1)
        out = pd.DataFrame(index=pd.Index(SCORERS, name="scorer"))
        for metric in METRICS:
            out[f"{metric}_mean"] = mean[metric]
            out[f"{metric}_std"] = std[metric]
        out["high_share"] = (
            self.per_fold.groupby("scorer", sort=False)["n_high"].sum()
            / self.per_fold.groupby("scorer", sort=False)["n"].sum()
        )
        out["k_per_fold"] = self.per_fold.groupby("scorer", sort=False)["k"].mean()
        return out

    def differences(self) -> pd.DataFrame:
        """Learned minus weighted, per metric: mean and std over folds, folds where better."""
        wide = self.per_fold.pivot(index="fold", columns="scorer", values=list(METRICS))
        rows = {}
        for metric in METRICS:
            diff = (wide[(metric, "learned")] - wide[(metric, "weighted")]).dropna()
            n = len(diff)
            rows[metric] = {
                "mean_difference": diff.mean() if n else math.nan,
                "std_difference": diff.std(ddof=1) if n > 1 else math.nan,
                "folds_better": int((diff > 0).sum()),
                "folds_compared": n,
            }
        out = pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")
        return out.astype({"folds_better": np.int64, "folds_compared": np.int64})

    @property
    def learned_beats_weighted(self) -> bool:
        """True when the learned scorer's mean ROC AUC over folds is above the weighted's."""
        return bool(self.differences().at["roc_auc", "mean_difference"] > 0)

    @property
    def verdict(self) -> str:
        """One sentence: does the learned scorer beat the weighted index, and by how much."""
        diffs = self.differences()
        auc = diffs.loc["roc_auc"]
        mean, std = float(auc["mean_difference"]), float(auc["std_difference"])
        n, better = int(auc["folds_compared"]), int(auc["folds_better"])
        standard_error = std / math.sqrt(n) if n > 1 and not math.isnan(std) else math.nan
        within_noise = not math.isnan(standard_error) and abs(mean) < 2 * standard_error
        folds_text = f"better in {better} of {n} folds"
        if mean > 0:
            head = f"The learned scorer beats the weighted index on ROC AUC by {mean:.3f}"
        elif mean < 0:
            head = (
                f"The learned scorer does not beat the weighted index: its ROC AUC is "
                f"{-mean:.3f} lower"
            )
        else:
            head = "The learned scorer does not beat the weighted index: their ROC AUC is equal"

        text = f"{head} (mean over {n} folds, {folds_text})"
        if within_noise:
            text += ", within fold-to-fold noise (less than 2 standard errors)"
        p_at_k = diffs.loc["precision_at_k", "mean_difference"]
        if not math.isnan(p_at_k):
            direction = "higher" if p_at_k > 0 else "lower" if p_at_k < 0 else "equal"
            amount = "" if direction == "equal" else f"{abs(p_at_k):.3f} "
            text += f"; its precision at k is {amount}{direction}"
        return text + "."

    def to_markdown(self) -> str:
        """Return the summary, the learned-minus-weighted differences and the verdict (Markdown)."""
        summary = self.to_frame()
        lines = [
            f"## Scorer comparison: {self.config_version}, {self.folds}-fold stratified CV",
            "",
            f"{self.n_labelled} labelled residents of {self.n_population} scored; "
            f"k = {self.visits_per_month} visits a month scaled to each fold "
            f"(about {summary['k_per_fold'].iloc[0]:.1f} per fold). "
            f"Learned scorer features: {len(self.learned_features)}.",
            "",
            "| scorer | ROC AUC | high precision | high recall | precision at k | high share |",
            "|---|---|---|---|---|---|",
        ]
        for scorer, row in summary.iterrows():
            cells = [_mean_std(row[f"{metric}_mean"], row[f"{metric}_std"]) for metric in METRICS]
            lines.append(f"| {scorer} | {' | '.join(cells)} | {_number(row['high_share'])} |")
        lines += [
            "",
            "| learned − weighted | mean | std | folds better |",
            "|---|---|---|---|",
        ]
        for metric, row in self.differences().iterrows():
            lines.append(
                f"| {metric} | {_number(row['mean_difference'], signed=True)} | "
                f"{_number(row['std_difference'])} | "
                f"{int(row['folds_better'])} of {int(row['folds_compared'])} |"
            )
        lines += ["", self.verdict, ""]
        return "\n".join(lines)


def _number(value: float, *, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _mean_std(mean: float, std: float) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.3f} ± {std:.3f}" if not math.isnan(std) else f"{mean:.3f}"


def _labels(features: pd.DataFrame, labels) -> pd.Series:
    if isinstance(labels, pd.Series):
        missing = labels.index.difference(features.index)
        if len(missing):
            raise ReportError(
                f"{len(missing)} label(s) for residents not in features, e.g. {missing[0]!r}"
            )
        if not labels.index.is_unique:
            raise ReportError("labels has duplicated residents")
        aligned = labels.reindex(features.index)
    else:
        values = np.asarray(labels)
        if values.ndim != 1 or len(values) != len(features):
            raise ReportError(
                f"labels must be a Series indexed like features or have {len(features)} values"
            )
        aligned = pd.Series(values, index=features.index)
    aligned = pd.to_numeric(aligned.astype(object), errors="coerce")
    present = aligned.dropna()
    if not present.isin((0, 1)).all():
        raise ReportError("labels must be 0 (met, no crisis), 1 (crisis confirmed) or missing")
    return present.astype(np.int64)


def compare_scorers(
    features: pd.DataFrame,
    labels,
    *,
    config: ScoringConfig,
    folds: int = 5,
    random_state: int | None = 0,
    learned_features=None,
) -> ComparisonReport:
    """Compare the three scorers on the same stratified folds (see the module doc).

    Parameters
    ----------
    features : DataFrame
        The feature table of the scored population (one row per resident, named columns).
    labels : Series or array-like
        1 = a visit confirmed a crisis, 0 = met without a confirmed crisis, missing =
        unlabelled (not evaluated, but counted in the population for k). A Series is aligned
        on ``features``' index and may cover only some residents.
    config : ScoringConfig
        The weighted index's configuration; also gives the capacity (k) and the learned
        scorer's default tier shares.
    folds : int, default=5
        Number of stratified folds; each outcome needs at least this many residents.
    random_state : int or None, default=0
        Seed of the fold shuffle.
    learned_features : sequence of str or None, default=None
        Columns for the learned scorer; None means every column except
        :data:`scoring.learned.VISIT_DERIVED_FEATURES` (the time since a met visit or a
        contact and the days overdue are computed from the very visits that produce the
        labels, and would leak them).

    Returns
    -------
    ComparisonReport
    """
    if not isinstance(features, pd.DataFrame):
        raise ReportError("features must be a DataFrame with named feature columns")
    if not isinstance(config, ScoringConfig):
        raise ReportError(f"config must be a ScoringConfig, got {type(config).__name__}")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ReportError(f"folds must be an integer >= 2, got {folds!r}")
    y = _labels(features, labels)
    counts = y.value_counts()
    if len(counts) < 2 or counts.min() < folds:
        raise ReportError(
            f"each outcome needs at least {folds} labelled residents for {folds} folds; "
            f"got {counts.get(1, 0)} confirmed and {counts.get(0, 0)} not confirmed"
        )
    if learned_features is None:
        learned_features = [c for c in features.columns if c not in VISIT_DERIVED_FEATURES]
    learned_features = tuple(learned_features)

    labelled = features.loc[y.index]
    y_values = y.to_numpy()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    weighted = WeightedIndexScorer(config=config)
    rules = RuleScorer.default()
    rows = []
    for fold, (train, test) in enumerate(splitter.split(labelled, y_values)):
        train_X, test_X = labelled.iloc[train], labelled.iloc[test]
        fitted = {
            "weighted": weighted.fit(train_X),
            "rules": rules.fit(train_X),
            "learned": LearnedScorer(features=learned_features, config=config).fit(
                train_X, y_values[train]
            ),
        }
        y_test = y_values[test]
        k = scaled_k(config.visits_per_month, len(test), len(features))
        for name in SCORERS:
            scores = fitted[name].score_samples(test_X)
            tiers = fitted[name].predict(test_X)
            precision, recall = high_tier_precision_recall(y_test, tiers)
            rows.append(
                {
                    "fold": fold,
                    "scorer": name,
                    "n": len(test),
                    "n_positive": int(y_test.sum()),
                    "k": k,
                    "n_high": int((tiers == HIGH).sum()),
                    "roc_auc": roc_auc_score(y_test, scores),
                    "high_precision": precision,
                    "high_recall": recall,
                    "precision_at_k": precision_at_k(y_test, scores, k),
                }
            )
    return ComparisonReport(
        per_fold=pd.DataFrame(rows),
        config_version=config.version,
        folds=folds,
        visits_per_month=config.visits_per_month,
        n_population=len(features),
        n_labelled=len(y),
        learned_features=learned_features,
    )


def truth_comparison(scores: dict[str, np.ndarray], truth) -> tuple[pd.DataFrame, str]:
    """ROC AUC of each scorer's scores against a known truth (the demo's hidden ground truth).

    Parameters
    ----------
    scores : dict of name -> array
        Scores of the same residents, in the same order as ``truth``; must include
        ``"weighted"`` and ``"learned"``.
    truth : array-like of 0/1
        1 = the resident is in crisis.

    Returns
    -------
    (DataFrame, str)
        ROC AUC per scorer, and a sentence saying whether the learned scorer beats the
        weighted index and by how much (or by how much it does not).
    """
    truth = np.asarray(truth).astype(int)
    if len(np.unique(truth)) != 2:
        raise ReportError("the truth needs both classes")
    auc = {
        name: float(roc_auc_score(truth, np.asarray(s, dtype=float))) for name, s in scores.items()
    }
    frame = pd.DataFrame({"roc_auc": auc}).rename_axis("scorer")
    difference = auc["learned"] - auc["weighted"]
    verb = "beats" if difference > 0 else "does not beat"
    sentence = (
        f"On the ground truth ({len(truth)} residents, {int(truth.sum())} in crisis) the "
        f"learned scorer {verb} the weighted index: ROC AUC {auc['learned']:.3f} vs "
        f"{auc['weighted']:.3f} ({difference:+.3f})."
    )
    return frame, sentence
