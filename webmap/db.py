"""Per-app engine and per-request session (created lazily, closed on teardown)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from geo.db import make_engine


def get_session() -> Session:
    """Return the request's session, made on first use.

    Views that write commit it themselves; it is closed at teardown, which rolls back
    whatever was not committed.
    """
    if "db_session" not in g:
        engine = current_app.extensions.get("visitmap_engine")
        if engine is None:
            # No ping before each checkout: it was a round trip per request and per audit row
            # (~0.5 ms of a cached tile's ~2 ms, issue 15). After a database restart the first
            # request on each pooled connection fails; SQLAlchemy then drops the whole pool
            # and the next requests connect afresh (docs/deploy.md).
            engine = make_engine(
                current_app.config["DATABASE_URL"], pool_pre_ping=False, pool_size=10
            )
            current_app.extensions["visitmap_engine"] = engine
        g.db_session = Session(engine)
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    """Close the request's session, if one was made (the app context's teardown)."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    """Close each request's session when its app context ends."""
    app.teardown_appcontext(close_session)
