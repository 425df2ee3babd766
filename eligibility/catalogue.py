"""The programme catalogue: a versioned TOML read into frozen objects.

The default is ``eligibility/catalogues/programmes_2026.toml``; its comments and
``docs/eligibility.md`` say what each figure is and where it comes from. Every problem raises
:class:`CatalogueError`, naming the file and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from visitmap.errors import FieldError

#: The catalogue shipped with the package.
DEFAULT_CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogues" / "programmes_2026.toml"

#: Conditions a programme may require of a household -> (한국어, English) as shown in reasons.
REQUIREMENTS = MappingProxyType(
    {
        "school_age": ("6~18세 가구원", "a member aged 6 to 18"),
        "disabled_adult": ("18세 이상 장애인 가구원", "a member aged 18+ with a disability"),
        "crisis_signal": ("최근 6개월 위기 신호", "a crisis signal in the last 6 months"),
        "aged_65": ("65세 이상 가구원", "a member aged 65 or over"),
    }
)


class CatalogueError(FieldError):
    """An invalid catalogue; the message names the file and the key."""

    def __init__(self, reason: str, *, source: str, key: str):
        super().__init__(f"{source}: {key}: {reason}", field=key)


@dataclass(frozen=True)
class Programme:
    """One programme's rule.

    Attributes
    ----------
    code : str
        The programme's code (``livelihood``, ``basic_pension``, ...).
    name_ko, name_en, scheme_ko, scheme_en, source : str
        Labels, the scheme it belongs to and the source of its figures.
    median_share : float or None
        The income line as a share of the standard median income of the household's size
        (None for the basic pension, which has fixed lines).
    asset_limit_krw : int or None
        Assets above this exclude the household.
    requires : str or None
        One of :data:`REQUIREMENTS`.
    excluded_by : tuple of str
        Programmes whose eligibility excludes this one (차상위 sits above the benefit lines).
    single_line_krw, couple_line_krw : int or None
        The basic pension's lines.
    income_basis : {"recognised", "income"}
        What is held against the line: 소득인정액 (income + converted assets; the default) or
        the monthly income alone (긴급복지지원 judges income and assets apart).
    """

    code: str
    name_ko: str
    name_en: str
    scheme_ko: str
    scheme_en: str
    source: str
    median_share: float | None = None
    asset_limit_krw: int | None = None
    requires: str | None = None
    excluded_by: tuple[str, ...] = ()
    single_line_krw: int | None = None
    couple_line_krw: int | None = None
    income_basis: str = "recognised"


@dataclass(frozen=True)
class Catalogue:
    """A versioned catalogue of programmes and the recognised-income parameters."""

    version: str
    year: int
    basic_deduction_krw: int
    monthly_rate: float
    pension_deduction_krw: int
    pension_financial_deduction_krw: int
    pension_yearly_rate: float
    programmes: Mapping[str, Programme]
    source: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        """The programme codes, in catalogue order."""
        return tuple(self.programmes)


def _number(table: dict, key: str, *, source: str, where: str, kind=float, minimum=0.0):
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CatalogueError("a number is required", source=source, key=f"{where}.{key}")
    if value < minimum:
        raise CatalogueError(f"must be >= {minimum}", source=source, key=f"{where}.{key}")
    return kind(value)


def _programme(code: str, table: dict, *, source: str) -> Programme:
    where = f"programmes.{code}"
    for key in ("name_ko", "name_en", "scheme_ko", "scheme_en", "source"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise CatalogueError(
                "a non-empty text is required", source=source, key=f"{where}.{key}"
            )
    requires = table.get("requires")
    if requires is not None and requires not in REQUIREMENTS:
        raise CatalogueError(
            f"unknown requirement {requires!r} (known: {', '.join(REQUIREMENTS)})",
            source=source,
            key=f"{where}.requires",
        )
    share = table.get("median_share")
    single = table.get("single_line_krw")
    if share is None and single is None:
        raise CatalogueError(
            "a median_share or single_line_krw/couple_line_krw is required",
            source=source,
            key=where,
        )
    if share is not None:
        share = _number(table, "median_share", source=source, where=where)
        if not 0 < share <= 2:
            raise CatalogueError("must be in (0, 2]", source=source, key=f"{where}.median_share")
    lines = {}
    if single is not None:
        for key in ("single_line_krw", "couple_line_krw"):
            lines[key] = _number(table, key, source=source, where=where, kind=int)
    limit = table.get("asset_limit_krw")
    if limit is not None:
        limit = _number(table, "asset_limit_krw", source=source, where=where, kind=int)
    basis = table.get("income_basis", "recognised")
    if basis not in ("recognised", "income"):
        raise CatalogueError(
            "must be 'recognised' or 'income'", source=source, key=f"{where}.income_basis"
        )
    excluded = table.get("excluded_by", [])
    if not isinstance(excluded, list) or not all(isinstance(x, str) for x in excluded):
        raise CatalogueError(
            "a list of codes is required", source=source, key=f"{where}.excluded_by"
        )
    return Programme(
        code=code,
        name_ko=table["name_ko"],
        name_en=table["name_en"],
        scheme_ko=table["scheme_ko"],
        scheme_en=table["scheme_en"],
        source=table["source"],
        median_share=share,
        asset_limit_krw=limit,
        requires=requires,
        excluded_by=tuple(excluded),
        income_basis=basis,
        **lines,
    )


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and check a catalogue (default: :data:`DEFAULT_CATALOGUE_PATH`).

    Raises
    ------
    CatalogueError
        Naming the file and the key at fault.
    """
    path = Path(path) if path is not None else DEFAULT_CATALOGUE_PATH
    source = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(str(exc), source=source, key="(file)") from exc
    if not isinstance(raw.get("version"), str) or not raw["version"].strip():
        raise CatalogueError("a non-empty text is required", source=source, key="version")
    year = raw.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise CatalogueError("a year from 2000 to 2100 is required", source=source, key="year")
    recognised = raw.get("recognised_income", {})
    pension = raw.get("pension_income", {})
    programmes = raw.get("programmes")
    if not isinstance(programmes, dict) or not programmes:
        raise CatalogueError("at least one programme is required", source=source, key="programmes")
    parsed = {code: _programme(code, table, source=source) for code, table in programmes.items()}
    for programme in parsed.values():
        for other in programme.excluded_by:
            if other not in parsed:
                raise CatalogueError(
                    f"unknown programme {other!r}",
                    source=source,
                    key=f"programmes.{programme.code}.excluded_by",
                )
    return Catalogue(
        version=raw["version"],
        year=year,
        basic_deduction_krw=_number(
            recognised, "basic_deduction_krw", source=source, where="recognised_income", kind=int
        ),
        monthly_rate=_number(recognised, "monthly_rate", source=source, where="recognised_income"),
        pension_deduction_krw=_number(
            pension, "basic_deduction_krw", source=source, where="pension_income", kind=int
        ),
        pension_financial_deduction_krw=_number(
            pension, "financial_deduction_krw", source=source, where="pension_income", kind=int
        ),
        pension_yearly_rate=_number(pension, "yearly_rate", source=source, where="pension_income"),
        programmes=MappingProxyType(parsed),
        source=str(path),
    )
