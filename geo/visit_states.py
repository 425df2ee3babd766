"""Residents' visit states on a day, read from PostGIS (issue 12).

One state per resident, by the rule of :func:`scoring.cadence.visit_states` (precedence in
:data:`visitmap.vocab.VISIT_STATES`: inactive, unreachable, visited today, overdue, first
visit, due), from the due date of a score run's row, the visits up to the end of the day in
Seoul, the unreachable mark and the resident's status; with the state in words for the
pages, the map's panel and the planner. Reads only.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.features import VISITED_BY_END_OF_SQL
from scoring.cadence import visit_states
from scoring.features import MET_OUTCOMES
from visitmap.vocab import RESIDENT_STATUSES, VISIT_OUTCOMES, VISIT_STATES, overdue_words

#: Resident statuses that are no longer visit targets (state ``inactive``).
NOT_TARGET_STATUSES = ("moved", "deceased")


def visit_states_of(
    session: Session, run_id: int | None, resident_ids, today: dt.date
) -> dict[str, dict]:
    """Return each resident's visit state on ``today``, by external id.

    The due date is the resident's row of score run ``run_id`` (the one due-date rule,
    :func:`scoring.cadence.due_dates`, as stored and as a visit's rescoring moved it); the
    state is :func:`scoring.cadence.visit_states` (the precedence of
    :data:`visitmap.vocab.VISIT_STATES`) from it, the visits up to the end of ``today``
    (Seoul), the unreachable mark and the resident's status. One statement, whatever the
    number of residents. Reads only.

    Parameters
    ----------
    session : Session
        Any session.
    run_id : int or None
        The score run whose due dates count; None (or a resident not in it): no due date,
        never overdue.
    resident_ids : iterable of str
        External resident ids; unknown ones are left out of the result. The caller scopes
        them (no scope check here).
    today : date
        The day, Seoul's (:func:`geo.settings.today_in_seoul`).

    Returns
    -------
    dict of str to dict
        Per external id: ``state`` (a code of VISIT_STATES), ``state_ko``, ``state_en`` (its
        labels), ``words_ko``, ``words_en`` (the state with its detail, e.g. "3개월 이상
        지남", "첫 방문 필요 (2026-12-15까지)", "오늘 방문함 (면담)"), ``due_on``,
        ``retry_on`` (unreachable only), ``last_visit_on``, ``last_met_on`` (dates or None),
        ``days_overdue`` (int, 0 unless overdue), ``overdue_band`` (index in
        OVERDUE_BANDS, -1 if not overdue), ``last_outcome`` (code or None), ``never_met``
        (bool), ``tier`` and ``tier_since`` (None when not in the run).
    """
    ids = sorted({str(i) for i in resident_ids})
    if not ids:
        return {}
    met = ", ".join(f"'{o}'" for o in MET_OUTCOMES)
    rows = session.execute(
        text(f"""
        SELECT r.external_id, r.status, r.unreachable_since, s.tier, s.next_due_on,
               s.tier_since, lv.outcome AS last_outcome, lv.day AS last_visit_on,
               lm.day AS last_met_on
        FROM residents r
        LEFT JOIN resident_scores s ON s.run_id = :run_id AND s.resident_id = r.id
        LEFT JOIN LATERAL (
            SELECT v.outcome, (v.visited_at AT TIME ZONE 'Asia/Seoul')::date AS day
            FROM visits v WHERE v.resident_id = r.id AND v.visited_at < {VISITED_BY_END_OF_SQL}
            ORDER BY v.visited_at DESC, v.id DESC LIMIT 1) lv ON true
        LEFT JOIN LATERAL (
            SELECT (max(v.visited_at) AT TIME ZONE 'Asia/Seoul')::date AS day
            FROM visits v WHERE v.resident_id = r.id AND v.outcome IN ({met})
              AND v.visited_at < {VISITED_BY_END_OF_SQL}) lm ON true
        WHERE r.external_id = ANY(:ids)
        ORDER BY r.external_id"""),
        {"run_id": run_id, "ids": ids, "as_of": today},
    ).all()
    if not rows:
        return {}
    states = visit_states(
        [row.next_due_on for row in rows],
        today=today,
        last_met_on=[row.last_met_on for row in rows],
        last_visit_on=[row.last_visit_on for row in rows],
        last_outcome=[row.last_outcome for row in rows],
        unreachable_since=[row.unreachable_since for row in rows],
        active=[row.status not in NOT_TARGET_STATUSES for row in rows],
    )
    out = {}
    for row, state in zip(rows, states.itertuples(index=False), strict=True):
        entry = {
            "state": state.state,
            "state_ko": VISIT_STATES[state.state][0],
            "state_en": VISIT_STATES[state.state][1],
            "due_on": _day(state.due_on),
            "days_overdue": int(state.days_overdue),
            "overdue_band": int(state.overdue_band),
            "retry_on": _day(state.retry_on),
            "last_outcome": row.last_outcome,
            "last_visit_on": row.last_visit_on,
            "last_met_on": row.last_met_on,
            "never_met": bool(state.never_met),
            "tier": None if row.tier is None else int(row.tier),
            "tier_since": row.tier_since,
        }
        entry["words_ko"], entry["words_en"] = state_words(entry, status=row.status)
        out[row.external_id] = entry
    return out


def _day(value) -> dt.date | None:
    """Return a datetime64 or Timestamp as a date, None for NaT."""
    return None if pd.isna(value) else pd.Timestamp(value).date()


def state_words(entry: dict, *, status: str = "active") -> tuple[str, str]:
    """Return a visit state with its detail in words (한국어, English).

    ``entry`` has the keys of :func:`visit_states_of` (state, due_on, retry_on,
    days_overdue, last_outcome). Overdue periods read in the bands of
    :func:`visitmap.vocab.overdue_words`; dates are ISO dates.
    """
    state = entry["state"]
    ko, en = VISIT_STATES[state]
    due = entry.get("due_on")
    if state == "overdue":
        return overdue_words(entry["days_overdue"])
    if state == "visited" and entry.get("last_outcome") in VISIT_OUTCOMES:
        outcome_ko, outcome_en = VISIT_OUTCOMES[entry["last_outcome"]]
        return f"{ko} ({outcome_ko})", f"{en} ({outcome_en.lower()})"
    if state == "unreachable" and entry.get("retry_on") is not None:
        retry = entry["retry_on"].isoformat()
        return f"{ko} ({retry} 재방문)", f"{en} (retry on {retry})"
    if state == "inactive" and status in RESIDENT_STATUSES:
        status_ko, status_en = RESIDENT_STATUSES[status]
        return f"{ko} ({status_ko})", f"{en} ({status_en.lower()})"
    if state == "first_visit" and due is not None:
        return f"{ko} ({due.isoformat()}까지)", f"{en} (by {due.isoformat()})"
    if state == "due" and due is not None:
        return f"{due.isoformat()} {ko}", f"{en} on {due.isoformat()}"
    return ko, en
