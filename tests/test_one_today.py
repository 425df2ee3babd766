"""One "today" for the whole product, in Seoul's time zone (issue 12, point 8).

The app, the CLI, the demo generator, the benches and the notebooks take their day from
:func:`geo.settings.today_in_seoul`. A server on UTC is still on yesterday between 00:00 and
09:00 in Korea: a ``date.today()`` or a ``datetime.now()`` without a time zone anywhere would
date things a day early for those nine hours.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

import geo.settings
from geo.demo.generate import _validate
from geo.settings import today_in_seoul

ROOT = Path(__file__).resolve().parent.parent
#: The code whose days the product shows or stores (tests may use fixed dates as they like).
SOURCES = ("geo", "scoring", "sharing", "routing", "visitmap", "webmap", "bench", "scripts")
#: The machine's local day or time: date.today(), datetime.today(), datetime.now() with no
#: time zone, datetime.utcnow(), pandas' Timestamp.now()/today() with none, numpy's "today".
MACHINE_DAY = re.compile(
    r"\b(?:date|datetime)\.today\(\)|\b(?:datetime|Timestamp)\.(?:now|today)\(\s*\)"
    r"|\.utcnow\(\)|datetime64\(\s*[\"'](?:today|now)"
)


def _code_lines():
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                yield f"{path.relative_to(ROOT)}:{number}", line
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell_number, cell in enumerate(notebook["cells"]):
            if cell["cell_type"] != "code":
                continue
            for number, line in enumerate("".join(cell["source"]).splitlines(), 1):
                yield f"{path.relative_to(ROOT)}[cell {cell_number}]:{number}", line


def test_no_code_takes_the_machines_day():
    found = [
        f"{where}: {line.strip()}" for where, line in _code_lines() if MACHINE_DAY.search(line)
    ]
    assert not found, "use geo.settings.today_in_seoul():\n" + "\n".join(found)


def test_the_pattern_catches_what_it_must():
    for bad in (
        "dt.date.today()",
        "datetime.date.today()",
        "dt.datetime.now()",
        "dt.datetime.utcnow()",
        "pd.Timestamp.today()",
        "np.datetime64('today')",
    ):
        assert MACHINE_DAY.search(bad), bad
    for good in (
        "dt.datetime.now(SEOUL)",
        "today_in_seoul()",
        "dt.datetime.now(tz=UTC)",
        "server_default=func.now()",
        "pd.Timestamp.now(tz=SEOUL)",
    ):
        assert not MACHINE_DAY.search(good), good


class _FrozenDatetime(dt.datetime):
    """A datetime whose now() is 2026-12-04 23:30 UTC: 2026-12-05 08:30 in Seoul."""

    INSTANT = dt.datetime(2026, 12, 4, 23, 30, tzinfo=dt.UTC)

    @classmethod
    def now(cls, tz=None):
        if tz is None:  # the machine's local time, here UTC
            return cls.INSTANT.replace(tzinfo=None)
        return cls.INSTANT.astimezone(tz)


@pytest.fixture
def before_nine_in_seoul(monkeypatch):
    """The clock at 23:30 UTC, 08:30 the next day in Korea."""

    class FrozenModule:
        datetime = _FrozenDatetime
        date = dt.date
        timedelta = dt.timedelta

    monkeypatch.setattr(geo.settings, "dt", FrozenModule)
    return dt.date(2026, 12, 5)


def test_today_is_seouls_day_before_nine_in_the_morning(before_nine_in_seoul):
    assert _FrozenDatetime.now().date() == dt.date(2026, 12, 4)  # the UTC machine's day
    assert today_in_seoul() == before_nine_in_seoul


def test_the_demo_generator_defaults_to_seouls_day(before_nine_in_seoul):
    assert _validate(0, 100, "seodaemun", None) == before_nine_in_seoul


def test_the_app_defaults_to_seouls_day(before_nine_in_seoul):
    from flask import Flask

    from webmap.params import today

    app = Flask(__name__)
    with app.app_context():
        assert today() == before_nine_in_seoul
