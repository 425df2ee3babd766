"""Score a population: load the features, score them, compute due dates, store the run.

A run is stored as a draft; :func:`publish_score_run` (or ``publish=True``) makes it the
run the map, the planner and the field pages use (docs/publishing.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.features import load_features
from geo.scope import Scope
from geo.score_runs import (
    Publication,
    RunWriter,
    StoredRun,
    labels_of,
    publish_run,
    published_run_id,
    visits_since_run,
)
from geo.settings import today_in_seoul
from scoring.additive import load_model
from scoring.cadence import FollowUp, due_dates, tier_since
from scoring.config import config_to_dict
from scoring.methods import label_metrics, score_table
from visitmap.errors import Conflict
from visitmap.usecases.blind_spots import refresh_blind_spots
from visitmap.usecases.hotspots import refresh_hotspots
from visitmap.usecases.visits import rescore_resident
from visitmap.vocab import TIER_NAMES

#: Residents scored at a time by default (issue 15): the rescore holds one chunk's features,
#: scores and contributions, so its memory is bounded by this, not by the city (1.75 GB peak
#: for the 982,686 residents of the 1M Seoul demo in one chunk). At a million and below the
#: whole city is one chunk, as before.
SCORE_CHUNK_ROWS = 1_000_000


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
    chunk_rows: int = SCORE_CHUNK_ROWS,
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
    chunk_rows : int, optional
        Residents read, scored and written at a time, in id order (:data:`SCORE_CHUNK_ROWS`):
        the rescore's memory is bounded by it. Any chunk size stores the same run. The
        learned method (``"model"``) trains on every labelled resident: one chunk.

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
    parameters = {
        "method": method,
        "config": config_to_dict(config),
        # issue 14: the additive model's tables are versioned apart (scoring/configs)
        "model": load_model().version if method == "additive" else None,
        "as_of": as_of,
        "scope": None if scope.is_everything else sorted(scope.area_codes or []),
        "follow_up": asdict(FollowUp() if follow_up is None else follow_up),
    }
    # the learned model trains on every labelled resident at once: one chunk (issue 15)
    ranges = _id_ranges(session, None if method == "model" else chunk_rows)
    writer = RunWriter(
        session, method=method, config_version=version_of(method, config),
        parameters=parameters, created_by=created_by, scope=scope, previous_run_id=previous,
        as_of=as_of, progress=progress,
    )  # fmt: skip
    moved, overdue = 0, dict.fromkeys(TIER_NAMES.values(), 0)
    labels, label_scores, label_tiers = [], [], []
    for id_range in ranges:
        table = load_features(
            session, scope, as_of=as_of, previous_run_id=previous, cadence_days=cadence,
            id_range=id_range,
        )  # fmt: skip
        if table.features.empty:
            continue
        labelled = labels_of(table)
        scored = score_table(method, config, table.features, labelled)
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
        writer.write(
            table, scores=scored.scores, tiers=scored.tiers, contributions=scored.contributions,
            next_due=next_due, tier_since=since,
        )  # fmt: skip
        position = table.features.index.get_indexer(labelled.index)
        labels.append(labelled.to_numpy())
        label_scores.append(scored.scores[position])
        label_tiers.append(scored.tiers[position])
        # who moved into high: the previous tiers came with the features (= run_changes,
        # without reading both runs back: ~4.5 s at a million residents)
        was_high = table.context["previous_tier"].to_numpy(dtype=float) == 2
        moved += int(((scored.tiers == 2) & ~was_high).sum()) if previous is not None else 0
        for name, n in overdue_by_tier(scored.tiers, next_due, as_of=table.as_of).items():
            overdue[name] += n
        del table, scored, next_due, since  # one chunk in memory at a time
    if writer.rows == 0:
        raise NothingToScore("no active residents in scope to score")
    metrics = label_metrics(
        np.concatenate(labels), np.concatenate(label_scores), np.concatenate(label_tiers)
    )
    stored = writer.finish(metrics)
    if publish:
        publish_run(session, stored.run_id, created_by)
    return ScoringResult(stored, moved, int(sum(len(x) for x in labels)), publish, overdue)


def _id_ranges(session: Session, chunk_rows: int | None) -> list[tuple[int, int]]:
    """Return closed ranges of residents.id holding ``chunk_rows`` active residents each.

    One range over every id for ``None``. Ranges are in id order, so the run's rows are
    written in the order a one-chunk run writes them.
    """
    if chunk_rows is None:
        return [(-(2**31), 2**31 - 1)]
    starts = (
        session.execute(
            text("""SELECT id FROM (
            SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM residents
            WHERE status = 'active') q
        WHERE k % :n = 0 ORDER BY id"""),
            {"n": int(chunk_rows)},
        )
        .scalars()
        .all()
    )
    if not starts:
        return [(-(2**31), 2**31 - 1)]
    ends = [start - 1 for start in starts[1:]] + [2**31 - 1]
    pairs = zip(starts, ends, strict=True)
    return [(-(2**31) if i == 0 else lo, hi) for i, (lo, hi) in enumerate(pairs)]


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
