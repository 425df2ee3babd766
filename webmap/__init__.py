"""Web map service: Flask app factory. Nothing connects to the database at import time."""

from __future__ import annotations

from flask import Flask

from geo.settings import load_settings


def create_app(test_config: dict | None = None) -> Flask:
    """Create the Flask app.

    ``test_config`` overrides settings; ``VISITMAP_DATABASE_URL`` (or ``DATABASE_URL`` in
    ``test_config``) names the database. The engine is created on first use.
    """
    app = Flask(__name__)
    settings = load_settings()
    app.config.from_mapping(
        DATABASE_URL=settings.database_url, VISITMAP_SETTINGS=settings, JSON_AS_ASCII=False
    )
    if test_config:
        app.config.update(test_config)

    from webmap import db, pages

    db.init_app(app)
    app.register_blueprint(pages.bp)
    return app
