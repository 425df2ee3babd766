"""Settings read from environment variables prefixed ``VISITMAP_``.

One immutable object; read it with :func:`load_settings` where it is needed (never at import
time), so tests and notebooks can pass their own.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from scoring.cadence import FollowUp
from visitmap.errors import FieldError

PREFIX = "VISITMAP_"
#: Korea's time zone: days (due dates, "not in the future", visit dates) are Korean days.
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")


def today_in_seoul() -> dt.date:
    """Return today's date in Korea.

    The server may run on UTC: 00:00-09:00 KST is still yesterday there.
    """
    return dt.datetime.now(SEOUL).date()


#: The project cluster (scripts/pgcluster.sh) as its application role; the password comes from
#: the libpq password file (:func:`default_pgpassfile`), never from the URL.
DEFAULT_DATABASE_URL = "postgresql+psycopg://visitmap@127.0.0.1:54329/visitmap"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASEMAP_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_BASEMAP_ATTRIBUTION = "&copy; OpenStreetMap contributors"


class SettingsError(FieldError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    """Runtime settings.

    Attributes
    ----------
    database_url
        SQLAlchemy URL of the PostGIS database (``VISITMAP_DATABASE_URL``).
    rrn_key_value, rrn_key_file
        Where the secret key for the keyed hash of resident registration numbers comes from:
        ``VISITMAP_RRN_HMAC_KEY`` itself, else the file ``VISITMAP_RRN_HMAC_KEY_FILE`` (default
        ``var/rrn_hmac.key``, created once with a random key, mode 0600, so that each
        installation has its own key; losing it makes stored hashes unmatchable). The key is
        read only by :func:`load_rrn_key` (the ``rrn_hmac_key`` property), which only the
        commands that import residents call: the web service never reads it (docs/deploy.md).
    var_dir
        Directory for generated data and local state (``VISITMAP_VAR_DIR``), default ``var/``.
    basemap_url, basemap_attribution
        The web map's base map tiles (``VISITMAP_BASEMAP_URL``, ``{z}/{x}/{y}`` template;
        empty for none) and their credit (``VISITMAP_BASEMAP_ATTRIBUTION``). Default:
        OpenStreetMap's tiles; with no network the map works without them.
    unreachable_after, unreachable_retry_days
        A resident not found by this many visits in a row is marked unreachable
        (``VISITMAP_UNREACHABLE_AFTER``, default 3) and is next due this many days after the
        last attempt instead of the tier cadence (``VISITMAP_UNREACHABLE_RETRY_DAYS``, default
        30); docs/visits.md.
    attempt_gap_days
        After a visit that did not meet a resident, days before they are due again
        (``VISITMAP_ATTEMPT_GAP_DAYS``, default 7); scoring.cadence.FollowUp.
    audit_retention_days
        Days the access audit keeps its rows before ``visitmap audit prune`` may remove them
        (``VISITMAP_AUDIT_RETENTION_DAYS``, default and minimum 730).
    """

    database_url: str = DEFAULT_DATABASE_URL
    rrn_key_value: bytes | None = field(default=None, repr=False)
    rrn_key_file: Path | None = None
    var_dir: Path = PROJECT_ROOT / "var"
    basemap_url: str = DEFAULT_BASEMAP_URL
    basemap_attribution: str = DEFAULT_BASEMAP_ATTRIBUTION
    unreachable_after: int = 3
    unreachable_retry_days: int = 30
    attempt_gap_days: int = 7
    audit_retention_days: int = 730

    @property
    def rrn_hmac_key(self) -> bytes:
        """The registration-number key, read (or created) now: :func:`load_rrn_key`."""
        return load_rrn_key(self)

    def follow_up(self):
        """Return the due-date rules for visits that did not meet a resident.

        Returns
        -------
        scoring.cadence.FollowUp
            With :attr:`unreachable_retry_days` and :attr:`attempt_gap_days`.
        """
        return FollowUp(
            retry_days=self.unreachable_retry_days, attempt_gap_days=self.attempt_gap_days
        )


def _positive_int(env, name: str, default: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{PREFIX}{name} must be at least 1, got {value}")
    return value


def _retention_days(env) -> int:
    """Read ``VISITMAP_AUDIT_RETENTION_DAYS`` (default 730).

    It must be at least two years (730 days), the legal minimum for access records
    (개인정보의 안전성 확보조치 기준).
    """
    days = _positive_int(env, "AUDIT_RETENTION_DAYS", 730)
    if days < 730:
        raise SettingsError(f"{PREFIX}AUDIT_RETENTION_DAYS must be at least 730, got {days}")
    return days


def read_or_create_key(path: Path, what: str = "key") -> bytes:
    """Return the secret in ``path``, creating it with a random one if the file is missing.

    A new secret is 64 hex digits, written with mode 0600, never overwriting a file another
    process made meanwhile.

    Parameters
    ----------
    path : Path
        The key file; its directory is created if needed.
    what : str, optional
        What the key is, for the error message.

    Returns
    -------
    bytes
        The secret (ASCII, surrounding white space stripped).

    Raises
    ------
    SettingsError
        If the file holds fewer than 32 characters.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32) + "\n")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise SettingsError(f"{path}: the {what} must be at least 32 characters")
    return key.encode("ascii")


