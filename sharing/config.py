"""The shared support warnings' configuration: a versioned TOML read into a frozen object.

The default is ``sharing/configs/warnings_v1.toml``; its comments say what each key means.
Every problem raises :class:`WarningConfigError`, naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from visitmap.errors import FieldError
from visitmap.vocab import SUPPORT_MINOR

#: The configuration shipped with the package.
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "configs" / "warnings_v1.toml"
#: The window value meaning "once per holiday season".
SEASON = "season"
_OMISSION_KEYS = (
    "open_need_days",
    "warn_before",
    "crisis_months",
    "sponsorship_ending_days",
    "stock_expiring_days",
)


class WarningConfigError(FieldError):
    """An invalid warnings configuration; the message names the file and the key."""

    def __init__(self, reason: str, *, source: str, key: str):
        super().__init__(f"{source}: {key}: {reason}", field=key)


@dataclass(frozen=True)
class WarningConfig:
    """The windows and limits of the shared support warnings.

    Attributes
    ----------
    version : str
        The configuration's version, stored with nothing yet but shown by the CLI.
    windows : Mapping[str, int | str]
        Per minor category (all 30): days, or ``"season"`` (once per holiday season).
    near_factor : float
        A second provider's record within ``near_factor`` times the window is a
        near-duplicate.
    season_before, season_after : int
        Days before and after a holiday that belong to its season.
    holidays : tuple of datetime.date
        The holidays (설날, 추석) whose seasons count once each, in date order.
    omissions : Mapping[str, int]
        ``open_need_days``, ``warn_before``, ``crisis_months``, ``sponsorship_ending_days``,
        ``stock_expiring_days``.
    """

    version: str
    windows: Mapping[str, int | str]
    near_factor: float
    season_before: int
    season_after: int
    omissions: Mapping[str, int]
    holidays: tuple[dt.date, ...] = ()

    def window_days(self, minor_category: str) -> int:
        """Return the window of ``minor_category`` in days (a season counts as its length)."""
        window = self.windows[minor_category]
        return self.season_before + self.season_after + 1 if window == SEASON else int(window)


def _positive_int(value, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise WarningConfigError(
            f"must be a positive whole number, not {value!r}", source=source, key=key
        )
    return value


def load_warning_config(path: str | Path | None = None) -> WarningConfig:
    """Read and check a warnings configuration (the shipped one by default).

    Raises
    ------
    WarningConfigError
        A key is missing, unknown or out of range; the message names the file and the key.
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    source = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise WarningConfigError(str(error), source=source, key="(file)") from error
    for key in ("version", "duplicate_windows", "near_duplicate", "holiday_seasons", "omissions"):
        if key not in raw:
            raise WarningConfigError("is missing", source=source, key=key)
    given = dict(raw["duplicate_windows"])
    if "default" not in given:
        raise WarningConfigError("is missing", source=source, key="duplicate_windows.default")
    default = _positive_int(given.pop("default"), source, "duplicate_windows.default")
    windows: dict[str, int | str] = {}
    for minor, window in given.items():
        key = f"duplicate_windows.{minor}"
        if minor not in SUPPORT_MINOR:
            raise WarningConfigError(
                "unknown minor category (visitmap.vocab.SUPPORT_MINOR)", source=source, key=key
            )
        windows[minor] = window if window == SEASON else _positive_int(window, source, key)
    windows = {minor: windows.get(minor, default) for minor in SUPPORT_MINOR}
    factor = raw["near_duplicate"].get("factor")
    if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 1:
        raise WarningConfigError(
            f"must be a number of at least 1, not {factor!r}",
            source=source,
            key="near_duplicate.factor",
        )
    seasons = raw["holiday_seasons"]
    before = _positive_int(seasons.get("before"), source, "holiday_seasons.before")
    after = _positive_int(seasons.get("after"), source, "holiday_seasons.after")
    dates = seasons.get("dates", [])
    if not isinstance(dates, list) or not all(
        isinstance(d, dt.date) and not isinstance(d, dt.datetime) for d in dates
    ):
        raise WarningConfigError(
            f"must be a list of dates (YYYY-MM-DD), not {dates!r}",
            source=source,
            key="holiday_seasons.dates",
        )
    omissions = {}
    for key in _OMISSION_KEYS:
        omissions[key] = _positive_int(raw["omissions"].get(key), source, f"omissions.{key}")
    unknown = set(raw["omissions"]) - set(_OMISSION_KEYS)
    if unknown:
        raise WarningConfigError("unknown key", source=source, key=f"omissions.{min(unknown)}")
    return WarningConfig(
        version=str(raw["version"]),
        windows=MappingProxyType(windows),
        near_factor=float(factor),
        season_before=before,
        season_after=after,
        omissions=MappingProxyType(omissions),
        holidays=tuple(sorted(dates)),
    )
