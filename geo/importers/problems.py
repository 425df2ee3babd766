"""Import problems: every bad row is reported as ``FILE:ROW:COLUMN: reason``."""

from __future__ import annotations

from dataclasses import dataclass

from visitmap.errors import FieldError


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in an input file.

    ``row`` is the spreadsheet/editor row of a CSV (header = 1, first record = 2) or the 1-based
    feature number of a GeoJSON/GeoPackage; 0 means the file as a whole.
    """

    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        """Format the problem as ``FILE:ROW:COLUMN: reason``."""
        return f"{self.file}:{self.row}:{self.column}: {self.reason}"


class ImportValidationError(FieldError):
    """The file has bad rows; nothing was written. ``problems`` lists every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        shown = "\n".join(str(p) for p in self.problems[:20])
        more = len(self.problems) - 20
        suffix = f"\n... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.problems)} problem(s), nothing imported:\n{shown}{suffix}")
