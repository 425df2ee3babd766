"""Per-app engine and per-request session (created lazily, closed on teardown)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from geo.db import make_engine


def get_session() -> Session:
    """The request's session (read-only use; rolled back at teardown)."""
    if "db_session" not in g:
        engine = current_app.extensions.get("visitmap_engine")
        if engine is None:
            engine = make_engine(current_app.config["DATABASE_URL"])
            current_app.extensions["visitmap_engine"] = engine
        g.db_session = Session(engine)
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_session)
