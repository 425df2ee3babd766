"""Eligibility pre-screening jobs (issue 14): refresh the stored screening, read it, screen one.

The rules are :mod:`eligibility` (pure); the SQL is :mod:`geo.eligibility`. A likely-eligible
flag is a reason to look, not a decision (docs/eligibility.md).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.orm import Session

from eligibility.catalogue import Catalogue, load_catalogue
from geo.eligibility import (
    Refreshed,
    area_summary,
    refresh_eligibility,
    resident_household,
    screen_households,
    unreached_people,
)
from geo.scope import Scope
from visitmap.errors import FieldError


class EligibilityQueryError(FieldError):
    """A bad area or programme in an eligibility query."""


def programme_labels(catalogue: Catalogue | None = None) -> dict[str, tuple[str, str]]:
    """Return programme code -> (한국어, English), in catalogue order."""
    catalogue = catalogue or load_catalogue()
    return {code: (p.name_ko, p.name_en) for code, p in catalogue.programmes.items()}


def refresh(session: Session, *, as_of: dt.date) -> Refreshed:
    """Screen every household and store the results (full replace)."""
    return refresh_eligibility(session, as_of=as_of)


def check_programme(programme: str | None) -> None:
    """Raise :class:`EligibilityQueryError` for a code not in the catalogue."""
    known = load_catalogue().codes
    if programme is not None and programme not in known:
        raise EligibilityQueryError(
            f"unknown programme {programme!r} (known: {', '.join(known)})", field="programme"
        )


def summary(session: Session, scope: Scope) -> pd.DataFrame:
    """Per dong and programme: likely eligible, receiving, likely eligible not receiving."""
    return area_summary(session, scope)


def unreached(
    session: Session,
    scope: Scope,
    *,
    area_code: str | None = None,
    programme: str | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """People whose household is likely eligible and not receiving, with the deciding rule."""
    check_programme(programme)
    if area_code is not None and not scope.allows(area_code):
        return unreached_people(session, Scope.nothing(), limit=0)
    return unreached_people(session, scope, area_code=area_code, programme=programme, limit=limit)


def resident_screening(
    session: Session, scope: Scope, resident_id: str, *, as_of: dt.date
) -> tuple[int, pd.DataFrame]:
    """Screen one resident's household now against every programme (eligible or not).

    Returns the resident's database id (for the access audit) and one row per programme.
    Raises :class:`visitmap.errors.NotFound` for a resident out of scope or unknown.
    """
    resident_db_id, household_id = resident_household(session, scope, resident_id)
    results = screen_households(session, as_of=as_of, household_id=household_id)
    return resident_db_id, results
