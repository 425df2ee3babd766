"""Day plans of the visit teams in PostGIS.

The candidate table a plan starts from, storing a plan, and reading it back for the route
page, the exports and the API.

The planner itself (:mod:`routing.plan`) knows no database; :mod:`visitmap.usecases.planning`
joins the two. Every function that returns residents takes the caller's :class:`~geo.scope.Scope`.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.scope import Scope
from geo.score_runs import resident_explanation
from geo.visit_states import visit_states_of
from scoring.cadence import visit_states
from scoring.features import MET_OUTCOMES
from visitmap.vocab import VISIT_OUTCOMES, VISIT_STATES, overdue_band, overdue_words

_MET_SQL = ", ".join(f"'{outcome}'" for outcome in MET_OUTCOMES)

CANDIDATE_COLUMNS = (
    "resident_id",
    "resident_pk",
    "area_code",
    "lon",
    "lat",
    "tier",
    "days_overdue",
    "next_due_on",
    "available_from",
    "available_until",
    "never_met",
    "state",
)


def stop_words(entry: dict) -> dict:
    """Return a stop's state on its plan's day with its words, from one visit-state entry.

    ``entry`` is a resident's entry of :func:`geo.visit_states.visit_states_of` (the one
    state rule, :func:`scoring.cadence.visit_states`) on the plan's day: visited on the day
    (the outcome), overdue (the period in words), first visit needed, due, unreachable or no
    longer a target.

    Returns
    -------
    dict
        ``state`` (a code of :data:`visitmap.vocab.VISIT_STATES`), ``state_ko`` /
        ``state_en`` (its label, with the overdue period in words or the visit's outcome),
        ``outcome`` (the day's visit outcome or None).
    """
    state = entry["state"]
    ko, en = VISIT_STATES[state]
    outcome = entry["last_outcome"] if state == "visited" else None
    detail = None
    if outcome is not None:
        detail = VISIT_OUTCOMES.get(outcome, (outcome, outcome))
    elif state == "overdue":
        detail = overdue_words(entry["days_overdue"])
    if detail is not None:
        ko, en = f"{ko} · {detail[0]}", f"{en} · {detail[1]}"
    return {"state": state, "state_ko": ko, "state_en": en, "outcome": outcome}


def _urgency(row) -> tuple[int, int, int, int]:
    # routing.candidates.Candidate.priority, with the days overdue as the last tie-break
    rank = ("due", "first_visit", "overdue").index(row.state)
    band = overdue_band(int(row.days_overdue)) if row.state == "overdue" else -1
    return (int(row.tier), rank, band, int(row.days_overdue))


def team_candidates(
    session: Session, scope: Scope, *, team_pk: int, run_id: int, day: dt.date
) -> pd.DataFrame:
    """Return the residents a team may visit on ``day``.

    They are active, live in one of the team's dongs and in ``scope``, and are due or overdue
    on ``day`` in score run ``run_id`` (``next_due_on <= day``).

    Parameters
    ----------
    session : Session
        The database session.
    scope : Scope
        The caller's scope.
    team_pk : int
        The team's database id.
    run_id : int
        The score run whose tiers and due dates are used.
    day : date
        The day planned.

    Returns
    -------
    DataFrame
        One row per resident (columns :data:`CANDIDATE_COLUMNS`; ``lon``/``lat`` of the
        household in WGS84 degrees, ``days_overdue = day - next_due_on`` in days, the
        availability window or None, ``never_met`` (no visit that met them before ``day``),
        ``state`` ``overdue``, ``first_visit`` or ``due`` by :func:`scoring.cadence.visit_states`),
        most urgent first as the planner ranks them (tier, state, overdue band; then most
        days overdue, then resident id).
    """
    scope_sql, scope_params = scope.sql("a.code")
    rows = session.execute(
        text(f"""
        SELECT r.external_id AS resident_id, r.id AS resident_pk, a.code AS area_code,
               ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat, s.tier,
               (CAST(:day AS date) - s.next_due_on) AS days_overdue, s.next_due_on,
               r.available_from, r.available_until,
               (SELECT max((v.visited_at AT TIME ZONE 'Asia/Seoul')::date) FROM visits v
                WHERE v.resident_id = r.id AND v.outcome IN ({_MET_SQL})
                  AND (v.visited_at AT TIME ZONE 'Asia/Seoul')::date < :day) AS last_met_on
        FROM resident_scores s
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id
        JOIN areas a ON a.id = h.area_id
        JOIN team_areas ta ON ta.area_id = a.id AND ta.team_id = :team
        WHERE s.run_id = :run AND s.next_due_on <= :day AND r.status = 'active'{scope_sql}
        ORDER BY s.tier DESC, days_overdue DESC, r.external_id"""),
        {"team": team_pk, "run": run_id, "day": day} | scope_params,
    ).all()
    columns = [*CANDIDATE_COLUMNS[:-2], "last_met_on"]
    table = pd.DataFrame.from_records(rows, columns=columns)
    # the one state rule (candidates are due by the day: overdue, first visit or due)
    states = visit_states(
        table["next_due_on"].to_numpy(), today=day, last_met_on=table["last_met_on"].to_numpy()
    )
    table["never_met"] = states["never_met"].to_numpy(dtype=bool)
    table["state"] = states["state"].to_numpy()
    table = table.drop(columns="last_met_on")
    if table.empty:
        return table
    keys = [_urgency(row) for row in table.itertuples(index=False)]
    order = sorted(range(len(table)), key=lambda i: keys[i], reverse=True)  # stable
    return table.iloc[order].reset_index(drop=True)


def store_plan(
    session: Session,
    *,
    team_pk: int,
    plan_date: dt.date,
    created_by: str,
    run_id: int | None,
    method: str,
    settings: dict,
    base_facility_pk: int | None,
    base_lonlat: tuple[float, float],
    candidates: int,
    planning_seconds: float,
    routes: list[dict],
    drops: list[dict],
) -> tuple[int, int]:
    """Store a plan as the next version for the team and day; returns ``(plan id, version)``.

    ``routes``: one dict per visitor (``member_pk``, ``leave_base``, ``back_at_base``,
    ``travel_metres``, ``travel_minutes``, ``service_minutes``, ``wait_minutes`` and
    ``stops``, each a dict with ``resident_pk``, ``tier``, ``days_overdue``, ``arrival``,
    ``start``, ``departure``, ``travel_metres``, ``wait_minutes``, in visiting order).
    ``drops``: dicts with ``resident_pk``, ``tier``, ``days_overdue``, ``reason``.
    """
    # one planner at a time per team, so that versions are numbered without gaps or clashes
    session.execute(text("SELECT 1 FROM visit_teams WHERE id = :t FOR UPDATE"), {"t": team_pk})
    version = session.execute(
        text("""SELECT coalesce(max(version), 0) + 1 FROM route_plans
                WHERE team_id = :t AND plan_date = :d"""),
        {"t": team_pk, "d": plan_date},
    ).scalar_one()
    plan_id = session.execute(
        text("""INSERT INTO route_plans (team_id, plan_date, version, created_by, run_id, method,
                    settings, base_facility_id, base_geom, candidates, planning_seconds)
                VALUES (:t, :d, :v, :by, :run, :method, CAST(:settings AS jsonb), :base,
                    ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :n, :secs)
                RETURNING id"""),
        {
            "t": team_pk,
            "d": plan_date,
            "v": version,
            "by": created_by,
            "run": run_id,
            "method": method,
            "settings": json.dumps(settings, default=str),
            "base": base_facility_pk,
            "lon": base_lonlat[0],
            "lat": base_lonlat[1],
            "n": candidates,
            "secs": planning_seconds,
        },
    ).scalar_one()
    route_rows, stop_rows = [], []
    for visitor_order, route in enumerate(routes, start=1):
        route_rows.append(
            {k: v for k, v in route.items() if k != "stops"}
            | {"plan_id": plan_id, "visitor_order": visitor_order}
        )
        for order, stop in enumerate(route["stops"], start=1):
            stop_rows.append(
                stop | {"plan_id": plan_id, "member_pk": route["member_pk"], "stop_order": order}
            )
    if route_rows:
        session.execute(
            text("""INSERT INTO route_plan_routes (plan_id, member_id, visitor_order, leave_base,
                    back_at_base, travel_metres, travel_minutes, service_minutes, wait_minutes)
                VALUES (:plan_id, :member_pk, :visitor_order, :leave_base, :back_at_base,
                    :travel_metres, :travel_minutes, :service_minutes, :wait_minutes)"""),
            route_rows,
        )
    if stop_rows:
        session.execute(
            text("""INSERT INTO route_plan_stops (plan_id, resident_id, member_id, stop_order,
                    tier, days_overdue, arrival, start, departure, travel_metres, wait_minutes)
                VALUES (:plan_id, :resident_pk, :member_pk, :stop_order, :tier, :days_overdue,
                    :arrival, :start, :departure, :travel_metres, :wait_minutes)"""),
            stop_rows,
        )
    if drops:
        session.execute(
            text("""INSERT INTO route_plan_drops (plan_id, resident_id, tier, days_overdue,
                    reason) VALUES (:plan_id, :resident_pk, :tier, :days_overdue, :reason)"""),
            [drop | {"plan_id": plan_id} for drop in drops],
        )
    return plan_id, version


def latest_plan_id(session: Session, team_id: str, day: dt.date) -> int | None:
    """Return the id of the newest version of the team's plan for ``day``, or None.

    The team is given by its external id.
    """
    return session.execute(
        text("""SELECT p.id FROM route_plans p JOIN visit_teams t ON t.id = p.team_id
                WHERE t.external_id = :t AND p.plan_date = :d
                ORDER BY p.version DESC LIMIT 1"""),
        {"t": team_id, "d": day},
    ).scalar()


def load_plan(
    session: Session, scope: Scope, plan_id: int, *, with_reasons: bool = False
) -> dict | None:
    """Return a stored plan as plain data; None if there is no such plan.

    Only residents in ``scope`` are returned: stops and dropped visits of residents outside
    it are left out and counted in ``hidden_stops`` / ``hidden_drops``. Stops carry the
    resident's name and address (free text: escape when rendering) and, with
    ``with_reasons``, the top reasons of the plan's score run in Korean and English.

    Each stop also carries its state on the plan's day (:func:`stop_words`: ``state``,
    ``state_ko``, ``state_en``, ``outcome``) and the day's latest visit (``visit_id``,
    ``visit_outcome``, ``visited_at``, or None); each route its ``done`` count; the plan its
    ``progress``: stops ``planned`` (shown), ``done`` (visited on the day) and ``dropped``.
    """
    plan = (
        session.execute(
            text("""
        SELECT p.id AS plan_id, p.version, p.plan_date, p.created_at, p.created_by, p.run_id,
               p.method, p.settings, p.candidates, p.planning_seconds,
               t.external_id AS team_id, t.name AS team_name,
               f.external_id AS base_facility_id, f.name AS base_name,
               ST_X(p.base_geom) AS base_lon, ST_Y(p.base_geom) AS base_lat,
               (SELECT max(version) FROM route_plans q
                WHERE q.team_id = p.team_id AND q.plan_date = p.plan_date) AS latest_version
        FROM route_plans p JOIN visit_teams t ON t.id = p.team_id
        LEFT JOIN facilities f ON f.id = p.base_facility_id
        WHERE p.id = :id"""),
            {"id": plan_id},
        )
        .mappings()
        .one_or_none()
    )
    if plan is None:
        return None
    scope_sql, scope_params = scope.sql("a.code")
    routes = {
        row["member_pk"]: dict(row) | {"stops": []}
        for row in session.execute(
            text("""
            SELECT pr.member_id AS member_pk, m.external_id AS member_id, m.name AS visitor,
                   m.role, pr.leave_base, pr.back_at_base, pr.travel_metres, pr.travel_minutes,
                   pr.service_minutes, pr.wait_minutes
            FROM route_plan_routes pr JOIN visit_team_members m ON m.id = pr.member_id
            WHERE pr.plan_id = :id ORDER BY pr.visitor_order"""),
            {"id": plan_id},
        ).mappings()
    }
    stops = session.execute(
        text(f"""
        SELECT ps.member_id AS member_pk, ps.stop_order AS "order",
               r.external_id AS resident_id, r.name, h.address, a.code AS area_code,
               a.name AS area_name, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat, ps.tier,
               ps.days_overdue, ps.arrival, ps.start, ps.departure, ps.travel_metres,
               ps.wait_minutes,
               today.external_id AS visit_id, today.outcome AS visit_outcome,
               today.visited_at AS visited_at
        FROM route_plan_stops ps JOIN residents r ON r.id = ps.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        LEFT JOIN LATERAL (
            SELECT v.external_id, v.outcome, v.visited_at FROM visits v
            WHERE v.resident_id = r.id
              AND (v.visited_at AT TIME ZONE 'Asia/Seoul')::date = :day
            ORDER BY v.visited_at DESC LIMIT 1) today ON true
        WHERE ps.plan_id = :id{scope_sql}
        ORDER BY ps.member_id, ps.stop_order"""),
        {"id": plan_id, "day": plan["plan_date"]} | scope_params,
    ).mappings()
    stops = [dict(stop) for stop in stops]
    # each stop's state on the plan's day by the one state rule (geo.visit_states)
    states = visit_states_of(
        session, plan["run_id"], [stop["resident_id"] for stop in stops], plan["plan_date"]
    )
    shown_stops = 0
    for stop in stops:
        entry = states[stop["resident_id"]]
        stop["never_met"] = entry["never_met"]
        stop |= stop_words(entry)
        routes[stop.pop("member_pk")]["stops"].append(stop)
        shown_stops += 1
    drops = [
        dict(row)
        for row in session.execute(
            text(f"""
            SELECT r.external_id AS resident_id, r.name, a.code AS area_code, d.tier,
                   d.days_overdue, d.reason
            FROM route_plan_drops d JOIN residents r ON r.id = d.resident_id
            JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
            WHERE d.plan_id = :id{scope_sql}
            ORDER BY d.tier DESC, d.days_overdue DESC, r.external_id"""),
            {"id": plan_id} | scope_params,
        ).mappings()
    ]
    totals = session.execute(
        text("""SELECT (SELECT count(*) FROM route_plan_stops WHERE plan_id = :id),
                       (SELECT count(*) FROM route_plan_drops WHERE plan_id = :id)"""),
        {"id": plan_id},
    ).one()
    if with_reasons:
        _add_reasons(session, scope, plan["run_id"], routes.values())
    for route in routes.values():
        route.pop("member_pk")
        route["done"] = sum(stop["state"] == "visited" for stop in route["stops"])
    shown_routes = list(routes.values())
    return dict(plan) | {
        "routes": shown_routes,
        "dropped": drops,
        "hidden_stops": totals[0] - shown_stops,
        "hidden_drops": totals[1] - len(drops),
        "progress": {
            "planned": shown_stops,
            "done": sum(route["done"] for route in shown_routes),
            "dropped": len(drops),
        },
    }


def _add_reasons(session: Session, scope: Scope, run_id: int | None, routes) -> None:
    for route in routes:
        for stop in route["stops"]:
            explained = (
                resident_explanation(session, scope, stop["resident_id"], run_id=run_id)
                if run_id is not None
                else None
            )
            stop["reasons_ko"] = explained["reasons_ko"] if explained else []
            stop["reasons_en"] = explained["reasons_en"] if explained else []
