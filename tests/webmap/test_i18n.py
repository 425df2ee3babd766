"""Every text the web pages translate has a Korean translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

WEBMAP = Path(__file__).resolve().parents[2] / "webmap"
CALLS = re.compile(r"""(?:\b_|\bgettext)\(\s*(["'])(.+?)\1\s*\)""")


def test_every_message_of_the_pages_has_a_korean_translation():
    used = {
        match.group(2)
        for path in [*WEBMAP.glob("*.py"), *WEBMAP.glob("templates/*.html")]
        for match in CALLS.finditer(path.read_text(encoding="utf-8"))
    }
    assert "Welfare visit map" in used and len(used) > 20
    with (WEBMAP / "translations/ko/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po, locale="ko")
    translated = {m.id for m in catalog if m.id and m.string}
    assert sorted(used - translated) == []
