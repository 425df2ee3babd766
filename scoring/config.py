"""Scoring configuration: a versioned TOML file read into a frozen :class:`ScoringConfig`.

A configuration says which features the weighted index uses, with what weight, how each raw
feature is mapped to [0, 1] (its *transform*), where the tier cut-offs lie on the score, how
often each tier is visited (days) and how many visits a month the office can make (the k of
precision at k). The default is ``scoring/configs/weighted_v1.toml``; the format is
documented in ``docs/scoring.md``.

Every problem raises :class:`ScoringConfigError`, whose message names the file and the key,
e.g. ``weighted_v2.toml: features.age_yeras: unknown feature (not in
scoring.features.FEATURE_NAMES)``.

Length: the configuration's schema and its validation (every field's error names the file
and key), which must change together; the transforms are small classes beside it.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import tomli_w

from scoring.features import DEFAULT_CADENCE_DAYS, FEATURE_NAMES
from visitmap.errors import FieldError

#: Tier codes used everywhere inside scoring (labels and colours are chosen at the edge).
LOW, MEDIUM, HIGH = 0, 1, 2
TIER_NAMES: tuple[str, ...] = ("low", "medium", "high")
#: Transform kinds a configuration may name.
TRANSFORM_KINDS: tuple[str, ...] = ("linear", "step", "log")
#: The configuration shipped with the package.
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "configs" / "weighted_v1.toml"

_TOP_LEVEL_KEYS = (
    "version",
    "method",
    "description",
    "features",
    "tiers",
    "cadence_days",
    "first_visit_days",
    "capacity",
)
_METHODS = ("weighted",)


class ScoringConfigError(FieldError):
    """An invalid scoring configuration.

    ``source`` is the file, ``key`` the dotted key (also ``field``), ``reason`` what is wrong
    (also ``message``).
    """

    def __init__(self, reason: str, *, source: str | None = None, key: str | None = None):
        self.reason = reason
        self.source = source
        self.key = key
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {reason}" if where else reason)
        self.field, self.message = key, reason

    def __reduce__(self):
        """Pickle by reason, source and key (the default would pass only the message)."""
        return (_rebuild_error, (self.reason, self.source, self.key))


def _rebuild_error(reason, source, key):
    return ScoringConfigError(reason, source=source, key=key)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: Any, key: str) -> float:
    if not _is_number(value) or not math.isfinite(value):
        raise ScoringConfigError(f"must be a finite number, got {value!r}", key=key)
    return float(value)


# --------------------------------------------------------------------------- transforms


@dataclass(frozen=True)
class LinearTransform:
    """``(x - low) / (high - low)`` clipped to [0, 1]; ``invert`` gives ``1 -`` that.

    ``low`` and ``high`` are in the feature's own unit (years, days, ratio, metres...).
    """

    low: float
    high: float
    invert: bool = False
    kind: ClassVar[str] = "linear"

    def __post_init__(self):
        """Check that ``low`` < ``high`` are finite numbers and ``invert`` is a bool."""
        _finite(self.low, "low")
        _finite(self.high, "high")
        if self.low >= self.high:
            raise ScoringConfigError(
                f"low ({self.low!r}) must be below high ({self.high!r})", key="low"
            )
        _check_invert(self.invert)

    def apply(self, values) -> np.ndarray:
        """Map raw values to [0, 1] (a new float64 array)."""
        out = np.clip((np.asarray(values, dtype=float) - self.low) / (self.high - self.low), 0, 1)
        return 1.0 - out if self.invert else out

    def to_dict(self) -> dict[str, Any]:
        """Return the transform's TOML table: ``transform``, ``low``, ``high``, ``invert``."""
        return {
            "transform": self.kind,
            "low": float(self.low),
            "high": float(self.high),
            "invert": bool(self.invert),
        }


