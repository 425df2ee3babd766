"""A committed map database for the web tests: Seodaemun reference data, a small synthetic
demo, one weighted score run, and one resident whose name and visit note are attack strings.
Built once per test session in its own database (the app reads it through its own engine,
so the per-test rollback of the other tests cannot be used here)."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
import uuid
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from geo.db import make_engine, session_scope
from geo.demo import generate_demo
from geo.demo_load import load_demo_files
from geo.migrate import upgrade
from geo.scope import Scope
from scoring.config import default_config
from tests.conftest import TEST_RRN_KEY, load_reference_data, scratch_databases
from visitmap.usecases.scoring_runs import score_residents
from webmap import create_app

AS_OF = dt.date(2026, 11, 1)
#: Days before AS_OF of the demo's earlier score runs (build_scored_demo).
HISTORY_DAYS = (200, 30)
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_NOTE = "${globalThis.x=1}<script>globalThis.x=2</script><b>굵게</b>"
MAP_DB = "visitmap_test_map"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def map_database(engine, database_url, tmp_path_factory):
    with scratch_databases(database_url) as create:
        url = create(MAP_DB)
        map_engine = make_engine(url)
        upgrade(map_engine)
        load_reference_data(map_engine)
        yield build_scored_demo(map_engine, url, tmp_path_factory)
        map_engine.dispose()


@contextmanager
def scored_scratch_demo(database_url, tmp_path_factory, name: str):
    """A scored demo (:func:`build_scored_demo`) in a database of its own, dropped afterwards:
    for test modules that publish runs or store plans (issue 15's tile layer and district day)."""
    with scratch_databases(database_url) as create:
        url = create(name)
        demo_engine = make_engine(url)
        try:
            upgrade(demo_engine)
            load_reference_data(demo_engine)
            yield build_scored_demo(demo_engine, url, tmp_path_factory)
        finally:
            demo_engine.dispose()


def build_scored_demo(map_engine, url, tmp_path_factory) -> dict:
    demo_dir = tmp_path_factory.mktemp("map_demo")
    generate_demo(demo_dir, seed=5, scale=2500, region="seodaemun", as_of=AS_OF)
    with session_scope(map_engine) as session:
        load_demo_files(session, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    # The office has scored before (200 and 30 days earlier): never-met residents whose tier
    # held since are due for their first visit by AS_OF (docs/scoring.md, "Cadence"); the
    # top-scored one entered the high tier 30 days before AS_OF, so it is due too.
    for days_before in (*HISTORY_DAYS, 0):
        day = AS_OF - dt.timedelta(days=days_before)
        with session_scope(map_engine) as session:
            result = score_residents(
                session,
                Scope.everything(),
                method="weighted",
                config=default_config(),
                as_of=day,
                created_by="test",
                publish=True,
            )
    run_id = result.stored.run_id
    with session_scope(map_engine) as session:
        # the top-scored resident gets the attack strings as name and last visit note
        target = session.execute(
            text("""SELECT r.id, r.external_id FROM resident_scores s
                JOIN residents r ON r.id = s.resident_id
                WHERE s.run_id = :run ORDER BY s.score DESC, r.id LIMIT 1"""),
            {"run": run_id},
        ).one()
        session.execute(
            text("UPDATE residents SET name = :name WHERE id = :id"),
            {"name": XSS_NAME, "id": target.id},
        )
        session.execute(
            text("""INSERT INTO visits (external_id, resident_id, visited_at, visitor, outcome,
                notes) VALUES ('V-XSS', :id, :at, 'test', 'not_home', :note)"""),
            {"id": target.id, "at": dt.datetime(2026, 10, 30, 10, 0), "note": XSS_NOTE},
        )
    return {"url": url, "engine": map_engine, "run_id": run_id, "xss_id": target.external_id}


#: The test accounts made in every web test database: role -> (user name, password).
TEST_ACCOUNTS = {
    "leader": ("t.leader", "test-leader-pass"),
    "dong": ("t.dong", "test-dong-pass-1"),
    "visitor": ("t.visitor", "test-visitor-pass"),
    "agency": ("t.agency", "test-agency-pass"),
    "analyst": ("t.analyst", "test-analyst-pass"),
    "admin": ("t.admin", "test-admin-pass1"),
}


def add_test_accounts(engine) -> dict[str, str]:
    """Make the :data:`TEST_ACCOUNTS` that the database can hold (a visitor needs a team, an
    agency its provider; ``t.dong`` leads the dong of the first team, or the first dong) and
    a fresh API token for each; returns role -> token."""
    from geo.accounts import create_token, create_user, get_account

    with session_scope(engine) as session:
        team = session.execute(
            text("""SELECT t.external_id, min(a.code) FROM visit_teams t
                JOIN team_areas ta ON ta.team_id = t.id JOIN areas a ON a.id = ta.area_id
                GROUP BY t.id ORDER BY t.id LIMIT 1""")
        ).one_or_none()
        dong = team[1] if team else session.execute(text("SELECT min(code) FROM areas")).scalar()
        org = session.execute(
            text("""SELECT p.external_id FROM providers p
                JOIN support_records s ON s.provider_id = p.id
                GROUP BY p.id ORDER BY count(*) DESC, p.external_id LIMIT 1""")
        ).scalar()
        specs = {
            "leader": {"roles": ["leader"], "all_areas": True},
            "dong": {"roles": ["leader"], "area_codes": [dong]} if dong else None,
            "visitor": {"roles": ["visitor"], "team": team[0]} if team else None,
            "agency": {"roles": ["agency"], "org": org} if org else None,
            "analyst": {"roles": ["analyst"]},
            "admin": {"roles": ["admin"]},
        }
        tokens = {}
        for role, spec in specs.items():
            if spec is None:
                continue
            username, password = TEST_ACCOUNTS[role]
            if get_account(session, username=username) is None:
                create_user(session, username, display_name=username, password=password, **spec)
            tokens[role], _ = create_token(session, username, f"test-{uuid.uuid4()}")
    return tokens


class AuthClient(FlaskClient):
    """A test client that sends an API token: by default the all-areas leader's
    (``app.test_client(role="visitor")`` for another role, ``role=None`` for none)."""

    def __init__(self, *args, role: str | None = "leader", **kwargs):
        super().__init__(*args, **kwargs)
        if role is not None:
            token = self.application.config["TEST_TOKENS"][role]
            self.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"


@contextmanager
def app_for(url: str, **config):
    """The app on database ``url`` at the test date, without a base map, with the test
    accounts (:func:`add_test_accounts`); its engine is disposed afterwards."""
    engine = make_engine(url)
    try:
        tokens = add_test_accounts(engine)
    finally:
        engine.dispose()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "TODAY": AS_OF.isoformat(),
            "BASEMAP_URL": "",
            "SECRET_KEY": "test-" + "k" * 40,
            "TEST_TOKENS": tokens,
            "VALIDATE_RESPONSES": True,  # every JSON answer checked against its model
        }
        | config
    )
    app.test_client_class = AuthClient
    try:
        yield app
    finally:
        engine = app.extensions.get("visitmap_engine")
        if engine is not None:
            engine.dispose()


def login(page, base: str, role: str = "leader") -> None:
    """Sign ``page`` (Playwright) in through the login form as the test account of ``role``."""
    username, password = TEST_ACCOUNTS[role]
    page.goto(f"{base}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('#login-form button[type="submit"]')
    page.wait_for_url(lambda url: "/login" not in url, timeout=15_000)


@contextmanager
def served(app):
    """``app`` served by waitress on a free local port, in a thread; yields its base URL."""
    from waitress.server import create_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        thread.join(timeout=5)


@contextmanager
def chromium():
    """Debian's headless Chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def map_app(map_database):
    with app_for(map_database["url"]) as app:
        yield app


@pytest.fixture
def map_client(map_app):
    with map_app.test_client() as client:
        yield client


def sql_rows(url: str, sql: str, **params) -> list:
    """Run ``sql`` on database ``url`` in a connection of its own; return all rows."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).all()
    finally:
        engine.dispose()
