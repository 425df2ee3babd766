"""Engine and session helpers. Nothing connects until a function here is called."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session


def make_engine(database_url: str, **kwargs) -> Engine:
    """Create an SQLAlchemy engine for ``database_url`` (psycopg 3 driver)."""
    return create_engine(database_url, pool_pre_ping=True, **kwargs)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with Session(engine) as session, session.begin():
        yield session


def raw_connection(session: Session):
    """The psycopg connection under ``session`` (same transaction), for COPY."""
    return session.connection().connection.driver_connection
