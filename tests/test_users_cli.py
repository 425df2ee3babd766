"""`visitmap users` and `visitmap tokens`, run as an operator runs them, then used on the app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from geo.db import make_engine
from geo.migrate import upgrade
from tests.conftest import load_reference_data

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent
DONG = "1141052000"


@pytest.fixture(scope="module")
def env(scratch_database):
    url = scratch_database("visitmap_test_users")
    engine = make_engine(url)
    upgrade(engine)
    load_reference_data(engine)
    engine.dispose()
    return dict(os.environ, VISITMAP_DATABASE_URL=url)


def run(env, *args, stdin: str = "", check: bool = True):
    result = subprocess.run(
        [sys.executable, "-m", "visitmap", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"visitmap {' '.join(args)} failed:\n{result.stderr}")
    return result


def test_create_list_disable_enable_and_set_areas(env):
    created = run(
        env, "users", "create", "kim.dong", "--role", "leader", "--area", DONG,
        "--name", "김동장", "--password-stdin", stdin="a-long-password-1\n",
    )  # fmt: skip
    assert "created kim.dong: leader" in created.stdout
    listed = run(env, "users", "list").stdout
    assert "kim.dong" in listed and f"areas={DONG}" in listed and "active" in listed
    run(env, "users", "disable", "kim.dong")
    assert "disabled" in run(env, "users", "list").stdout
    run(env, "users", "enable", "kim.dong")
    other = "1141055500"
    assert other in run(env, "users", "set-areas", "kim.dong", DONG, other).stdout
    run(env, "users", "set-password", "kim.dong", "--password-stdin", stdin="another-long-pw\n")
    engine = make_engine(env["VISITMAP_DATABASE_URL"])
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT password_hash FROM users WHERE username = 'kim.dong'")
        ).scalar()
    engine.dispose()
    assert stored.startswith("$argon2id$") and "another-long-pw" not in stored


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("Bad Name", "--role", "leader", "--all-areas"), "", "--username"),
        (("x.y", "--role", "boss"), "", "--role: unknown role boss"),
        (("x.y", "--role", "leader"), "", "--area: a leader works in"),
        (("x.y", "--role", "leader", "--area", "0000000000"), "", "--area: no such area"),
        (("x.y", "--role", "visitor"), "", "--team: a visitor belongs"),
        (("x.y", "--role", "agency", "--org", "P-NONE"), "", "--org: no such org"),
        (("x.y", "--role", "analyst", "--password-stdin"), "short\n", "--password: must be"),
    ],
)
def test_bad_options_are_named_and_nothing_is_written(env, args, stdin, message):
    result = run(env, "users", "create", *args, stdin=stdin, check=False)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "x.y" not in run(env, "users", "list").stdout


def test_tokens_are_printed_once_listed_by_prefix_and_revoked(env):
    run(env, "users", "create", "robot", "--role", "analyst")
    created = run(env, "tokens", "create", "nightly", "--user", "robot")
    token = created.stdout.strip()
    assert token.startswith("vmt_") and len(token) > 40
    listed = run(env, "tokens", "list").stdout
    assert "nightly" in listed and token[:12] in listed and token not in listed
    token_id = listed.split()[0]
    from tests.webmap.conftest import app_for

    with app_for(env["VISITMAP_DATABASE_URL"]) as app:
        client = app.test_client(role=None)
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        assert client.get("/api/score-runs").status_code == 200
        assert "revoked token" in run(env, "tokens", "revoke", token_id).stdout
        assert client.get("/api/score-runs").status_code == 401
    assert "revoked" in run(env, "tokens", "list", "--user", "robot").stdout


def test_demo_accounts_need_the_demos_teams_and_providers(env):
    """On a database without the demo's teams and providers they are refused by name (made
    once on the demo: tests/webmap/test_access.py)."""
    result = run(env, "users", "create-demo", check=False)
    assert result.returncode == 1 and "no such" in result.stderr