@dataclass(frozen=True)
class StepTransform:
    """1 where ``x >= threshold``, else 0; ``invert`` gives 1 where ``x < threshold``."""

    threshold: float
    invert: bool = False
    kind: ClassVar[str] = "step"

    def __post_init__(self):
        """Check that ``threshold`` is a finite number and ``invert`` is a bool."""
        _finite(self.threshold, "threshold")
        _check_invert(self.invert)

    def apply(self, values) -> np.ndarray:
        """Map raw values to 0 or 1 (a new float64 array)."""
        out = (np.asarray(values, dtype=float) >= self.threshold).astype(float)
        return 1.0 - out if self.invert else out

    def to_dict(self) -> dict[str, Any]:
        """Return the transform's TOML table: ``transform``, ``threshold``, ``invert``."""
        return {
            "transform": self.kind,
            "threshold": float(self.threshold),
            "invert": bool(self.invert),
        }


@dataclass(frozen=True)
class LogTransform:
    """``log(1 + min(max(x, 0), cap)) / log(1 + cap)``, for counts: 0 -> 0, ``cap`` or more -> 1.

    With ``cap = 3``: 1 -> 0.50, 2 -> 0.79, 3 or more -> 1. ``invert`` gives ``1 -`` that.
    """

    cap: float
    invert: bool = False
    kind: ClassVar[str] = "log"

    def __post_init__(self):
        """Check that ``cap`` is a finite positive number and ``invert`` is a bool."""
        _finite(self.cap, "cap")
        if self.cap <= 0:
            raise ScoringConfigError(f"must be positive, got {self.cap!r}", key="cap")
        _check_invert(self.invert)

    def apply(self, values) -> np.ndarray:
        """Map raw values to [0, 1] (a new float64 array); values below 0 count as 0."""
        clipped = np.clip(np.asarray(values, dtype=float), 0, self.cap)
        out = np.log1p(clipped) / math.log1p(self.cap)
        return 1.0 - out if self.invert else out

    def to_dict(self) -> dict[str, Any]:
        """Return the transform's TOML table: ``transform``, ``cap``, ``invert``."""
        return {"transform": self.kind, "cap": float(self.cap), "invert": bool(self.invert)}


Transform = LinearTransform | StepTransform | LogTransform
_TRANSFORM_CLASSES = {cls.kind: cls for cls in (LinearTransform, StepTransform, LogTransform)}
_TRANSFORM_PARAMS = {"linear": ("low", "high"), "step": ("threshold",), "log": ("cap",)}


def _check_invert(value: Any) -> None:
    if not isinstance(value, bool):
        raise ScoringConfigError(f"must be true or false, got {value!r}", key="invert")


# --------------------------------------------------------------------------- tiers, cadence


