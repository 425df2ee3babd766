"""The caller's scope: which areas' residents a caller may see.

Every function that returns residents (or anything derived from individual residents) takes
a :class:`Scope`. Accounts and roles come later; the demo uses :meth:`Scope.everything`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, literal, true


@dataclass(frozen=True)
class Scope:
    """Areas (10-digit 행정동 codes) a caller may see; ``area_codes=None`` means all areas."""

    area_codes: frozenset[str] | None

    @classmethod
    def everything(cls) -> Scope:
        return cls(None)

    @classmethod
    def of_areas(cls, codes) -> Scope:
        return cls(frozenset(codes))

    @property
    def is_everything(self) -> bool:
        return self.area_codes is None

    def allows(self, area_code: str) -> bool:
        return self.area_codes is None or area_code in self.area_codes

    def filter(self, area_code_column) -> ColumnElement[bool]:
        """SQL condition that keeps rows whose area code is in scope."""
        if self.area_codes is None:
            return true()
        if not self.area_codes:
            return literal(False)
        return area_code_column.in_(sorted(self.area_codes))

    def sql(self, column: str = "a.code") -> tuple[str, dict]:
        """The same condition for hand-written SQL: `` AND column = ANY(:scope_codes)`` and
        its parameter; nothing for all areas (an empty scope matches no row)."""
        if self.area_codes is None:
            return "", {}
        return f" AND {column} = ANY(:scope_codes)", {"scope_codes": sorted(self.area_codes)}
