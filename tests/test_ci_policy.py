"""Database tests fail under CI when the database is unreachable, and skip elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_DB_TEST = "tests/webmap/test_factory.py::test_healthz"


def run_pytest(ci: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ, VISITMAP_TEST_DATABASE_URL="postgresql+psycopg://x@127.0.0.1:1/none")
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", ONE_DB_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unreachable_database_fails_under_ci():
    result = run_pytest("true")
    assert result.returncode != 0
    assert "test database unreachable" in result.stdout
    assert "1 error" in result.stdout or "1 failed" in result.stdout


def test_unreachable_database_skips_outside_ci():
    result = run_pytest(None)
    assert result.returncode == 0
    assert "1 skipped" in result.stdout
