"""Score a population: load the features, score them, compute due dates, store the run."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from geo.features import load_features
from geo.scope import Scope
from geo.score_runs import StoredRun, labels_of, latest_run_id, store_run
from scoring.cadence import FollowUp, due_dates, tier_since
from scoring.config import config_to_dict
from scoring.methods import score_table
from visitmap.errors import Conflict
from visitmap.vocab import TIER_NAMES


class NothingToScore(Conflict):
    """No active resident is in the scope to be scored."""


@dataclass(frozen=True)
class ScoringResult:
    """A stored run, how many residents moved into the high tier, and how many had labels.

    ``overdue_counts``: residents per tier name whose due date is before the run's day.
    """

    stored: StoredRun
    moved_into_high: int
    labelled: int
    overdue_counts: dict[str, int] = field(default_factory=dict)


def score_residents(
    session: Session,
    scope: Scope,
    *,
    method: str,
    config,
    as_of: dt.date,
    created_by: str,
    follow_up: FollowUp | None = None,
    progress=None,
) -> ScoringResult:
    """Score the active residents in ``scope`` at ``as_of`` and store the run.

    Due dates follow :func:`scoring.cadence.due_dates` (the tier cadence after the last met
    visit, or for a resident never met the first-visit days after the day they entered their
    tier, which is kept per resident, :func:`run_tier_since`; moved by the visits that did
    not meet a resident and by the next visit dates set on the visit form).
    The learned scorer is trained on the recorded visit outcomes of the residents in scope,
    without the visit-derived features, which would leak the labels (docs/scoring.md);
    metrics compare the scores with those labels. The map's aggregates of the run are built
    as it is stored (:func:`geo.score_runs.store_run`), so that no request has to write them.

    Parameters
    ----------
    session : Session
        The caller's transaction; the run is stored in it.
    scope : Scope
        The areas to score.
    method : {"weighted", "rules", "model"}
        The scorer (:func:`scoring.methods.make_scorer`).
    config : ScoringConfig
        Weights, tier edges, cadence.
    as_of : date
        The day the features and due dates are computed at.
    created_by : str
        Who asked for the run (stored with it).
    follow_up : FollowUp, optional
        Retry and attempt gaps for due dates.
    progress : tqdm-like, optional
        Its ``update(n)`` is called with the rows written, chunk by chunk, while the scores
        are copied in.

    Returns
    -------
    ScoringResult

    Raises
    ------
    NothingToScore
        When no active resident is in scope.
    """
    previous = latest_run_id(session)
    cadence = config.cadence.by_code()
    table = load_features(
        session, scope, as_of=as_of, previous_run_id=previous, cadence_days=cadence
    )
    if table.features.empty:
        raise NothingToScore("no active residents in scope to score")
    labelled = labels_of(table)
    scored = score_table(method, config, table.features, labelled)
    parameters = {
        "method": method,
        "config": config_to_dict(config),
        "as_of": as_of,
        "scope": None if scope.is_everything else sorted(scope.area_codes or []),
        "follow_up": asdict(FollowUp() if follow_up is None else follow_up),
    }
    since = run_tier_since(table, scored.tiers)
    next_due = due_dates(
        scored.tiers,
        table.context,
        as_of=table.as_of,
        tier_since=since,
        cadence=cadence,
        first_visit=config.first_visit,
        follow_up=follow_up,
    )
    stored = store_run(
        session,
        table,
        scores=scored.scores,
        tiers=scored.tiers,
        contributions=scored.contributions,
        method=method,
        config_version=config.version if method != "rules" else "rules_default",
        parameters=parameters,
        created_by=created_by,
        scope=scope,
        previous_run_id=previous,
        metrics=scored.metrics,
        next_due=next_due,
        progress=progress,
        tier_since=since,
    )
    # who moved into high: the previous tiers came with the features (= run_changes, without
    # reading both runs back: ~4.5 s at a million residents)
    was_high = table.context["previous_tier"].to_numpy(dtype=float) == 2
    moved = int(((scored.tiers == 2) & ~was_high).sum()) if previous is not None else 0
    overdue = overdue_by_tier(scored.tiers, next_due, as_of=table.as_of)
    return ScoringResult(stored, moved, int(len(labelled)), overdue)


def run_tier_since(table, tiers) -> np.ndarray:
    """Return the day each resident of ``table`` entered its tier in a run at ``table.as_of``.

    Carried from the previous run (``previous_tier``, ``previous_tier_since`` of the
    context) where the tier is unchanged, else the run's day (:func:`scoring.cadence.tier_since`).
    """
    context = table.context
    return tier_since(
        tiers,
        context["previous_tier"].to_numpy(dtype=float),
        context["previous_tier_since"].to_numpy(),
        as_of=table.as_of,
    )


def overdue_by_tier(tiers, next_due, *, as_of: dt.date) -> dict[str, int]:
    """Return, per tier name, how many residents are overdue on ``as_of`` (due before it)."""
    tiers = np.asarray(tiers)
    late = np.asarray(next_due).astype("datetime64[D]") < np.datetime64(as_of, "D")
    return {name: int((late & (tiers == code)).sum()) for code, name in TIER_NAMES.items()}


def tier_lines(tier_counts: dict[str, int], overdue_counts: dict[str, int]) -> list[str]:
    """Return one line per tier, high first: ``high 93 (overdue 8)``.

    What ``visitmap score`` prints: each tier's residents and how many of them are overdue
    on the run's day.
    """
    return [
        f"{name} {tier_counts.get(name, 0)} (overdue {overdue_counts.get(name, 0)})"
        for name in ("high", "medium", "low")
    ]