@dataclass(frozen=True)
class TierCutoffs:
    """Contiguous score ranges of the three tiers, covering [0, 1] without gaps or overlaps.

    Each range includes its lower bound and excludes its upper bound, except ``high``, which
    includes 1: with the defaults a score of exactly 0.35 is medium and 0.6 is high.
    """

    low: tuple[float, float] = (0.0, 0.35)
    medium: tuple[float, float] = (0.35, 0.6)
    high: tuple[float, float] = (0.6, 1.0)

    def __post_init__(self):
        """Check the ranges and store them as float pairs.

        Each is a pair ``0 <= start < end <= 1``; low starts at 0, high ends at 1, and each
        range starts where the one before ends (no gap, no overlap).
        """
        ranges = {}
        for name in TIER_NAMES:
            value = getattr(self, name)
            key = f"tiers.{name}"
            if isinstance(value, str | bytes) or not hasattr(value, "__len__") or len(value) != 2:
                raise ScoringConfigError(f"must be a pair [start, end], got {value!r}", key=key)
            start, end = (_finite(v, key) for v in value)
            if not 0.0 <= start < end <= 1.0:
                raise ScoringConfigError(
                    f"[{start}, {end}] must satisfy 0 <= start < end <= 1", key=key
                )
            ranges[name] = (start, end)
            object.__setattr__(self, name, (start, end))
        if ranges["low"][0] != 0.0:
            raise ScoringConfigError(
                f"must start at 0 so that the tiers cover [0, 1], starts at {ranges['low'][0]}",
                key="tiers.low",
            )
        if ranges["high"][1] != 1.0:
            raise ScoringConfigError(
                f"must end at 1 so that the tiers cover [0, 1], ends at {ranges['high'][1]}",
                key="tiers.high",
            )
        for before, after in zip(TIER_NAMES, TIER_NAMES[1:], strict=False):
            end, start = ranges[before][1], ranges[after][0]
            if start > end:
                raise ScoringConfigError(
                    f"starts at {start} but tiers.{before} ends at {end}: a gap",
                    key=f"tiers.{after}",
                )
            if start < end:
                raise ScoringConfigError(
                    f"starts at {start} but tiers.{before} ends at {end}: an overlap",
                    key=f"tiers.{after}",
                )

    @classmethod
    def from_edges(cls, medium_start: float, high_start: float) -> TierCutoffs:
        """Cut-offs from the two inner edges: low [0, m), medium [m, h), high [h, 1]."""
        return cls(
            low=(0.0, medium_start), medium=(medium_start, high_start), high=(high_start, 1.0)
        )

    @property
    def edges(self) -> tuple[float, float]:
        """The scores at which medium and high start."""
        return self.medium[0], self.high[0]

    def assign(self, scores) -> np.ndarray:
        """Tier codes (0 low, 1 medium, 2 high) for scores in [0, 1]."""
        scores = np.asarray(scores, dtype=float)
        medium_start, high_start = self.edges
        return (scores >= medium_start).astype(np.int64) + (scores >= high_start)

    def to_dict(self) -> dict[str, list[float]]:
        """Return the cut-offs' TOML table: ``[start, end]`` by tier name."""
        return {name: [float(v) for v in getattr(self, name)] for name in TIER_NAMES}


class _DaysPerTier:
    """Whole days per tier (low, medium, high), validated; the key names the TOML table."""

    _KEY: ClassVar[str] = ""

    def __post_init__(self):
        """Check that each tier's days are a positive whole number, and store them as int."""
        for name in TIER_NAMES:
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ScoringConfigError(
                    f"must be a positive whole number of days, got {value!r}",
                    key=f"{self._KEY}.{name}",
                )
            object.__setattr__(self, name, int(value))

    def days_for(self, tiers) -> np.ndarray:
        """Return the days for each tier code."""
        tiers = np.asarray(tiers)
        table = np.array([self.low, self.medium, self.high], dtype=np.int64)
        return table[tiers]

    def to_dict(self) -> dict[str, int]:
        """Return the TOML table: days by tier name."""
        return {"high": self.high, "medium": self.medium, "low": self.low}

    def by_code(self) -> dict[int, int]:
        """Days by tier code, ``{0: low, 1: medium, 2: high}``."""
        return {LOW: self.low, MEDIUM: self.medium, HIGH: self.high}

    @classmethod
    def from_mapping(cls, mapping):
        """From ``{"low": .., "medium": .., "high": ..}`` or ``{0: .., 1: .., 2: ..}``."""
        names = {LOW: "low", MEDIUM: "medium", HIGH: "high"}
        converted = {}
        for key, days in dict(mapping).items():
            name = names.get(key, key) if not isinstance(key, bool) else key
            if name not in TIER_NAMES:
                raise ScoringConfigError(
                    f"unknown tier {key!r} (expected low, medium, high or 0, 1, 2)",
                    key=cls._KEY,
                )
            converted[name] = days
        return cls(**converted)


@dataclass(frozen=True)
class Cadence(_DaysPerTier):
    """Days between visits per tier (defaults: high 30, medium 91, low 182)."""

    _KEY: ClassVar[str] = "cadence_days"
    low: int = DEFAULT_CADENCE_DAYS[0]
    medium: int = DEFAULT_CADENCE_DAYS[1]
    high: int = DEFAULT_CADENCE_DAYS[2]


