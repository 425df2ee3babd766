"""Messages say what a value should look like, in the user's terms."""

from __future__ import annotations

import pytest

from geo.importers import ImportValidationError, import_file

pytestmark = pytest.mark.db


def test_pattern_errors_describe_the_expected_value(db, tmp_path):
    path = tmp_path / "teams.csv"
    path.write_text("team_id,name,adm_cd2s\nT1,팀,11410520\nT 2,팀,1141052000\n", encoding="utf-8")
    with pytest.raises(ImportValidationError) as info:
        import_file(db, "teams", path)
    messages = {(p.row, p.column): p.reason for p in info.value.problems}
    assert "|-separated area codes" in messages[(2, "adm_cd2s")]
    assert "an id: letters, digits" in messages[(3, "team_id")]
