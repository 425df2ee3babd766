"""Writing the access audit (geo.audit) for every response that shows residents' personal data.

The endpoints in :data:`AUDITED` are logged on every request, whatever the answer: a 404 for
a resident outside the caller's scope leaves a row too (with no resident shown), so attempts
are visible. Views name the residents they showed with :func:`shown`; tiles that carry
resident ids name how many with ``count``. The row is written after the response is made, in
its own transaction (a view's session may have been rolled back); if it cannot be written the
response is replaced by a 500, so that no personal data leaves unlogged.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from geo.audit import record_access, resident_db_ids
from webmap.auth import client_address, current_account
from webmap.db import get_session

#: endpoints that show residents' personal data (name, address, position, visits, needs, ...)
AUDITED = frozenset(
    {
        "api.residents",
        "api.resident",
        "teams_api.routes_latest",
        "teams_api.routes_one",
        "teams_api.routes_plan",
        "routes.route_page",
        "routes.route_csv",
        "routes.route_gpx",
        "visits.new_visit",
        "visits.submit_visit",
        "visits.visit_done",
        "visits.api_record_visit",
        "visits.unreachable_page",
        "visits.unreachable_api",
        # issue 14: benefit pre-screening
        "eligibility.people_api",
        "eligibility.resident_api",
        "eligibility.eligibility_page",
        "blind_spots.people_api",
        "blind_spots.blind_spots_page",
    }
)


def shown(
    external_ids: Iterable[str] = (), *, count: int | None = None, detail: dict | None = None
) -> None:
    """Note the residents this response shows, for its audit row.

    A view may call it more than once: the ids, counts and details add up.

    Parameters
    ----------
    external_ids : iterable of str
        The residents' public ids; anything that is not a string is skipped.
    count : int, optional
        How many residents were shown without naming them (a vector tile's count).
    detail : dict, optional
        Keys to add to the row's ``detail`` (a tile: ``{"tile": [z, x, y]}``).
    """
    noted = g.setdefault("audit", {"ids": set(), "count": 0, "detail": {}})
    noted["ids"].update(i for i in external_ids if isinstance(i, str))
    noted["count"] += count or 0
    noted["detail"].update(detail or {})


def plan_residents(plan: dict | None) -> list[str]:
    """Return the public ids of the residents a loaded plan shows: stops, then dropped visits.

    An empty list when there is no plan.
    """
    if not plan:
        return []
    ids = [stop["resident_id"] for route in plan["routes"] for stop in route["stops"]]
    return ids + [drop["resident_id"] for drop in plan.get("dropped", [])]


def _write(response):
    noted = g.pop("audit", None)
    if request.endpoint not in AUDITED and noted is None:
        return response
    account = current_account()
    if account is None:  # refused before anything was shown (sign-ins are in login_events)
        return response
    user = getattr(g, "_login_user", None)
    via = getattr(user, "via", "session")
    noted = noted or {"ids": set(), "count": 0, "detail": {}}
    try:
        with Session(get_session().get_bind()) as session:
            ids = resident_db_ids(session, noted["ids"]) if noted["ids"] else []
            detail = dict(noted["detail"])
            if via != "session":
                detail["via"] = via
            record_access(
                session,
                user_id=account.id,
                username=account.username,
                role=",".join(account.roles),
                address=client_address(),
                method=request.method,
                endpoint=request.endpoint or "-",
                path=request.full_path.rstrip("?"),
                status=response.status_code,
                resident_ids=ids,
                resident_count=max(len(ids), noted["count"]),
                detail=detail or None,
            )
            session.commit()
    except Exception:
        current_app.logger.exception("access audit not written: response withheld")
        from flask import Response

        return Response("access audit unavailable", status=500, mimetype="text/plain")
    return response


def init_app(app: Flask) -> None:
    """Register the audit writer: after each request, the row of a response that shows residents."""
    app.after_request(_write)
