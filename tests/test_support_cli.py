"""``visitmap support warnings|link`` on a real database (docs/support_warnings.md)."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from geo.db import make_engine, session_scope
from geo.migrate import upgrade
from tests.conftest import load_reference_data
from tests.support_data import TODAY, build
from visitmap.cli import main

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def support_url(scratch_database):
    url = scratch_database("visitmap_test_support_cli")
    engine = make_engine(url)
    try:
        upgrade(engine)
        load_reference_data(engine)
        with session_scope(engine) as session:
            build(session)
    finally:
        engine.dispose()
    return url


def cli(monkeypatch, url, *args):
    monkeypatch.setenv("VISITMAP_DATABASE_URL", url)
    return CliRunner().invoke(main, ["support", *args], catch_exceptions=False)


def test_warnings_refresh_table_and_filters(monkeypatch, support_url):
    empty = cli(monkeypatch, support_url, "warnings")
    assert empty.exit_code == 0 and "no warning stored" in empty.output
    done = cli(monkeypatch, support_url, "warnings", "--refresh", "--today", TODAY.isoformat())
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0].startswith("computed 6 warning(s) for 2026-06-30 in ")
    lines = lines[1:]
    assert lines[0].split() == [
        "level",
        "kind",
        "area",
        "resident",
        "records",
        "providers",
        "since",
    ]
    duplicate = next(line for line in lines if " duplicate " in line)
    assert "경고 red" in duplicate and "R-SW-1" in duplicate
    assert "S-SW-1;S-SW-2" in duplicate and "P-SW-A;P-SW-B" in duplicate
    assert lines[-1] == "6 warning(s): 3 red, 3 yellow"
    red = cli(monkeypatch, support_url, "warnings", "--level", "red")
    assert red.output.splitlines()[-1] == "3 warning(s): 3 red"
    kind = cli(monkeypatch, support_url, "warnings", "--kind", "open_need", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(kind.output)))
    assert [(r["kind"], r["resident"], r["need"]) for r in rows] == [
        ("open_need", "R-SW-3", "N-SW-1")
    ]
    area = rows[0]["area"]
    assert len(list(csv.DictReader(io.StringIO(
        cli(monkeypatch, support_url, "warnings", "--area", area, "--format", "csv").output
    )))) == 6  # fmt: skip


def test_warnings_bad_options_name_the_option(monkeypatch, support_url):
    monkeypatch.setenv("VISITMAP_DATABASE_URL", support_url)
    for args, option in (
        (["--level", "purple"], "--level"),
        (["--kind", "nope"], "--kind"),
        (["--area", "0000000000"], "--area"),
        (["--refresh", "--today", "yesterday"], "--today"),
    ):
        result = CliRunner().invoke(main, ["support", "warnings", *args])
        assert result.exit_code == 2, result.output
        assert option in result.output


def test_link(monkeypatch, support_url):
    result = cli(monkeypatch, support_url, "link")
    assert result.exit_code == 0
    assert result.output.startswith("2 resident row(s) linked")
