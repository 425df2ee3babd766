"""Shared fixtures: a real PostGIS test database, per-test rollback, reference data.

The database is ``VISITMAP_TEST_DATABASE_URL`` (``make test`` sets it to the project
cluster's ``visitmap_test``). When it cannot be reached, database tests fail under CI
(``CI=true``) and are skipped elsewhere with the reason.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import drop_database, make_engine, session_scope
from geo.importers import import_file
from geo.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DEFAULT_TEST_URL = "postgresql+psycopg://visitmap@127.0.0.1:54329/visitmap_test"
TEST_RRN_KEY = b"test-key-0123456789abcdef0123456789abcdef"


def pytest_configure(config):
    # The suite never touches the demo database or the developer's key file.
    os.environ.setdefault("VISITMAP_RRN_HMAC_KEY", TEST_RRN_KEY.decode())


@pytest.fixture(scope="session")
def database_url() -> str:
    return os.environ.get("VISITMAP_TEST_DATABASE_URL", DEFAULT_TEST_URL)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        message = f"test database unreachable at {database_url}: {exc}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    upgrade(engine)
    yield engine
    engine.dispose()


REFERENCE_FILES = [
    ("areas", "seodaemun_admdong_2021.geojson"),
    ("area-stats", "seodaemun_dong_indicators.csv"),
    ("facilities", "seodaemun_facilities.csv"),
]


def load_reference_data(engine) -> None:
    """Import the Seodaemun areas, statistics and facilities, committed."""
    with session_scope(engine) as session:
        for kind, name in REFERENCE_FILES:
            import_file(session, kind, DATA / name)


@pytest.fixture(scope="session")
def reference_data(engine):
    """Seodaemun areas, statistics and facilities, committed once for the whole run."""
    load_reference_data(engine)
    return engine


@pytest.fixture
def db(engine, reference_data):
    """A session whose work is rolled back after the test (reference data stays)."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def count(session: Session, table: str) -> int:
    return session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()


@contextmanager
def scratch_databases(database_url: str):
    """Yields ``create(name) -> url``: fresh, empty databases on the test server, dropped on
    exit. Each name is prefixed with the test database's name, so that two suites run against
    different test databases on one server do not drop each other's scratch databases."""
    from sqlalchemy.engine import make_url

    prefix = make_url(database_url).database

    created = []
    admin = make_engine(
        make_url(database_url).set(database="postgres").render_as_string(False),
        isolation_level="AUTOCOMMIT",
    )

    def create(name: str) -> str:
        name = name if name.startswith(prefix) else f"{prefix}_{name}"
        with admin.connect() as conn:
            drop_database(conn, name)
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(database_url).set(database=name).render_as_string(False)

    try:
        yield create
    finally:
        try:
            with admin.connect() as conn:
                for name in created:
                    drop_database(conn, name)
        finally:
            admin.dispose()


@pytest.fixture(scope="module")
def scratch_database(engine, database_url):
    """Factory: a fresh, empty database on the test server; dropped after the module."""
    with scratch_databases(database_url) as create:
        yield create
