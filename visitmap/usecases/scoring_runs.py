"""Score a population: load the features, score them, compute due dates, store the run.

A run is stored as a draft; :func:`publish_score_run` (or ``publish=True``) makes it the
run the map, the planner and the field pages use (docs/publishing.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import numpy as np
from sqlalchemy.orm import Session

from geo.features import load_features
from geo.scope import Scope
from geo.score_runs import (
    Publication,
    StoredRun,
    labels_of,
    publish_run,
    published_run_id,
    store_run,
    visits_since_run,
)
from geo.settings import today_in_seoul
from scoring.additive import load_model
from scoring.cadence import FollowUp, due_dates, tier_since
from scoring.config import config_to_dict
from scoring.methods import score_table
from visitmap.errors import Conflict
from visitmap.usecases.blind_spots import refresh_blind_spots
from visitmap.usecases.hotspots import refresh_hotspots
from visitmap.usecases.visits import rescore_resident
from visitmap.vocab import TIER_NAMES


class NothingToScore(Conflict):
    """No active resident is in the scope to be scored."""


@dataclass(frozen=True)
class ScoringResult:
    """A stored run, how many residents moved into the high tier, and how many had labels.

    ``published``: whether the run was published as it was stored (``publish=True``).
    ``overdue_counts``: residents per tier name whose due date is before the run's day.
    """

    stored: StoredRun
    moved_into_high: int
    labelled: int
    published: bool = False
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
    publish: bool = False,
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
    publish : bool, default=False
        Publish the run as well (by ``created_by``); else it is stored as a draft, and the
        map, the planner and the field pages keep the published run (docs/publishing.md).
        The run's previous run, against which tiers moved, is the published run.

    Returns
    -------
    ScoringResult

    Raises
    ------
    NothingToScore
        When no active resident is in scope.
    """
    previous = published_run_id(session)
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
        # issue 14: the additive model's tables are versioned apart (scoring/configs)
        "model": load_model().version if method == "additive" else None,
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
        config_version=version_of(method, config),
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
    if publish:
        publish_run(session, stored.run_id, created_by)
    return ScoringResult(stored, moved, int(len(labelled)), publish, overdue)


def version_of(method: str, config) -> str:
    """Return the version a run of ``method`` names: the model's, the rules' or the config's."""
    if method == "rules":
        return "rules_default"
    if method == "additive":
        return load_model().version
    return config.version


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


# --- publishing (docs/publishing.md) ---------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    """A publication and how many residents' rows caught up with visits recorded since."""

    publication: Publication
    caught_up: int


def publish_score_run(
    session: Session, run_id: int, *, by: str, follow_up: FollowUp | None = None
) -> PublishResult:
    """Publish score run ``run_id``: the map, the planner and the field pages use it from now.

    Publishing (:func:`geo.score_runs.publish_run`) stamps the run with the time and ``by``;
    publishing the run that is published already changes nothing. A draft is a snapshot: the
    visits recorded after it was stored rescored the run published then, not it. So the
    residents visited since are rescored in it here, once each with their latest visit
    (:func:`visitmap.usecases.visits.rescore_resident`, logged in ``score_updates``), so that
    the run that becomes the teams' knows every visit recorded before it.

    Parameters
    ----------
    session : Session
        The caller's transaction (not committed here).
    run_id : int
        The run to publish.
    by : str
        Who publishes it (stored as ``published_by``).
    follow_up : FollowUp, optional
        Retry and attempt gaps for the due dates of the residents rescored (default: the
        defaults of :class:`scoring.cadence.FollowUp`).

    Returns
    -------
    PublishResult

    Raises
    ------
    visitmap.errors.NotFound
        If no run has the id.
    """
    follow_up = FollowUp() if follow_up is None else follow_up
    publication = publish_run(session, run_id, by)
    caught_up = 0
    if publication.changed:
        for resident_db_id, visit_id, visit_date in visits_since_run(session, run_id):
            change = rescore_resident(
                session,
                Scope.everything(),
                resident_db_id,
                visit_id=visit_id,
                visit_date=visit_date,
                retry_days=follow_up.retry_days,
                attempt_gap_days=follow_up.attempt_gap_days,
            )
            caught_up += change is not None
        # issue 14: the new run's hot spots and blind-spot list (docs/blind_spots.md)
        refresh_hotspots(session, run_id)
        refresh_blind_spots(session, as_of=today_in_seoul(), run_id=run_id)
    return PublishResult(publication, caught_up)
