"""The caller's scope: which residents a caller may see.

Every function that returns residents (or anything derived from individual residents) takes
a :class:`Scope`. The web service builds it from the signed-in user (:mod:`geo.accounts`,
``scope_for``); the command line, run by the operator, uses :meth:`Scope.everything`.

A scope has two parts: the areas (dongs) whose residents may be seen, and optionally a set of
residents (database ids) within them, for roles that see only some residents of their dongs
(a visitor: those due or planned for their team; agency staff: those their organisation
supports). A query over individual residents applies both; an aggregate that cannot tell
residents apart (per-dong counts from a cache, heat cells) shows nothing to a scope limited to
some residents, rather than counts of residents outside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, literal, true


@dataclass(frozen=True)
class Scope:
    """Areas (10-digit 행정동 codes) a caller may see; ``area_codes=None`` means all areas.
    ``resident_ids`` (database ids), when not None, narrows it to those residents."""

    area_codes: frozenset[str] | None
    resident_ids: frozenset[int] | None = None

    @classmethod
    def everything(cls) -> Scope:
        return cls(None)

    @classmethod
    def nothing(cls) -> Scope:
        return cls(frozenset())

    @classmethod
    def of_areas(cls, codes) -> Scope:
        return cls(frozenset(codes))

    def only_residents(self, ids) -> Scope:
        """This scope narrowed to the residents with database ids ``ids``."""
        ids = frozenset(int(i) for i in ids)
        if self.resident_ids is not None:
            ids &= self.resident_ids
        return Scope(self.area_codes, ids)

    @property
    def is_everything(self) -> bool:
        return self.area_codes is None and self.resident_ids is None

    @property
    def is_empty(self) -> bool:
        return self.area_codes == frozenset() or self.resident_ids == frozenset()

    @property
    def per_resident(self) -> bool:
        """True when only some residents of the areas may be seen."""
        return self.resident_ids is not None

    def allows(self, area_code: str) -> bool:
        """Whether residents of ``area_code`` may be seen at all (some of them, for a
        per-resident scope)."""
        return not self.is_empty and (self.area_codes is None or area_code in self.area_codes)

    def filter(self, area_code_column, resident_id_column=None) -> ColumnElement[bool]:
        """SQL condition that keeps rows whose area code (and resident, for a per-resident
        scope) is in scope. Without ``resident_id_column`` a per-resident scope keeps no row."""
        conditions = []
        if self.area_codes is not None:
            if not self.area_codes:
                return literal(False)
            conditions.append(area_code_column.in_(sorted(self.area_codes)))
        if self.resident_ids is not None:
            if resident_id_column is None or not self.resident_ids:
                return literal(False)
            conditions.append(resident_id_column.in_(sorted(self.resident_ids)))
        return and_(*conditions) if conditions else true()

    def sql(self, column: str = "a.code", resident: str | None = "r.id") -> tuple[str, dict]:
        """The same condition for hand-written SQL: `` AND column = ANY(:scope_codes)`` (and
        `` AND resident = ANY(:scope_residents)`` for a per-resident scope) and its parameters;
        nothing for all areas (an empty scope matches no row).

        ``resident`` names the residents' id column; an aggregate that has none passes
        ``resident=None`` and then matches no row under a per-resident scope."""
        parts, params = [], {}
        if self.area_codes is not None:
            parts.append(f" AND {column} = ANY(:scope_codes)")
            params["scope_codes"] = sorted(self.area_codes)
        if self.resident_ids is not None:
            if resident is None:
                return " AND false", {}
            parts.append(f" AND {resident} = ANY(:scope_residents)")
            params["scope_residents"] = sorted(self.resident_ids)
        return "".join(parts), params