@dataclass(frozen=True)
class FirstVisitDays(_DaysPerTier):
    """Days from a never-met resident's first scoring into its tier to its first visit.

    Defaults: high 14, medium 60, low 182 (``[first_visit_days]`` in the TOML; the rule is
    :func:`scoring.cadence.due_dates`). The clock starts on the day the resident entered its
    current tier (``tier_since``), not at registration, so nobody is overdue by years for a
    visit nobody had asked for.
    """

    _KEY: ClassVar[str] = "first_visit_days"
    low: int = 182
    medium: int = 60
    high: int = 14


# --------------------------------------------------------------------------- the config


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of the weighted index: its raw ``weight`` (>= 0) and its transform."""

    name: str
    weight: float
    transform: Transform


@dataclass(frozen=True)
class ScoringConfig:
    """A validated scoring configuration (see :func:`load_config`).

    ``features`` keeps the file's order and raw weights; :attr:`normalised_weights` sum to 1,
    so the weighted score is in [0, 1]. ``source`` (the file it came from) is not part of
    equality, so a configuration saved and loaded again compares equal.
    """

    version: str
    features: tuple[FeatureSpec, ...]
    tiers: TierCutoffs = field(default_factory=TierCutoffs)
    cadence: Cadence = field(default_factory=Cadence)
    first_visit: FirstVisitDays = field(default_factory=FirstVisitDays)
    visits_per_month: int = 100
    method: str = "weighted"
    description: str = ""
    source: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        """Validate every field; an error names the source and the key (ScoringConfigError)."""
        src = self.source or "<ScoringConfig>"
        if not isinstance(self.version, str) or not self.version.strip():
            raise ScoringConfigError(
                f"must be a non-empty string, got {self.version!r}", source=src, key="version"
            )
        if self.method not in _METHODS:
            raise ScoringConfigError(
                f"unknown method {self.method!r} (expected one of {', '.join(_METHODS)})",
                source=src,
                key="method",
            )
        if not isinstance(self.description, str):
            raise ScoringConfigError("must be a string", source=src, key="description")
        features = tuple(self.features)
        object.__setattr__(self, "features", features)
        if not features:
            raise ScoringConfigError("no features", source=src, key="features")
        seen = set()
        for spec in features:
            key = f"features.{spec.name}"
            if spec.name not in FEATURE_NAMES:
                raise ScoringConfigError(
                    "unknown feature (not in scoring.features.FEATURE_NAMES)", source=src, key=key
                )
            if spec.name in seen:
                raise ScoringConfigError("listed twice", source=src, key=key)
            seen.add(spec.name)
            if not _is_number(spec.weight) or not math.isfinite(spec.weight):
                raise ScoringConfigError(
                    f"must be a finite number, got {spec.weight!r}",
                    source=src,
                    key=f"{key}.weight",
                )
            if spec.weight < 0:
                raise ScoringConfigError(
                    f"must be >= 0, got {spec.weight!r}", source=src, key=f"{key}.weight"
                )
            if not isinstance(spec.transform, tuple(_TRANSFORM_CLASSES.values())):
                raise ScoringConfigError(
                    f"not a transform: {spec.transform!r}", source=src, key=f"{key}.transform"
                )
        if sum(spec.weight for spec in features) <= 0:
            raise ScoringConfigError(
                "all weights are zero: at least one must be positive", source=src, key="features"
            )
        for name, expected in (
            ("tiers", TierCutoffs),
            ("cadence", Cadence),
            ("first_visit", FirstVisitDays),
        ):
            if not isinstance(getattr(self, name), expected):
                raise ScoringConfigError(f"must be a {expected.__name__}", source=src, key=name)
        visits = self.visits_per_month
        if not isinstance(visits, int | np.integer) or isinstance(visits, bool) or visits < 1:
            raise ScoringConfigError(
                f"must be a positive whole number, got {visits!r}",
                source=src,
                key="capacity.visits_per_month",
            )
        object.__setattr__(self, "visits_per_month", int(visits))

    def __repr__(self) -> str:
        """Return a short form: version, method, number of features and tier edges."""
        return (
            f"ScoringConfig(version={self.version!r}, method={self.method!r}, "
            f"features={len(self.features)}, tiers={self.tiers.edges})"
        )

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Return the feature names, in the configuration's order."""
        return tuple(spec.name for spec in self.features)

    @property
    def weights(self) -> np.ndarray:
        """Raw weights, in feature order."""
        return np.array([spec.weight for spec in self.features], dtype=float)

    @property
    def normalised_weights(self) -> np.ndarray:
        """Weights divided by their sum (they sum to 1)."""
        weights = self.weights
        return weights / weights.sum()

    @property
    def transforms(self) -> tuple[Transform, ...]:
        """Return the transforms, in feature order."""
        return tuple(spec.transform for spec in self.features)


