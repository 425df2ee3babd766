"""Read queries used by the CLI, the web map and notebooks.

All take a session; those that touch residents also take the caller's
:class:`~geo.scope.Scope`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from geo.models import Area, Base, Facility, Household, Resident
from geo.scope import Scope


def table_counts(session: Session) -> dict[str, int | None]:
    """Count the rows of every table of the schema (None for a table that does not exist yet)."""
    existing = set(inspect(session.connection()).get_table_names())
    counts: dict[str, int | None] = {}
    for name in sorted(Base.metadata.tables):
        counts[name] = (
            session.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            if name in existing
            else None
        )
    return counts


@dataclass(frozen=True)
class AreaCounts:
    """Per-area counts for the overview page."""

    code: str
    name: str
    district_name: str
    households: int
    residents: int
    residents_65plus: int
    living_alone_65plus: int
    facilities: int


def area_counts(session: Session, scope: Scope, *, as_of_year: int) -> list[AreaCounts]:
    """Count active residents, their households and facilities per area in ``scope``.

    Parameters
    ----------
    session : Session
        The database session.
    scope : Scope
        The caller's scope; its areas are listed (a per-resident scope lists none).
    as_of_year : int
        The calendar year used for ages (age = as_of_year - birth_year).

    Returns
    -------
    list of AreaCounts
        One per area, ordered by area code; households are those with an active resident.
    """
    age = as_of_year - Resident.birth_year
    residents = (
        select(
            Household.area_id.label("area_id"),
            func.count(func.distinct(Household.id)).label("households"),
            func.count(Resident.id).label("residents"),
            func.count(Resident.id).filter(age >= 65).label("r65"),
            func.count(Resident.id).filter(age >= 65, Resident.lives_alone).label("alone65"),
        )
        .join(Resident, Resident.household_id == Household.id)
        .where(Resident.status == "active")
        .group_by(Household.area_id)
        .subquery()
    )
    facilities = (
        select(Facility.area_id, func.count().label("facilities"))
        .group_by(Facility.area_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Area.code,
            Area.name,
            Area.district_name,
            func.coalesce(residents.c.households, 0),
            func.coalesce(residents.c.residents, 0),
            func.coalesce(residents.c.r65, 0),
            func.coalesce(residents.c.alone65, 0),
            func.coalesce(facilities.c.facilities, 0),
        )
        .outerjoin(residents, residents.c.area_id == Area.id)
        .outerjoin(facilities, facilities.c.area_id == Area.id)
        .where(scope.filter(Area.code))
        .order_by(Area.code)
    ).all()
    return [AreaCounts(*row) for row in rows]
