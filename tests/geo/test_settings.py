"""Settings from VISITMAP_ environment variables."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy.engine import make_url

from geo.settings import (
    DEFAULT_DATABASE_URL,
    SettingsError,
    default_pgpassfile,
    load_rrn_key,
    load_settings,
)


def test_loading_settings_reads_no_key_and_load_rrn_key_creates_a_private_file_once(tmp_path):
    env = {"VISITMAP_VAR_DIR": str(tmp_path)}
    first = load_settings(env)
    key_file = tmp_path / "rrn_hmac.key"
    assert first.database_url == DEFAULT_DATABASE_URL
    # settings alone (what the web service loads) neither read nor create the key
    assert not key_file.exists()
    key = load_rrn_key(first)
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key) == 64
    assert load_rrn_key(load_settings(env)) == key
    assert load_settings(env).rrn_hmac_key == key  # the property reads the same file


def test_key_file_is_read_only_when_asked_for(tmp_path):
    key_file = tmp_path / "elsewhere.key"
    key_file.write_text("x" * 10)  # too short: an error, but only once somebody reads it
    settings = load_settings(
        {"VISITMAP_VAR_DIR": str(tmp_path), "VISITMAP_RRN_HMAC_KEY_FILE": str(key_file)}
    )
    with pytest.raises(SettingsError, match="at least 32"):
        load_rrn_key(settings)


def test_default_database_url_is_the_application_role_without_password():
    url = make_url(DEFAULT_DATABASE_URL)
    assert url.username == "visitmap" and url.password is None


def test_default_pgpassfile(tmp_path):
    assert default_pgpassfile({"PGPASSFILE": "/x"}) is None  # libpq reads it itself
    named = tmp_path / "pgpass"
    assert default_pgpassfile({"VISITMAP_PGPASSFILE": str(named)}) == named


def test_environment_overrides(tmp_path):
    settings = load_settings(
        {
            "VISITMAP_DATABASE_URL": "postgresql://u:secret@db.example:5432/x",
            "VISITMAP_RRN_HMAC_KEY": "k" * 40,
            "VISITMAP_VAR_DIR": str(tmp_path),
        }
    )
    assert settings.database_url == "postgresql+psycopg://u:secret@db.example:5432/x"
    assert settings.rrn_hmac_key == b"k" * 40
    assert "rrn_hmac_key" not in repr(settings)  # the key never shows in logs
    assert "k" * 40 not in repr(settings)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"VISITMAP_DATABASE_URL": "sqlite:///x.db"}, "postgresql"),
        ({"VISITMAP_RRN_HMAC_KEY": "short"}, "at least 32"),
    ],
)
def test_bad_settings_are_named(tmp_path, env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({"VISITMAP_VAR_DIR": str(tmp_path), **env})


def test_follow_up_settings(tmp_path):
    env = {"VISITMAP_VAR_DIR": str(tmp_path)}
    default = load_settings(env).follow_up()
    assert (default.retry_days, default.attempt_gap_days) == (30, 7)
    changed = load_settings(
        env | {"VISITMAP_UNREACHABLE_RETRY_DAYS": "14", "VISITMAP_ATTEMPT_GAP_DAYS": "3"}
    ).follow_up()
    assert (changed.retry_days, changed.attempt_gap_days) == (14, 3)
    with pytest.raises(SettingsError, match="ATTEMPT_GAP_DAYS"):
        load_settings(env | {"VISITMAP_ATTEMPT_GAP_DAYS": "0"})
