"""Web map service: Flask app factory. Nothing connects to the database at import time."""

from __future__ import annotations

import os

from flask import Flask
from flask_babel import get_locale

from geo.analyst_export import load_pseudonym_key
from geo.settings import load_settings
from webmap import (  # noqa: F401
    access_log,
    analyst_api,
    api,
    audit_page,
    auth,
    blind_spots,
    db,
    district_day,
    eligibility,
    errors,
    i18n,
    map_page,
    pages,
    resources_pages,
    routes_page,
    safe_html,
    support_dashboard,
    support_forms,  # noqa: F401  (records: issue 13)
    teams_api,
    visits,
)


def create_app(test_config: dict | None = None) -> Flask:
    """Create the Flask app.

    ``test_config`` overrides settings; ``VISITMAP_DATABASE_URL`` (or ``DATABASE_URL`` in
    ``test_config``) names the database. The engine is created on first use.
    ``BASEMAP_URL`` (``VISITMAP_BASEMAP_URL``; empty = no base map) is the base map's tile URL;
    ``TODAY`` (ISO date) fixes the day visits are overdue against, for tests and demos.
    ``TILE_CACHE_MB`` (``VISITMAP_TILE_CACHE_MB``, default 256; 0 = off) bounds the tile cache
    (webmap.tile_cache).
    """
    app = Flask(__name__)
    settings = load_settings()
    app.config.from_mapping(
        DATABASE_URL=settings.database_url,
        VISITMAP_SETTINGS=settings,
        JSON_AS_ASCII=False,
        BASEMAP_URL=settings.basemap_url,
        BASEMAP_ATTRIBUTION=settings.basemap_attribution,
        TODAY=None,
        TILE_CACHE_MB=float(os.environ.get("VISITMAP_TILE_CACHE_MB", "256")),
    )
    if test_config:
        app.config.update(test_config)

    db.init_app(app)
    api.init_tile_cache(app)
    i18n.init_app(app)
    app.jinja_env.globals["get_locale"] = get_locale  # _nav.html (issue 12; "pages" owns this)
    auth.init_app(app)
    errors.init_app(app)
    # every page's header (templates/_nav.html): its links, its language links, the language
    app.jinja_env.globals.update(
        nav_links=pages.nav_links, lang_url=pages.lang_url, get_locale=get_locale
    )
    app.jinja_env.filters["thousands"] = pages.thousands
    app.context_processor(lambda: {"locale": str(get_locale())})

    access_log.init_app(app)
    app.register_blueprint(audit_page.bp)
    # read here, before `visitmap serve` gives up root (the key file is root's, mode 0600)
    app.config.setdefault("PSEUDONYM_KEY", load_pseudonym_key(settings.var_dir))
    app.register_blueprint(analyst_api.bp)
    app.register_blueprint(map_page.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.api)
    app.register_blueprint(api.tiles)

    app.register_blueprint(routes_page.bp)
    app.register_blueprint(teams_api.bp)
    app.register_blueprint(visits.bp)
    # records (issue 13): support, need and consent forms and their API
    app.register_blueprint(support_forms.bp)
    # issue 13, dashboard: the support overview (종합현황판) and its API
    app.register_blueprint(support_dashboard.bp)
    # issue 13, resources (helper S)
    app.register_blueprint(resources_pages.bp)
    # issue 14: benefit pre-screening
    app.register_blueprint(eligibility.bp)
    # issue 14: hot spots and the blind-spot list
    app.register_blueprint(blind_spots.bp)
    # issue 15: the whole district's day
    app.register_blueprint(district_day.bp)
    return app
