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
    """The residents a caller may see.

    Attributes
    ----------
    area_codes : frozenset of str or None
        The areas (10-digit 행정동 codes) whose residents may be seen; None means all areas.
    resident_ids : frozenset of int or None
        When not None, narrows the scope to these residents (database ids).
    """

    area_codes: frozenset[str] | None
    resident_ids: frozenset[int] | None = None

    @classmethod
    def everything(cls) -> Scope:
        """Return the scope of every resident (the operator's, on the command line)."""
        return cls(None)

    @classmethod
    def nothing(cls) -> Scope:
        """Return the scope that sees no resident."""
        return cls(frozenset())

    @classmethod
    def of_areas(cls, codes) -> Scope:
        """Return the scope of every resident of the areas ``codes`` (행정동 codes)."""
        return cls(frozenset(codes))

    def only_residents(self, ids) -> Scope:
        """Return this scope narrowed to the residents with database ids ``ids``.

        Narrowing a scope that is already per-resident keeps only the residents in both.
        """
        ids = frozenset(int(i) for i in ids)
        if self.resident_ids is not None:
            ids &= self.resident_ids
        return Scope(self.area_codes, ids)

    @property
    def is_everything(self) -> bool:
        """True when every resident may be seen."""
        return self.area_codes is None and self.resident_ids is None

    @property
    def is_empty(self) -> bool:
        """True when no resident may be seen (no area, or no resident)."""
        return self.area_codes == frozenset() or self.resident_ids == frozenset()

    @property
    def per_resident(self) -> bool:
        """True when only some residents of the areas may be seen."""
        return self.resident_ids is not None

    def allows(self, area_code: str) -> bool:
        """Return whether residents of ``area_code`` may be seen at all.

        For a per-resident scope, True means some of them may be.
        """
        return not self.is_empty and (self.area_codes is None or area_code in self.area_codes)

    def filter(self, area_code_column, resident_id_column=None) -> ColumnElement[bool]:
        """Return the SQL condition that keeps the rows in scope.

        Parameters
        ----------
        area_code_column : ColumnElement
            The rows' area code (행정동 code).
        resident_id_column : ColumnElement, optional
            The rows' resident id; without it a per-resident scope keeps no row.

        Returns
        -------
        ColumnElement of bool
            True for a row whose area code (and resident, for a per-resident scope) is in
            scope.
        """
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
        """Return the same condition as :meth:`filter` for hand-written SQL.

        Parameters
        ----------
        column : str, optional
            The SQL expression of the rows' area code.
        resident : str or None, optional
            The residents' id column; an aggregate that has none passes ``resident=None``
            and then matches no row under a per-resident scope.

        Returns
        -------
        where : str
            `` AND column = ANY(:scope_codes)`` (and `` AND resident = ANY(:scope_residents)``
            for a per-resident scope), to append to a ``WHERE``; empty for all areas (an
            empty scope matches no row).
        params : dict
            The parameters it binds.
        """
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
