"""The analysts' notebooks run headless on the demo data, with the service's own code."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from geo.db import make_engine
from geo.demo import generate_demo
from geo.demo_load import load_demo
from geo.migrate import upgrade
from scoring.config import load_config
from tests.conftest import TEST_RRN_KEY

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def notebook_env(scratch_database, tmp_path_factory):
    url = scratch_database("visitmap_test_notebooks")
    engine = make_engine(url)
    upgrade(engine)
    demo_dir = tmp_path_factory.mktemp("nb_demo")
    generate_demo(demo_dir, seed=4, scale=4000, region="seodaemun", as_of=AS_OF)
    load_demo(engine, demo_dir, rrn_key=TEST_RRN_KEY, progress=False)
    engine.dispose()
    out = tmp_path_factory.mktemp("nb_out")
    return {
        "VISITMAP_DATABASE_URL": url,
        "VISITMAP_NOTEBOOK_AS_OF": AS_OF.isoformat(),
        "VISITMAP_NOTEBOOK_OUT": str(out),
    }, out


def execute(name: str, env: dict[str, str]) -> nbformat.NotebookNode:
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment
    try:
        NotebookClient(
            notebook,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(ROOT)}},
        ).execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def _text(notebook) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join(parts)


def test_tune_weights_saves_a_loadable_configuration(notebook_env):
    env, out = notebook_env
    notebook = execute("tune_weights.ipynb", env)
    saved = load_config(out / "weighted_v1_tuned.toml")
    assert saved.version == "weighted_v1_tuned"
    assert (out / "high_share_by_dong.html").stat().st_size > 10_000
    text = _text(notebook)
    assert "roc_auc" in text and "with a visit outcome" in text


def test_compare_scorers_reports_all_three(notebook_env):
    env, out = notebook_env
    notebook = execute("compare_scorers.ipynb", env)
    report = (out / "scorer_comparison.md").read_text(encoding="utf-8")
    for scorer in ("weighted", "rules", "learned"):
        assert scorer in report
    assert "roc_auc" in _text(notebook) or "ROC" in report


@pytest.fixture(scope="module")
def export_env(notebook_env, tmp_path_factory):
    """The same demo as an analyst gets it (visitmap export analyst), and no database: the
    notebooks must not need one."""
    from click.testing import CliRunner

    from geo.db import session_scope
    from geo.scope import Scope
    from scoring.config import default_config
    from visitmap.analyst_cli import export
    from visitmap.usecases.scoring_runs import score_residents

    env, _ = notebook_env
    engine = make_engine(env["VISITMAP_DATABASE_URL"])
    with session_scope(engine) as session:  # the export holds a score run's features
        score_residents(
            session, Scope.everything(), method="weighted", config=default_config(),
            as_of=AS_OF, created_by="test", publish=True,
        )  # fmt: skip
    engine.dispose()
    folder = tmp_path_factory.mktemp("nb_export")
    old = os.environ.get("VISITMAP_DATABASE_URL")
    os.environ["VISITMAP_DATABASE_URL"] = env["VISITMAP_DATABASE_URL"]
    try:
        result = CliRunner().invoke(export, ["analyst", "--out", str(folder / "residents.csv")])
    finally:
        if old is None:
            os.environ.pop("VISITMAP_DATABASE_URL")
        else:
            os.environ["VISITMAP_DATABASE_URL"] = old
    assert result.exit_code == 0, result.output
    return env | {
        "VISITMAP_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "VISITMAP_NOTEBOOK_EXPORT": str(folder / "residents.csv"),
        "VISITMAP_NOTEBOOK_OUT": str(folder),
    }, folder


def test_the_notebooks_run_from_the_pseudonymised_export_alone(export_env):
    env, out = export_env
    tuned = _text(execute("tune_weights.ipynb", env))
    assert "roc_auc" in tuned and "with a visit outcome" in tuned
    assert load_config(out / "weighted_v1_tuned.toml").version == "weighted_v1_tuned"
    assert (out / "high_share_by_dong.html").stat().st_size > 10_000
    execute("compare_scorers.ipynb", env)
    report = (out / "scorer_comparison.md").read_text(encoding="utf-8")
    assert all(scorer in report for scorer in ("weighted", "rules", "learned"))


def _runs(url) -> list[tuple]:
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    text("SELECT config_version, published_at IS NOT NULL FROM score_runs")
                ).all()
            ]
    finally:
        engine.dispose()


def test_tune_weights_publishes_its_run_only_when_asked(notebook_env):
    """Run as the tests run it, the notebook stores nothing; asked, it scores and publishes."""
    env, _ = notebook_env
    before = _runs(env["VISITMAP_DATABASE_URL"])
    assert "not scored: set VISITMAP_NOTEBOOK_SCORE=1" in _text(execute("tune_weights.ipynb", env))
    assert _runs(env["VISITMAP_DATABASE_URL"]) == before
    text = _text(execute("tune_weights.ipynb", env | {"VISITMAP_NOTEBOOK_PUBLISH": "1"}))
    assert "published score run" in text
    after = _runs(env["VISITMAP_DATABASE_URL"])
    assert sorted(set(after) - set(before)) == [("weighted_v1_tuned", True)]


def test_blind_spots_walks_through_the_four_tools(notebook_env):
    """Issue 14: eligibility, hot spots, coverage and the time split, with the service's code."""
    env, out = notebook_env
    notebook = execute("blind_spots.ipynb", env)
    text = _text(notebook)
    assert "Refreshed(" in text and "HotspotRun(" in text and "BlindSpotRun(" in text
    assert "additive (monotone)" in text and "weighted_v1" in text
    assert (out / "hotspots.html").stat().st_size > 1_000
    per_dong = (out / "blind_spots_per_dong.csv").read_text(encoding="utf-8").splitlines()
    assert per_dong[0].startswith("code,name,people") and len(per_dong) > 1
    assert "roc_auc" in (out / "time_split.txt").read_text(encoding="utf-8")
