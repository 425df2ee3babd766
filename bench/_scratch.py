"""What the benches share (not a bench itself: files named ``_*.py`` are helpers).

- scratch databases on the server of ``VISITMAP_DATABASE_URL`` (default: the project
  cluster), made afresh by the benches that write;
- the ``--tiny`` mode: a few hundred generated residents in a scratch database made for the
  run and dropped after it, so that ``tests/bench/test_benches.py`` can run every bench in
  seconds and no bench breaks unnoticed. Tiny figures say nothing about speed.

The scripts import it as ``_scratch`` (Python puts a script's own folder on ``sys.path``).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo.accounts import create_token, create_user, get_account
from geo.db import drop_database as drop_forced
from geo.db import make_engine, session_scope
from geo.demo import generate_demo
from geo.demo_load import DATA_DIR, load_demo
from geo.importers import import_file
from geo.migrate import upgrade
from geo.scope import Scope
from geo.settings import load_settings
from scoring.config import default_config
from visitmap.usecases.scoring_runs import score_residents

#: Residents in the tiny mode's demo (Seodaemun-gu, seed 7) and its reference date.
TINY_RESIDENTS = 200
TINY_AS_OF = dt.date(2026, 11, 1)
#: The database that ``--tiny`` makes and drops when none is named.
TINY_DATABASE = "visitmap_bench_tiny"


def database_url(name: str) -> str:
    """The URL of database ``name`` on the server of the settings' database."""
    url = make_url(load_settings().database_url).set(database=name)
    return url.render_as_string(False)


def _admin_engine():
    return make_engine(database_url("postgres"), isolation_level="AUTOCOMMIT")


def _scratch_only(name: str) -> None:
    """Refuse a name without ``bench`` in it, so that a slip of ``--database`` cannot wipe the
    demo or a city database."""
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: scratch names contain 'bench'")


def create_database(name: str) -> str:
    """Drop database ``name`` if it exists, create it empty, migrate it; returns its URL."""
    _scratch_only(name)
    admin = _admin_engine()
    with admin.connect() as conn:
        drop_forced(conn, name)
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = database_url(name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def drop_database(name: str) -> None:
    _scratch_only(name)
    admin = _admin_engine()
    with admin.connect() as conn:
        drop_forced(conn, name)
    admin.dispose()


def load_areas_and_facilities(url: str) -> None:
    """Seodaemun's areas and facilities: what a residents import needs (it computes each
    household's dong and service distances)."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        import_file(session, "areas", DATA_DIR / "seodaemun_admdong_2021.geojson")
        import_file(session, "facilities", DATA_DIR / "seodaemun_facilities.csv")
    engine.dispose()


def generate_residents(out_dir: Path, rows: int) -> Path:
    """The demo generator's files for ``rows`` Seodaemun residents (seed 7); returns the
    residents CSV."""
    generate_demo(out_dir, seed=7, scale=rows, region="seodaemun", as_of=TINY_AS_OF)
    return Path(out_dir) / "residents.csv"


@contextmanager
def tiny_database(name: str, *, score: bool = False) -> Iterator[str]:
    """A fresh database ``name`` holding the whole demo at :data:`TINY_RESIDENTS` residents
    (and one published weighted score run if ``score``); yields its URL and drops it afterwards."""
    url = create_database(name)
    try:
        settings = load_settings()
        engine = make_engine(url)
        with tempfile.TemporaryDirectory(prefix="visitmap-bench-") as workdir:
            generate_residents(Path(workdir), TINY_RESIDENTS)
            load_demo(engine, Path(workdir), rrn_key=settings.rrn_hmac_key, progress=False)
        if score:
            with session_scope(engine) as session:
                score_residents(
                    session,
                    Scope.everything(),
                    method="weighted",
                    config=default_config(),
                    as_of=TINY_AS_OF,
                    created_by="bench",
                    publish=True,
                )
        engine.dispose()
        yield url
    finally:
        drop_database(name)


@contextmanager
def bench_database(
    database: str | None, *, tiny: bool, score: bool = False, default: str = "visitmap_city"
) -> Iterator[str]:
    """The URL a bench measures: a tiny scratch database (made, then dropped) or ``database``."""
    if tiny:
        with tiny_database(database or TINY_DATABASE, score=score) as url:
            yield url
    else:
        yield database_url(database or default)


def leader_token(engine, username: str, label: str) -> tuple[str, int]:
    """Return an API token of ``username``, a leader of every dong made if missing, and its id.

    The benches that sign in with a token (tiles, map render) revoke it when they end.
    """
    with session_scope(engine) as session:
        if get_account(session, username=username) is None:
            create_user(
                session,
                username,
                display_name=label,
                roles=["leader"],
                password=None,
                all_areas=True,
            )
        token, info = create_token(session, username, f"{label} {time.time_ns()}")
    return token, info.id