# --------------------------------------------------------------------------- reading, writing


def _rekeyed(error: ScoringConfigError, source: str, prefix: str | None) -> ScoringConfigError:
    """Return the same error, located in ``source`` and with ``prefix.`` before its key."""
    key = error.key
    if prefix is not None:
        key = f"{prefix}.{key}" if key else prefix
    return ScoringConfigError(error.reason, source=source, key=key)


def _table(data: Mapping, key: str, source: str) -> Mapping:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ScoringConfigError(f"must be a table, got {value!r}", source=source, key=key)
    return value


def _unknown_keys(table: Mapping, allowed, source: str, prefix: str | None = None) -> None:
    for key in table:
        if key not in allowed:
            full = f"{prefix}.{key}" if prefix else key
            raise ScoringConfigError(
                f"unknown key (expected one of {', '.join(allowed)})", source=source, key=full
            )


def _parse_feature(name: str, table: Any, source: str) -> FeatureSpec:
    key = f"features.{name}"
    if name not in FEATURE_NAMES:
        raise ScoringConfigError(
            "unknown feature (not in scoring.features.FEATURE_NAMES)", source=source, key=key
        )
    if not isinstance(table, Mapping):
        raise ScoringConfigError(f"must be a table, got {table!r}", source=source, key=key)
    for required in ("weight", "transform"):
        if required not in table:
            raise ScoringConfigError("missing", source=source, key=f"{key}.{required}")
    kind = table["transform"]
    if kind not in TRANSFORM_KINDS:
        raise ScoringConfigError(
            f"unknown transform kind {kind!r} (expected one of {', '.join(TRANSFORM_KINDS)})",
            source=source,
            key=f"{key}.transform",
        )
    params = _TRANSFORM_PARAMS[kind]
    _unknown_keys(table, ("weight", "transform", *params, "invert"), source, key)
    for param in params:
        if param not in table:
            raise ScoringConfigError(
                f"missing (a {kind} transform needs {', '.join(params)})",
                source=source,
                key=f"{key}.{param}",
            )
    try:
        transform = _TRANSFORM_CLASSES[kind](
            **{p: table[p] for p in params}, invert=table.get("invert", False)
        )
    except ScoringConfigError as error:
        raise _rekeyed(error, source, key) from None
    weight = table["weight"]
    if not _is_number(weight) or not math.isfinite(weight):
        raise ScoringConfigError(
            f"must be a finite number, got {weight!r}", source=source, key=f"{key}.weight"
        )
    return FeatureSpec(name=name, weight=float(weight), transform=transform)


def _days_table(data: Mapping[str, Any], key: str, kind: type, source: str):
    """Return the days-per-tier table ``key`` of ``data`` as ``kind`` (its defaults if absent)."""
    if key not in data:
        return kind()
    table = _table(data, key, source)
    _unknown_keys(table, TIER_NAMES, source, key)
    try:
        return kind(**dict(table))
    except ScoringConfigError as error:
        raise _rekeyed(error, source, None) from None


