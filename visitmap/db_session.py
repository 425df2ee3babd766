"""The command line's database session (shared by the command groups)."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def cli_session():
    """Yield a session in one transaction on VISITMAP_DATABASE_URL; dispose of the engine after."""
    from geo.db import make_engine, session_scope
    from geo.settings import load_settings

    engine = make_engine(load_settings().database_url)
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()
