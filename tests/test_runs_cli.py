"""``visitmap runs list|publish`` and ``visitmap score --publish`` (docs/publishing.md)."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from geo.db import make_engine, session_scope
from geo.demo import generate_demo
from geo.demo_load import load_demo_files
from geo.migrate import upgrade
from geo.scope import Scope
from scoring.config import default_config
from tests.conftest import TEST_RRN_KEY, load_reference_data
from tests.test_cli import run
from visitmap.cli import main
from visitmap.usecases.scoring_runs import score_residents

pytestmark = pytest.mark.db

AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def runs_url(scratch_database, tmp_path_factory):
    """A demo with a published weighted run and a draft rules run."""
    url = scratch_database("visitmap_test_runs_cli")
    engine = make_engine(url)
    try:
        upgrade(engine)
        load_reference_data(engine)
        demo_dir = tmp_path_factory.mktemp("runs_cli_demo")
        generate_demo(demo_dir, seed=4, scale=800, region="seodaemun", as_of=AS_OF)
        with session_scope(engine) as session:
            load_demo_files(session, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
        for method, publish in (("weighted", True), ("rules", False)):
            with session_scope(engine) as session:
                score_residents(
                    session, Scope.everything(), method=method, config=default_config(),
                    as_of=AS_OF, created_by="test", publish=publish,
                )  # fmt: skip
    finally:
        engine.dispose()
    return url


def _cli(monkeypatch, url, *args):
    monkeypatch.setenv("VISITMAP_DATABASE_URL", url)
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _score(url, *args) -> str:
    """``visitmap score ARGS`` in its own process, as a user runs it; its output."""
    return run(dict(os.environ, VISITMAP_DATABASE_URL=url), "score", *args).stdout


def _published(url) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text("SELECT id, published_by FROM score_runs ORDER BY id")
                ).all()
            ]
    finally:
        engine.dispose()


def test_runs_list_shows_published_and_draft_then_publish_switches(monkeypatch, runs_url):
    (first, _), (second, _) = _published(runs_url)
    listed = _cli(monkeypatch, runs_url, "runs", "list")
    assert listed.exit_code == 0, listed.output
    lines = {int(line.split()[0]): line for line in listed.output.splitlines()[1:]}
    assert lines[second].split()[3:5] == ["rules", "rules_default"]
    assert lines[second].endswith("draft") and "2026-11-01" in lines[second]
    assert "PUBLISHED" in lines[first] and "by test" in lines[first]

    published = _cli(monkeypatch, runs_url, "runs", "publish", str(second), "--by", "kim")
    assert published.exit_code == 0, published.output
    assert f"published score run {second} (was: {first})" in published.output
    assert _published(runs_url)[1] == (second, "kim")
    again = _cli(monkeypatch, runs_url, "runs", "publish", str(second))
    assert "is the published run already; nothing changed" in again.output
    listed = _cli(monkeypatch, runs_url, "runs", "list", "--json")
    rows = {row["id"]: row for row in json.loads(listed.output)}
    assert rows[second]["is_current"] and not rows[first]["is_current"]
    assert rows[first]["is_published"]

    unknown = CliRunner().invoke(main, ["runs", "publish", "999999"])
    assert unknown.exit_code == 1 and "score run 999999 does not exist" in unknown.output


def test_score_publish_and_unless_scored(runs_url):
    scored = _score(runs_url, "--as-of", "2026-11-01", "--publish", "--by", "a")
    new = int(scored.split()[2])
    assert "published: the map, the planner and the field pages use run" in scored
    assert _published(runs_url)[-1] == (new, "a")
    draft = _score(runs_url, "--as-of", "2026-11-01", "--no-progress")
    assert f"a draft: publish it with `visitmap runs publish {int(draft.split()[2])}`" in draft
    skipped = _score(runs_url, "--unless-scored", "--publish")
    assert "exists; not scoring again" in skipped
    assert f"published run: {new}" in skipped


def test_unless_scored_publishes_the_newest_run_when_none_is_published(runs_url):
    engine = make_engine(runs_url)
    with engine.begin() as conn:  # as if every run were a draft
        conn.execute(text("UPDATE score_runs SET published_at = NULL, published_by = NULL"))
        newest = conn.execute(text("SELECT max(id) FROM score_runs")).scalar_one()
    engine.dispose()
    skipped = _score(runs_url, "--unless-scored", "--publish", "--by", "demo")
    assert f"published run: {newest}" in skipped
    assert _published(runs_url)[-1] == (newest, "demo")