def config_from_dict(data: Mapping[str, Any], *, source: str = "<dict>") -> ScoringConfig:
    """Validate a parsed TOML document (nested dicts) and build a :class:`ScoringConfig`.

    Raises
    ------
    ScoringConfigError
        Naming ``source`` and the offending dotted key.
    """
    if not isinstance(data, Mapping):
        raise ScoringConfigError("the document must be a table", source=source)
    _unknown_keys(data, _TOP_LEVEL_KEYS, source)
    if "version" not in data:
        raise ScoringConfigError(
            "missing: every configuration is versioned", source=source, key="version"
        )
    features_table = _table(data, "features", source)
    if not features_table:
        raise ScoringConfigError("no features", source=source, key="features")
    features = tuple(_parse_feature(n, t, source) for n, t in features_table.items())

    if "tiers" not in data:
        raise ScoringConfigError("missing: the tier cut-offs", source=source, key="tiers")
    tiers_table = _table(data, "tiers", source)
    _unknown_keys(tiers_table, TIER_NAMES, source, "tiers")
    for name in TIER_NAMES:
        if name not in tiers_table:
            raise ScoringConfigError("missing", source=source, key=f"tiers.{name}")
    try:
        tiers = TierCutoffs(**{name: tiers_table[name] for name in TIER_NAMES})
    except ScoringConfigError as error:
        raise _rekeyed(error, source, None) from None

    cadence = _days_table(data, "cadence_days", Cadence, source)
    first_visit = _days_table(data, "first_visit_days", FirstVisitDays, source)

    visits_per_month = ScoringConfig.__dataclass_fields__["visits_per_month"].default
    if "capacity" in data:
        capacity_table = _table(data, "capacity", source)
        _unknown_keys(capacity_table, ("visits_per_month",), source, "capacity")
        visits_per_month = capacity_table.get("visits_per_month", visits_per_month)

    return ScoringConfig(
        version=data["version"],
        method=data.get("method", "weighted"),
        description=data.get("description", ""),
        features=features,
        tiers=tiers,
        cadence=cadence,
        first_visit=first_visit,
        visits_per_month=visits_per_month,
        source=source,
    )


def config_to_dict(config: ScoringConfig) -> dict[str, Any]:
    """Return the TOML document of a configuration (the inverse of :func:`config_from_dict`)."""
    return {
        "version": config.version,
        "method": config.method,
        "description": config.description,
        "tiers": config.tiers.to_dict(),
        "cadence_days": config.cadence.to_dict(),
        "first_visit_days": config.first_visit.to_dict(),
        "capacity": {"visits_per_month": config.visits_per_month},
        "features": {
            spec.name: {"weight": float(spec.weight), **spec.transform.to_dict()}
            for spec in config.features
        },
    }


def load_config(path: str | Path) -> ScoringConfig:
    """Read and validate a scoring configuration from a TOML file.

    Parameters
    ----------
    path : str or Path
        The TOML file (UTF-8).

    Returns
    -------
    ScoringConfig
        Frozen; its ``source`` is ``path``.

    Raises
    ------
    ScoringConfigError
        Unreadable or invalid file; the message names the file and the key.
    """
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScoringConfigError(f"cannot read: {error}", source=source) from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScoringConfigError(f"not valid TOML: {error}", source=source) from error
    return config_from_dict(data, source=source)


def save_config(config: ScoringConfig, path: str | Path) -> Path:
    """Write ``config`` as TOML to ``path`` (overwritten); loading it gives an equal config.

    Comments of the original file are not kept.
    """
    if not isinstance(config, ScoringConfig):
        raise TypeError(f"expected a ScoringConfig, got {type(config).__name__}")
    path = Path(path)
    path.write_text(tomli_w.dumps(config_to_dict(config)), encoding="utf-8")
    return path


def default_config() -> ScoringConfig:
    """Load the shipped default configuration, ``scoring/configs/weighted_v1.toml``."""
    return load_config(DEFAULT_CONFIG_PATH)
