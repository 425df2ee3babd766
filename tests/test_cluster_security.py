"""The project cluster (scripts/pgcluster.sh): durable commits and password authentication
for the application's own role (issue #10 A2, A5)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from geo.db import project_pgpassfile_for

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent
PGBIN = Path(os.environ.get("VISITMAP_PGBIN", "/usr/lib/postgresql/15/bin"))
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not (PGBIN / "initdb").exists(),
    reason="makes its own cluster as the postgres user: needs root and PostgreSQL 15",
)


def project_cluster(database_url: str):
    """The test database's URL, as the application role, if it is on the project cluster
    (127.0.0.1, port VISITMAP_PGPORT or 54329); skip otherwise (another server is the
    operator's to configure)."""
    url = make_url(database_url)
    port = int(os.environ.get("VISITMAP_PGPORT") or 54329)
    if url.host not in ("127.0.0.1", "localhost") or (url.port or 5432) != port:
        pytest.skip(f"the test database {url.host}:{url.port} is not the project cluster")
    return url.set(username="visitmap", password=None)


def conninfo(url, **changes) -> str:
    return url.set(drivername="postgresql", **changes).render_as_string(hide_password=False)


def passfile_for(url) -> str:
    found = project_pgpassfile_for(url.render_as_string(False)) or os.environ.get("PGPASSFILE")
    assert found, "no password file for the project cluster (var/pgpass or PGPASSFILE)"
    return str(found)


def test_commits_are_durable(engine):
    """A commit is acknowledged only once it is on disk: what an import or a score run
    reports as written survives a crash."""
    with engine.connect() as conn:
        settings = dict(
            conn.exec_driver_sql(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('synchronous_commit', 'fsync', 'full_page_writes')"
            ).all()
        )
    assert settings == {"synchronous_commit": "on", "fsync": "on", "full_page_writes": "on"}


def test_the_cluster_script_sets_no_asynchronous_commit():
    lines = (ROOT / "scripts" / "pgcluster.sh").read_text().splitlines()
    assert not [line for line in lines if line.strip().startswith("synchronous_commit = off")]


def test_only_the_application_role_with_its_password_gets_in(engine, database_url, tmp_path):
    url = project_cluster(database_url)
    empty = tmp_path / "empty-pgpass"
    empty.write_text("")
    empty.chmod(0o600)
    # the superuser over TCP: refused, with or without the password file
    for passfile in (str(empty), passfile_for(url)):
        with pytest.raises(psycopg.OperationalError, match="postgres"):
            psycopg.connect(conninfo(url, username="postgres"), passfile=passfile).close()
    # the application role without its password: refused
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(conninfo(url), passfile=str(empty)).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(conninfo(url, password="not-the-password"), passfile=str(empty)).close()
    # with the password file: in, and not a superuser
    with psycopg.connect(conninfo(url), passfile=passfile_for(url)) as conn:
        row = conn.execute(
            "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb,"
            " (SELECT datdba::regrole::text FROM pg_database WHERE datname = current_database())"
            " FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        method = conn.execute("SHOW password_encryption").fetchone()[0]
    assert row == ("visitmap", False, False, True, "visitmap")
    assert method == "scram-sha-256"


def test_the_password_file_is_private(database_url):
    path = Path(passfile_for(project_cluster(database_url)))
    assert path.stat().st_mode & 0o077 == 0
    assert path.stat().st_uid == os.geteuid()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args, **kwargs):
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


@needs_root
def test_a_cluster_made_by_the_old_script_is_migrated_on_start():
    """A cluster from an earlier session (trust for everyone, synchronous_commit = off, no
    socket, a database and a table owned by the superuser), running: `pgcluster.sh start`
    makes it durable, password-protected, and hands the database to the application role."""
    base = Path(tempfile.mkdtemp(prefix="vm-pgmig-", dir="/var/tmp"))
    base.chmod(0o755)
    data = base / "pg" / "data"
    data.parent.mkdir()
    shutil.chown(data.parent, "postgres")
    port = _free_port()
    env = dict(
        os.environ,
        VISITMAP_PGDATA=str(data),
        VISITMAP_PGPORT=str(port),
        VISITMAP_PGPASSFILE=str(base / "pgpass"),
    )
    script = ROOT / "scripts" / "pgcluster.sh"
    try:
        _as_postgres(PGBIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
        with (data / "postgresql.conf").open("a") as conf:  # what the old script appended
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                "unix_socket_directories = ''\nsynchronous_commit = off\n"
            )
        _as_postgres(PGBIN / "pg_ctl", "-D", data, "-l", base / "pg" / "log", "-w", "start")
        old = f"host=127.0.0.1 port={port} user=postgres"
        with psycopg.connect(f"{old} dbname=postgres", autocommit=True) as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "off"
            conn.execute("CREATE DATABASE olddb")
        with psycopg.connect(f"{old} dbname=olddb") as conn:
            conn.execute("CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE t (id serial, m mood)")

        result = subprocess.run(
            [script, "start"], env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        assert "handing database olddb over" in result.stdout

        with pytest.raises(psycopg.OperationalError, match="rejects"):
            psycopg.connect(f"{old} dbname=postgres").close()
        app = f"host=127.0.0.1 port={port} user=visitmap dbname=olddb"
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(app, passfile="/nonexistent").close()
        with psycopg.connect(app, passfile=str(base / "pgpass")) as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"
            conn.execute("INSERT INTO t (m) VALUES ('ok')")
            conn.execute("ALTER TABLE t ADD COLUMN note text")  # it owns the table now
            assert conn.execute("SELECT postgis_lib_version()").fetchone()[0]
            assert not conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()[0]
        # a second start changes nothing and keeps the password
        password_file = (base / "pgpass").read_text()
        again = subprocess.run(
            [script, "start"], env=env, capture_output=True, text=True, timeout=300
        )
        assert again.returncode == 0, again.stderr
        assert "handing" not in again.stdout
        assert (base / "pgpass").read_text() == password_file
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)
