"""Settings from VISITMAP_ environment variables."""

from __future__ import annotations

import stat

import pytest

from geo.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_defaults_create_a_private_key_file_once(tmp_path):
    env = {"VISITMAP_VAR_DIR": str(tmp_path)}
    first = load_settings(env)
    key_file = tmp_path / "rrn_hmac.key"
    assert first.database_url == DEFAULT_DATABASE_URL
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.rrn_hmac_key) == 64
    assert load_settings(env).rrn_hmac_key == first.rrn_hmac_key


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
