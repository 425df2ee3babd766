"""The `visitmap` command, run as a user runs it, against a scratch database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cli_env(scratch_database):
    url = scratch_database("visitmap_test_cli")
    env = dict(
        os.environ,
        VISITMAP_DATABASE_URL=url,
        VISITMAP_RRN_HMAC_KEY="cli-test-key-0123456789abcdef0123456789",
    )
    return env


def run(env, *args, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "visitmap", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"visitmap {' '.join(args)} failed:\n{result.stderr}")
    return result


def test_status_before_and_after_upgrade(cli_env):
    before = run(cli_env, "status")
    assert "schema:   empty" in before.stdout
    assert "visitmap_test_cli" in before.stdout
    run(cli_env, "db", "upgrade")
    after = run(cli_env, "status")
    lines = dict(line.split() for line in after.stdout.splitlines()[2:])
    assert lines["areas"] == "0" and lines["residents"] == "0"


def test_import_then_status_counts_and_reimport_is_noop(cli_env):
    run(cli_env, "db", "upgrade")
    first = run(cli_env, "import", "areas", "data/seodaemun_admdong_2021.geojson")
    assert "14 inserted" in first.stdout
    again = run(cli_env, "import", "areas", "data/seodaemun_admdong_2021.geojson")
    assert "0 inserted, 0 updated, 14 unchanged" in again.stdout
    run(cli_env, "import", "facilities", "data/seodaemun_facilities.csv")
    status = run(cli_env, "status")
    lines = dict(line.split() for line in status.stdout.splitlines()[2:])
    assert lines["areas"] == "14" and lines["facilities"] == "112"


def test_unreachable_database_is_a_clear_error(cli_env):
    env = dict(cli_env, VISITMAP_DATABASE_URL="postgresql+psycopg://x@127.0.0.1:1/none")
    result = run(env, "status", check=False)
    assert result.returncode == 1
    assert "cannot connect to the database" in result.stderr


def test_scoring_nobody_and_a_bad_demo_scale_are_clear_errors(cli_env, tmp_path):
    run(cli_env, "db", "upgrade")
    status = run(cli_env, "status")
    assert dict(line.split() for line in status.stdout.splitlines()[2:])["residents"] == "0"
    empty = run(cli_env, "score", "--no-progress", check=False)
    assert empty.returncode == 1 and "Traceback" not in empty.stderr
    assert "no active residents in scope to score" in empty.stderr
    bad = run(cli_env, "demo", "load", "--dir", str(tmp_path / "d"), "--scale", "0", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr, bad.stderr


def test_demo_then_score_prints_run_and_tiers(cli_env, tmp_path):
    run(cli_env, "db", "upgrade")
    demo_dir = tmp_path / "demo"
    generated = run(
        cli_env,
        "demo",
        "generate",
        "--out",
        str(demo_dir),
        "--scale",
        "500",
        "--seed",
        "2",
        "--as-of",
        "2026-11-01",
    )
    assert "residents: 500" in generated.stdout
    loaded = run(cli_env, "demo", "load", "--dir", str(demo_dir), "--scale", "500", "--seed", "2")
    assert "reusing" in loaded.stdout and "500 inserted" in loaded.stdout
    first = run(cli_env, "score", "--as-of", "2026-11-01", "--by", "analyst", "--publish")
    words = first.stdout.split()
    assert words[:2] == ["score", "run"] and "high" in words and "medium" in words
    counts = {
        w: int(n.rstrip(","))
        for w, n in zip(words, words[1:], strict=False)
        if w in ("high", "medium", "low")
    }
    assert sum(counts.values()) > 450  # active residents of 500
    # one line per tier: its residents and how many are overdue on the run's day
    tier_lines = [
        line for line in first.stdout.splitlines() if re.match(r"(high|medium|low) ", line)
    ]
    assert [line.split()[0] for line in tier_lines] == ["high", "medium", "low"]
    for line in tier_lines:
        match = re.fullmatch(r"(high|medium|low) (\d+) \(overdue (\d+)\)", line)
        assert match and int(match[3]) <= int(match[2]), line
    second = run(cli_env, "score", "--method", "rules", "--as-of", "2026-11-01")
    assert "moved into high since run" in second.stdout
    skipped = run(cli_env, "score", "--unless-scored")
    assert "exists; not scoring again" in skipped.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'version = "x"\n[tiers]\nlow = [0.0, 0.5]\nmedium = [0.4, 0.6]\n'
        "high = [0.6, 1.0]\n[features.lives_alone]\nweight = 1.0\n"
        'transform = "linear"\nlow = 0.0\nhigh = 1.0\n',
        encoding="utf-8",
    )
    rejected = run(cli_env, "score", "--config", str(bad), check=False)
    assert rejected.returncode == 1 and "bad.toml" in rejected.stderr