def load_rrn_key(settings: Settings) -> bytes:
    """Return the registration-number HMAC key.

    The key is ``VISITMAP_RRN_HMAC_KEY`` if it was set, else the key file
    (``settings.rrn_key_file``, default ``rrn_hmac.key`` in ``settings.var_dir``), created
    with a random key if missing (:func:`read_or_create_key`). Call it only where
    registration numbers are hashed (``visitmap import``, ``visitmap demo load``); nothing
    in the web service does.
    """
    if settings.rrn_key_value is not None:
        return settings.rrn_key_value
    key_file = settings.rrn_key_file or settings.var_dir / "rrn_hmac.key"
    return read_or_create_key(key_file, "RRN HMAC key")


def default_pgpassfile(environ=None) -> Path | None:
    """Return the libpq password file to use when ``PGPASSFILE`` is not set.

    That is ``VISITMAP_PGPASSFILE`` (not checked to exist), else the project cluster's
    ``var/pgpass`` under the project root (written by scripts/pgcluster.sh) if it exists.
    None when ``PGPASSFILE`` is set (libpq reads it itself) or there is no such file.
    ``environ`` defaults to the process environment.
    """
    env = os.environ if environ is None else environ
    if env.get("PGPASSFILE"):
        return None
    named = env.get(PREFIX + "PGPASSFILE")
    if named:
        return Path(named)
    default = PROJECT_ROOT / "var" / "pgpass"
    return default if default.is_file() else None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from ``environ`` (default: the process environment).

    Reads no file: the registration-number key is read later, by :func:`load_rrn_key`.
    """
    env = os.environ if environ is None else environ
    var_dir = Path(env.get(PREFIX + "VAR_DIR", PROJECT_ROOT / "var"))
    database_url = env.get(PREFIX + "DATABASE_URL", DEFAULT_DATABASE_URL)
    if not database_url.startswith("postgresql"):
        raise SettingsError(f"{PREFIX}DATABASE_URL must be a postgresql URL, got {database_url!r}")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    key_text = env.get(PREFIX + "RRN_HMAC_KEY")
    key = None
    if key_text is not None:
        if len(key_text) < 32:
            raise SettingsError(f"{PREFIX}RRN_HMAC_KEY must be at least 32 characters")
        key = key_text.encode("utf-8")
    key_file = env.get(PREFIX + "RRN_HMAC_KEY_FILE")
    return Settings(
        database_url=database_url,
        rrn_key_value=key,
        rrn_key_file=Path(key_file) if key_file else None,
        var_dir=var_dir,
        basemap_url=env.get(PREFIX + "BASEMAP_URL", DEFAULT_BASEMAP_URL),
        basemap_attribution=env.get(PREFIX + "BASEMAP_ATTRIBUTION", DEFAULT_BASEMAP_ATTRIBUTION),
        unreachable_after=_positive_int(env, "UNREACHABLE_AFTER", 3),
        unreachable_retry_days=_positive_int(env, "UNREACHABLE_RETRY_DAYS", 30),
        attempt_gap_days=_positive_int(env, "ATTEMPT_GAP_DAYS", 7),
        audit_retention_days=_retention_days(env),
    )
