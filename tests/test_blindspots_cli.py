"""``visitmap blindspots hotspots`` on a real database (docs/hotspots.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from click.testing import CliRunner

from geo.db import make_engine, session_scope
from geo.demo import generate_demo
from geo.demo_load import load_demo_files
from geo.migrate import upgrade
from geo.scope import Scope
from scoring.config import default_config
from tests.conftest import TEST_RRN_KEY, load_reference_data
from visitmap.cli import main
from visitmap.usecases.scoring_runs import score_residents

pytestmark = pytest.mark.db
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def hot_url(scratch_database, tmp_path_factory):
    url = scratch_database("visitmap_test_hot_cli")
    out = tmp_path_factory.mktemp("demo_hot_cli")
    generate_demo(out, seed=12, scale=2000, region="seodaemun", as_of=AS_OF)
    engine = make_engine(url)
    try:
        upgrade(engine)
        load_reference_data(engine)
        with session_scope(engine) as session:
            load_demo_files(session, out, rrn_key=TEST_RRN_KEY, progress=False)
            score_residents(
                session, Scope.everything(), method="weighted", config=default_config(),
                as_of=AS_OF, created_by="test", publish=True,
            )  # fmt: skip
    finally:
        engine.dispose()
    return url


def cli(monkeypatch, url, *args):
    monkeypatch.setenv("VISITMAP_DATABASE_URL", url)
    return CliRunner().invoke(main, ["blindspots", *args], catch_exceptions=False)


def test_hotspots_refresh_table_csv_and_errors(monkeypatch, hot_url):
    empty = cli(monkeypatch, hot_url, "hotspots")
    assert empty.exit_code == 0 and "no hot spot stored" in empty.output
    done = cli(monkeypatch, hot_url, "hotspots", "--refresh", "--permutations", "99")
    assert done.exit_code == 0, done.output
    assert " h3_9: " in done.output and done.output.splitlines()[-1].endswith(")")
    assert "units: " in done.output.splitlines()[-1]
    rows = list(csv.DictReader(io.StringIO(cli(monkeypatch, hot_url, "hotspots", "--format",
                                               "csv").output)))  # fmt: skip
    assert rows and {r["cluster"] for r in rows} <= {"hot", "cold", "none"}
    assert all(0 <= int(r["high"]) <= int(r["residents"]) for r in rows)
    dong = cli(monkeypatch, hot_url, "hotspots", "--unit", "dong", "--refresh")
    assert dong.exit_code == 0, dong.output
    missing = CliRunner().invoke(main, ["blindspots", "hotspots", "--run", "999"])
    assert missing.exit_code == 2 and "999" in missing.output
