"""`visitmap serve` never holds the registration-number key (issue #10 A4): it reads no key
file, refuses to start with the key in its environment, and, started as root, serves as the
unprivileged `visitmap-web`, which cannot read the key file or the database password file."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from geo.settings import PROJECT_ROOT, load_rrn_key, load_settings

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent
WEB_USER = "visitmap-web"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("VISITMAP_RRN_HMAC_KEY", None)  # conftest sets it for the suite
    return env | extra


@pytest.fixture
def var_dir():
    """A var directory anybody may enter (the key file's own mode is what protects it)."""
    path = Path(tempfile.mkdtemp(prefix="vm-serve-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _serve(env, port):
    return subprocess.Popen(
        [sys.executable, "-m", "visitmap.cli", "serve", "--port", str(port), "--threads", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_healthy(proc, port, seconds=90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"serve exited with {proc.returncode}:\n{out}\n{err}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("serve did not answer /healthz in time")


def _uids(pid: int) -> list[int]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return [int(v) for v in line.split()[1:]]
    raise AssertionError("no Uid line")


def test_serve_refuses_the_key_in_its_environment(database_url):
    env = _env(VISITMAP_DATABASE_URL=database_url, VISITMAP_RRN_HMAC_KEY="k" * 40)
    proc = _serve(env, _free_port())
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("serve started with VISITMAP_RRN_HMAC_KEY in its environment")
    assert proc.returncode != 0
    assert "VISITMAP_RRN_HMAC_KEY" in err and "unset it" in err


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_serve_started_as_root_runs_unprivileged_and_never_reads_the_key(
    database_url, reference_data, var_dir
):
    try:
        web = pwd.getpwnam(WEB_USER)
    except KeyError:
        pytest.fail(f"no user {WEB_USER}: scripts/system-deps.sh creates it")
    port = _free_port()
    proc = _serve(_env(VISITMAP_DATABASE_URL=database_url, VISITMAP_VAR_DIR=str(var_dir)), port)
    try:
        _wait_healthy(proc, port)  # /healthz queries the database: it connected
        assert _uids(proc.pid) == [web.pw_uid] * 4
        # the web service neither created nor read a key file
        key_file = var_dir / "rrn_hmac.key"
        assert not key_file.exists()
        # the import command's key file, as it makes it: the web user cannot read it
        load_rrn_key(load_settings({"VISITMAP_VAR_DIR": str(var_dir)}))
        assert key_file.exists()
        denied = subprocess.run(
            ["runuser", "-u", WEB_USER, "--", "cat", str(key_file)],
            capture_output=True,
            timeout=30,
        )
        assert denied.returncode != 0 and not denied.stdout
        # nor the database password file, which serve read before dropping privileges
        pgpass = Path(os.environ.get("PGPASSFILE") or PROJECT_ROOT / "var" / "pgpass")
        if pgpass.exists():
            denied = subprocess.run(
                ["runuser", "-u", WEB_USER, "--", "cat", str(pgpass)],
                capture_output=True,
                timeout=30,
            )
            assert denied.returncode != 0 and not denied.stdout
        # and it still serves pages and the database after dropping privileges
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


@pytest.mark.skipif(os.geteuid() == 0, reason="as root serve drops privileges (test above)")
def test_serve_as_a_user_reads_no_key(database_url, reference_data, var_dir):
    port = _free_port()
    proc = _serve(_env(VISITMAP_DATABASE_URL=database_url, VISITMAP_VAR_DIR=str(var_dir)), port)
    try:
        _wait_healthy(proc, port)
        assert not (var_dir / "rrn_hmac.key").exists()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
