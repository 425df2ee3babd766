"""Record a visit, rescore its resident, and show the visit form.

Parse what was submitted, write the visit and its needs, mark or clear the unreachable
state, and rescore the resident in the latest run. Everything runs in the caller's
transaction, which commits or rolls back the whole visit.
Rules and limits: docs/visits.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
from sqlalchemy.orm import Session

from geo.blind_spots import contact_made
from geo.features import load_features
from geo.scope import Scope
from geo.score_runs import resident_explanation, unpack_vectors
from geo.settings import SEOUL
from geo.support_warnings import refresh_for_residents
from geo.visit_scores import (
    ScoreChange,
    lock_score_row,
    refresh_unreachable,
    rescoring_run,
    save_score_change,
)
from geo.visits import (
    EARLIEST_VISIT,
    PLAN_ID_MAX,
    TEXT_FIELDS,
    VisitError,
    VisitInput,
    eligible_members,
    insert_visit,
    planned_member,
    resident_row,
    route_plan,
    visit_summary,
)
from scoring.cadence import FollowUp, due_dates
from scoring.config import config_from_dict
from scoring.methods import rescore_row


def _text(value) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def visit_input_from_mapping(data: Mapping) -> VisitInput:
    """Parse submitted values (form fields or JSON) into a :class:`VisitInput`.

    Only the shape is checked here; whether the resident, outcome, needs, member and plan
    exist is checked when the visit is recorded (:func:`record_visit`).

    Parameters
    ----------
    data : Mapping
        The submitted values by name. Text (a string, or absent/null), without NUL
        characters: ``resident``, ``outcome``, ``idempotency_key``, ``visited_at`` (ISO 8601;
        Korean time when it has no offset; not before 2000-01-01), ``next_visit_on``
        (``YYYY-MM-DD``), ``member``, ``visitor_name`` and ``notes``. ``needs``: a list of
        need category codes. ``plan``: a route plan id, an integer or a string of digits.

    Returns
    -------
    VisitInput
        Text stripped, empty text as None (the ids as ``""``), needs stripped and without
        repeats, in their order.

    Raises
    ------
    VisitError
        Naming every malformed field.
    """
    problems = []
    raw = {}
    for field in TEXT_FIELDS:
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            problems.append((field, f"must be a string, got {type(value).__name__}"))
        elif value is not None and "\x00" in value:
            problems.append((field, "must not contain NUL characters"))
        else:
            raw[field] = value
    visited_at = next_visit_on = plan_id = None
    raw_time = _text(raw.get("visited_at"))
    if raw_time is not None:
        try:
            visited_at = dt.datetime.fromisoformat(raw_time)
        except ValueError:
            problems.append(("visited_at", f"not a date and time: {raw_time!r}"))
        else:
            if visited_at.tzinfo is None:  # the form's datetime-local: Korean time
                visited_at = visited_at.replace(tzinfo=SEOUL)
            if visited_at.date() < EARLIEST_VISIT:
                problems.append(("visited_at", f"before {EARLIEST_VISIT.isoformat()}"))
                visited_at = None
    raw_next = _text(raw.get("next_visit_on"))
    if raw_next is not None:
        try:
            next_visit_on = dt.date.fromisoformat(raw_next)
        except ValueError:
            problems.append(("next_visit_on", f"not a date (YYYY-MM-DD): {raw_next!r}"))
    raw_plan = data.get("plan")
    if isinstance(raw_plan, str):
        raw_plan = _text(raw_plan)
    if raw_plan is not None:
        if isinstance(raw_plan, int) and not isinstance(raw_plan, bool):
            plan_id = raw_plan
        elif isinstance(raw_plan, str) and raw_plan.isascii() and raw_plan.isdigit():
            plan_id = int(raw_plan)
        if plan_id is None or not 0 < plan_id <= PLAN_ID_MAX:
            problems.append(("plan", f"not a route plan id: {raw_plan!r}"))
            plan_id = None
    needs = data.get("needs")
    if needs is None:
        needs = ()
    elif not isinstance(needs, list | tuple) or not all(
        isinstance(n, str) and "\x00" not in n for n in needs
    ):
        problems.append(("needs", "must be a list of need category codes"))
        needs = ()
    if problems:
        raise VisitError(problems)
    notes = _text(raw.get("notes"))
    return VisitInput(
        resident_id=_text(raw.get("resident")) or "",
        outcome=_text(raw.get("outcome")) or "",
        idempotency_key=_text(raw.get("idempotency_key")) or "",
        visited_at=visited_at,
        needs=tuple(dict.fromkeys(n.strip() for n in needs)),
        notes=notes,
        next_visit_on=next_visit_on,
        member_id=_text(raw.get("member")),
        visitor_name=_text(raw.get("visitor_name")),
        plan_id=plan_id,
    )


def record_visit(
    session: Session,
    scope: Scope,
    visit: VisitInput,
    *,
    unreachable_after: int = 3,
    retry_days: int = 30,
    attempt_gap_days: int = 7,
    now: dt.datetime | None = None,
) -> dict:
    """Record a visit and rescore its resident, in the caller's transaction.

    Parameters
    ----------
    session : Session
        The caller's transaction; it rolls back on an error.
    scope : Scope
        The caller's scope.
    visit : VisitInput
        The visit as submitted (:func:`visit_input_from_mapping`).
    unreachable_after : int, default=3
        Not-found visits in a row that mark a resident unreachable.
    retry_days : int, default=30
        Days after the last attempt that an unreachable resident is due again.
    attempt_gap_days : int, default=7
        Days after a visit that did not meet the resident before they are due again.
    now : datetime, optional
        Aware; the clock for the future check (default: now in Seoul).

    Returns
    -------
    dict
        :func:`geo.visits.visit_summary` of the visit, with ``replayed`` True when the
        idempotency key had recorded this visit already (nothing new was written).

    Raises
    ------
    VisitError
        Every problem, by field.
    IdempotencyConflict
        The key was used for a different visit.
    """
    inserted = insert_visit(session, scope, visit, now=now or dt.datetime.now(SEOUL))
    if not inserted.replayed:
        refresh_unreachable(
            session, after=unreachable_after, resident_db_ids=[inserted.resident_db_id]
        )
        rescore_resident(
            session,
            scope,
            inserted.resident_db_id,
            visit_id=inserted.visit_id,
            visit_date=inserted.visit_date,
            retry_days=retry_days,
            attempt_gap_days=attempt_gap_days,
        )
        # a met visit ends an "unserved crisis" warning (docs/support_warnings.md)
        refresh_for_residents(
            session, [inserted.resident_db_id], (now or dt.datetime.now(SEOUL)).date()
        )
        if visit.outcome in ("met", "crisis_confirmed"):
            # issue 14: someone is in touch now (docs/blind_spots.md)
            contact_made(session, [inserted.resident_db_id])
    return visit_summary(session, scope, inserted.external_id) | {"replayed": inserted.replayed}


def rescore_resident(
    session: Session,
    scope: Scope,
    resident_db_id: int,
    *,
    visit_id: int,
    visit_date: dt.date,
    retry_days: int,
    attempt_gap_days: int = 7,
) -> ScoreChange | None:
    """Rescore one resident in the latest run after a visit, and store the change.

    Features are recomputed as of the later of the visit date and the run's ``as_of``, with
    the run's previous run for ``days_overdue`` (as the run itself computed them). The score
    and tier come from the run's method and stored configuration; a learned run (``model``)
    stores no fitted model, so its score, tier and contributions are kept and only the
    features and the due date change. The due date follows the one rule of score runs
    (:func:`scoring.cadence.due_dates`), with the visit just recorded in its inputs; a tier
    the visit moved starts its ``tier_since`` on the visit's day (:func:`rescored_tier_since`).

    Parameters
    ----------
    session : Session
        The visit's transaction.
    scope : Scope
        The caller's scope.
    resident_db_id : int
        The resident's database id.
    visit_id : int
        The visit (logged with the change).
    visit_date : date
        The visit's day in Seoul.
    retry_days, attempt_gap_days : int
        See :class:`scoring.cadence.FollowUp`.

    Returns
    -------
    ScoreChange or None
        None when there is no run or the resident has no row in it (registered after the
        run, or no longer active).
    """
    run = rescoring_run(session)
    if run is None:
        return None
    old = lock_score_row(session, run["id"], resident_db_id)
    if old is None:
        return None
    config = config_from_dict(run["parameters"]["config"], source=f"score run {run['id']}")
    cadence = config.cadence.by_code()
    as_of = max(visit_date, run["as_of"])
    table = load_features(
        session,
        scope,
        as_of=as_of,
        previous_run_id=run["previous_run_id"],
        cadence_days=cadence,
        resident_db_ids=[resident_db_id],
    )
    if table.features.empty:
        return None
    names = list(run["feature_names"])
    features = table.features.reindex(columns=names, fill_value=0.0)
    if run["method"] == "model":
        score, tier = float(old["score"]), int(old["tier"])
        contributions = unpack_vectors(old["contributions"])[None, :]
    else:
        score, tier, contributions = rescore_row(run["method"], config, features)
    since = rescored_tier_since(old, tier, visit_date=visit_date, run_as_of=run["as_of"])
    due = due_dates(
        [tier],
        table.context,
        as_of=as_of,
        tier_since=[since],
        cadence=cadence,
        first_visit=config.first_visit,
        follow_up=FollowUp(retry_days=retry_days, attempt_gap_days=attempt_gap_days),
    )[0].astype(dt.date)
    change = ScoreChange(
        run_id=run["id"],
        method=run["method"],
        old_score=float(old["score"]),
        new_score=score,
        old_tier=int(old["tier"]),
        new_tier=tier,
        old_next_due_on=old["next_due_on"],
        new_next_due_on=due,
        new_tier_since=since,
    )
    save_score_change(
        session,
        change,
        resident_db_id,
        visit_id=visit_id,
        features=features.to_numpy(),
        contributions=np.asarray(contributions),
    )
    return change


def rescored_tier_since(old, tier: int, *, visit_date: dt.date, run_as_of: dt.date) -> dt.date:
    """Return the day a rescored resident entered ``tier``.

    The stored day (else the run's day) while the tier stays; the visit's day when the visit
    moved it (scoring.cadence's first-visit clock then starts again).
    """
    if int(old["tier"]) == int(tier):
        return old["tier_since"] or run_as_of
    return visit_date


def visit_form(
    session: Session, scope: Scope, resident_id: str, *, plan_id: int | None = None
) -> dict | None:
    """Return what the visit form shows, or None if the resident is unknown or out of ``scope``.

    The form shows the resident (name, dong, status, unreachable mark, and the explanation of
    their score in the latest run: score, tier, due date, reasons), the visitors to choose from
    (the active members of the plan's team, else of the teams covering the resident's dong), the
    member the plan gave this resident to, and the plan (its team and day; None when ``plan_id``
    is None or names no plan).
    """
    resident = resident_row(session, scope, resident_id)
    if resident is None:
        return None
    plan = route_plan(session, plan_id) if plan_id is not None else None
    members = eligible_members(session, area_id=resident["area_id"], plan=plan)
    planned = None
    if plan is not None:
        planned = planned_member(session, plan_id, resident["id"])
    explanation = resident_explanation(session, scope, resident_id)
    return {
        "resident": {
            "resident_id": resident["external_id"],
            "name": resident["name"],
            "area_name": resident["area_name"],
            "status": resident["status"],
            "unreachable_since": resident["unreachable_since"],
            "explanation": explanation,
        },
        "members": [
            {k: m[k] for k in ("external_id", "name", "role", "team_name")} for m in members
        ],
        "planned_member": planned,
        "plan": plan,
    }
