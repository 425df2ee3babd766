"""Schema migrations with Alembic, run programmatically (``visitmap db upgrade``)."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Tables PostGIS owns; they are not part of our schema.
FOREIGN_TABLES = {"spatial_ref_sys"}


#: Partitions made at run time (one per score run, geo.score_runs); the model is the parent.
RUNTIME_PARTITION = re.compile(r"(resident_scores|run_tile_points)_run_\d+")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: our tables only, with GeoAlchemy2's handling of spatial indexes."""
    if type_ == "table" and (name in FOREIGN_TABLES or RUNTIME_PARTITION.fullmatch(name)):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """Return an Alembic :class:`Config` for the packaged migrations.

    Parameters
    ----------
    database_url : str, optional
        The database to migrate, as ``sqlalchemy.url``.
    connection : Connection, optional
        An open connection for the migrations to run on (``config.attributes``).

    Returns
    -------
    Config
        The configuration.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def ensure_postgis(connection: Connection) -> None:
    """Create the PostGIS extension if missing (needs a role allowed to create extensions)."""
    connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (default: the newest)."""
    with engine.begin() as connection:
        ensure_postgis(connection)
        command.upgrade(alembic_config(connection=connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (``base`` drops every table)."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection=connection), revision)


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """Return the newest revision in the packaged migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
