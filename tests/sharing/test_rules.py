"""The shared support rules on hand-built frames, at the edges of every window."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sharing import rules
from sharing.config import load_warning_config

CONFIG = load_warning_config()
TODAY = dt.date(2026, 6, 30)
D0 = pd.Timestamp("2026-06-01")


def residents(*ids, links=None):
    links = links or {}
    return pd.DataFrame(
        {
            "resident_id": list(ids),
            "person_id": [links.get(i, i) for i in ids],
            "household_id": [100 + i for i in ids],
            "area_id": [7] * len(ids),
        }
    )


def records(rows):
    """rows: (record_id, resident_id, provider_id, minor, day offset from D0[, need_id])."""
    frame = pd.DataFrame(
        [(*r[:5], r[5] if len(r) > 5 else np.nan) for r in rows],
        columns=["record_id", "resident_id", "provider_id", "minor_category", "day", "need_id"],
    )
    frame["provided_on"] = D0 + pd.to_timedelta(frame.pop("day"), unit="D")
    frame["category"] = "daily_living"
    return frame


def kinds(frame):
    return sorted(frame["kind"])


# ------------------------------------------------------------------ duplicates (rice: 14 days)


@pytest.mark.parametrize(("gap", "expected"), [(14, ["duplicate"]), (15, ["near_duplicate"])])
def test_duplicate_window_edge(gap, expected):
    found = rules.duplicates(
        records([(1, 1, 10, "rice", 0), (2, 1, 11, "rice", gap)]), residents(1), CONFIG
    )
    assert kinds(found) == expected
    assert found.iloc[0]["record_ids"] == [1, 2]
    assert found.iloc[0]["provider_ids"] == [10, 11]


@pytest.mark.parametrize(("gap", "expected"), [(21, ["near_duplicate"]), (22, [])])
def test_near_duplicate_edge(gap, expected):
    # factor 1.5 x 14 days = 21 days
    found = rules.duplicates(
        records([(1, 1, 10, "rice", 0), (2, 1, 11, "rice", gap)]), residents(1), CONFIG
    )
    assert kinds(found) == expected


def test_same_provider_or_other_minor_or_other_person_is_no_duplicate():
    found = rules.duplicates(
        records(
            [
                (1, 1, 10, "rice", 0),
                (2, 1, 10, "rice", 1),  # same provider
                (3, 1, 11, "side_dishes", 2),  # other minor
                (4, 2, 12, "rice", 3),  # other person
            ]
        ),
        residents(1, 2),
        CONFIG,
    )
    assert found.empty


def test_three_providers_make_one_warning_and_recurring_records_outside_stay_out():
    found = rules.duplicates(
        records(
            [
                (1, 1, 10, "rice", 0),
                (2, 1, 10, "rice", 30),
                (3, 1, 11, "rice", 32),
                (4, 1, 12, "rice", 35),
                (5, 1, 10, "rice", 60),
            ]
        ),
        residents(1),
        CONFIG,
    )
    assert kinds(found) == ["duplicate"]
    row = found.iloc[0]
    assert row["record_ids"] == [2, 3, 4]
    assert row["provider_ids"] == [10, 11, 12]
    assert row["since"] == (D0 + pd.Timedelta(days=32)).date()
    assert row["level"] == "red" and row["area_id"] == 7


def test_linked_rows_are_one_person():
    frame = records([(1, 1, 10, "rice", 0), (2, 2, 11, "rice", 5)])
    assert rules.duplicates(frame, residents(1, 2), CONFIG).empty
    found = rules.duplicates(frame, residents(1, 2, links={2: 1}), CONFIG)
    assert kinds(found) == ["duplicate"]
    assert found.iloc[0]["resident_id"] == 1
    assert found.iloc[0]["detail"]["resident_ids"] == [1, 2]


def test_default_window_applies_to_unlisted_minor():
    # medicine is not listed: default 30 days
    inside = records([(1, 1, 10, "medicine", 0), (2, 1, 11, "medicine", 30)])
    outside = records([(1, 1, 10, "medicine", 0), (2, 1, 11, "medicine", 31)])
    assert kinds(rules.duplicates(inside, residents(1), CONFIG)) == ["duplicate"]
    assert kinds(rules.duplicates(outside, residents(1), CONFIG)) == ["near_duplicate"]


def holiday_records(first: str, second: str):
    frame = records([(1, 1, 10, "holiday_parcel", 0), (2, 1, 11, "holiday_parcel", 0)])
    frame["provided_on"] = pd.to_datetime([first, second])
    return frame


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # 추석 2026-09-25: season 2026-09-04 .. 2026-10-09
        ("2026-09-04", "2026-10-09", ["duplicate"]),  # both edges in
        ("2026-09-03", "2026-10-09", []),  # one day before the season
        ("2026-09-04", "2026-10-10", []),  # one day after the season
        ("2026-02-17", "2026-09-25", []),  # 설날 and 추석: two seasons
    ],
)
def test_holiday_season(first, second, expected):
    found = rules.duplicates(holiday_records(first, second), residents(1), CONFIG)
    assert kinds(found) == expected
    if expected:
        assert found.iloc[0]["record_ids"] == [1, 2]
        assert found.iloc[0]["detail"]["season"] is True


# ------------------------------------------------------------------ open needs (30 days, 7)


def needs(age: int, status="open", need_id=5, category="daily_living"):
    return pd.DataFrame(
        {
            "need_id": [need_id],
            "resident_id": [1],
            "category": [category],
            "status": [status],
            "identified_on": [pd.Timestamp(TODAY) - pd.Timedelta(days=age)],
        }
    )


NO_RECORDS = records([])


@pytest.mark.parametrize(
    ("age", "expected"),
    [(22, []), (23, ["need_due_soon"]), (30, ["need_due_soon"]), (31, ["open_need"])],
)
def test_open_need_edges(age, expected):
    found = rules.open_needs(needs(age), NO_RECORDS, residents(1), CONFIG, TODAY)
    assert kinds(found) == expected
    if expected:
        assert found.iloc[0]["need_id"] == 5


def test_need_met_by_named_record_or_domain_support_after_it():
    identified = pd.Timestamp(TODAY) - pd.Timedelta(days=40)
    named = records([(1, 1, 10, "rice", 0, 5)])
    named["provided_on"] = identified - pd.Timedelta(days=3)  # named: counts whenever given
    assert rules.open_needs(needs(40), named, residents(1), CONFIG, TODAY).empty
    domain = records([(1, 1, 10, "rice", 0)])
    domain["provided_on"] = identified  # same day counts
    assert rules.open_needs(needs(40), domain, residents(1), CONFIG, TODAY).empty
    domain["provided_on"] = identified - pd.Timedelta(days=1)  # the day before does not
    assert kinds(rules.open_needs(needs(40), domain, residents(1), CONFIG, TODAY)) == ["open_need"]
    other = records([(1, 1, 10, "rice", 0)]).assign(category="health", provided_on=identified)
    assert kinds(rules.open_needs(needs(40), other, residents(1), CONFIG, TODAY)) == ["open_need"]
    assert rules.open_needs(needs(40, status="met"), NO_RECORDS, residents(1), CONFIG, TODAY).empty


# ------------------------------------------------------------------ unserved crisis (6 months)


def crisis_frames(observed: str, tier=2):
    crisis = pd.DataFrame({"resident_id": [1], "observed_on": [pd.Timestamp(observed)]})
    tiers = pd.DataFrame({"resident_id": [1], "tier": [tier]})
    return crisis, tiers


NO_VISITS = pd.DataFrame(
    {
        "resident_id": pd.Series(dtype="int64"),
        "visited_on": pd.Series(dtype="datetime64[ns]"),
        "outcome": pd.Series(dtype=object),
    }
)


@pytest.mark.parametrize(
    ("observed", "expected"),
    [("2025-12-30", ["unserved_crisis"]), ("2025-12-29", []), ("2026-07-01", [])],
)
def test_unserved_crisis_six_months_edge(observed, expected):
    crisis, tiers = crisis_frames(observed)
    found = rules.unserved_crisis(crisis, tiers, NO_RECORDS, NO_VISITS, residents(1), CONFIG, TODAY)
    assert kinds(found) == expected


def test_unserved_crisis_needs_high_tier_and_nothing_since():
    crisis, tiers = crisis_frames("2026-05-01", tier=1)
    assert rules.unserved_crisis(
        crisis, tiers, NO_RECORDS, NO_VISITS, residents(1), CONFIG, TODAY
    ).empty
    crisis, tiers = crisis_frames("2026-05-01")
    support = records([(1, 1, 10, "rice", 0)]).assign(provided_on=pd.Timestamp("2026-05-01"))
    assert rules.unserved_crisis(
        crisis, tiers, support, NO_VISITS, residents(1), CONFIG, TODAY
    ).empty
    before = support.assign(provided_on=pd.Timestamp("2026-04-30"))
    assert kinds(
        rules.unserved_crisis(crisis, tiers, before, NO_VISITS, residents(1), CONFIG, TODAY)
    ) == ["unserved_crisis"]
    for outcome, served in (("met", True), ("not_home", False)):
        visits = pd.DataFrame(
            {"resident_id": [1], "visited_on": [pd.Timestamp("2026-05-02")], "outcome": [outcome]}
        )
        found = rules.unserved_crisis(
            crisis, tiers, NO_RECORDS, visits, residents(1), CONFIG, TODAY
        )
        assert found.empty is served


# ------------------------------------------------------------------ sponsorships (30 days)

HOUSEHOLDS = pd.DataFrame({"household_id": [101], "area_id": [7]})


def sponsorship(starts: str, ends: str, successor=np.nan):
    return pd.DataFrame(
        {
            "sponsorship_id": [9],
            "household_id": [101],
            "centre_id": [20],
            "starts_on": [pd.Timestamp(starts)],
            "ends_on": [pd.Timestamp(ends)],
            "successor_id": [successor],
        }
    )


def payments(*months):
    return pd.DataFrame(
        {"sponsorship_id": [9] * len(months), "month": pd.to_datetime(list(months))}
    )


@pytest.mark.parametrize(
    ("ends", "successor", "expected"),
    [
        ("2026-07-30", np.nan, ["sponsorship_ending"]),  # today + 30
        ("2026-07-31", np.nan, []),  # today + 31
        ("2026-06-30", np.nan, ["sponsorship_ending"]),  # today
        ("2026-07-10", 10, []),  # a successor
    ],
)
def test_sponsorship_ending_edges(ends, successor, expected):
    found = rules.sponsorship_warnings(
        sponsorship("2026-06-01", ends, successor), payments(), HOUSEHOLDS, CONFIG, TODAY
    )
    assert kinds(found) == expected


def test_sponsorship_unpaid_months():
    all_paid = payments("2026-03-01", "2026-04-01", "2026-05-01")
    found = rules.sponsorship_warnings(
        sponsorship("2026-03-15", "2027-03-14"), all_paid, HOUSEHOLDS, CONFIG, TODAY
    )
    assert found.empty  # June, the month of today, is not yet due
    found = rules.sponsorship_warnings(
        sponsorship("2026-03-15", "2027-03-14"),
        payments("2026-03-01", "2026-05-01"),
        HOUSEHOLDS,
        CONFIG,
        TODAY,
    )
    assert kinds(found) == ["sponsorship_unpaid"]
    assert found.iloc[0]["detail"]["months"] == ["2026-04-01"]
    assert found.iloc[0]["sponsorship_id"] == 9
    ended = rules.sponsorship_warnings(
        sponsorship("2025-01-01", "2026-06-29"), payments(), HOUSEHOLDS, CONFIG, TODAY
    )
    assert ended.empty  # no longer active


# ------------------------------------------------------------------ stock (14 days)


def stock(expires: str | None, *moves):
    rows = moves or (("received", 10.0),)
    return pd.DataFrame(
        {
            "centre_id": [20] * len(rows),
            "centre_area_id": [7] * len(rows),
            "kind": [k for k, _ in rows],
            "minor_category": ["rice"] * len(rows),
            "item": ["쌀 10kg"] * len(rows),
            "unit": ["포"] * len(rows),
            "quantity": [q for _, q in rows],
            "expires_on": [pd.Timestamp(expires) if expires else pd.NaT] * len(rows),
        }
    )


@pytest.mark.parametrize(
    ("expires", "expected"),
    [
        ("2026-06-29", ["stock_expired"]),
        ("2026-06-30", ["stock_expiring"]),
        ("2026-07-14", ["stock_expiring"]),
        ("2026-07-15", []),
        (None, []),
    ],
)
def test_stock_edges(expires, expected):
    assert kinds(rules.stock_warnings(stock(expires), CONFIG, TODAY)) == expected


def test_stock_is_the_signed_sum():
    gone = stock(
        "2026-07-01",
        ("received", 10.0),
        ("issued", 4.0),
        ("transferred_out", 5.0),
        ("transferred_in", 2.0),
        ("expired", 2.0),
        ("adjusted", -1.0),
    )
    assert rules.stock_warnings(gone, CONFIG, TODAY).empty
    left = stock("2026-07-01", ("received", 10.0), ("issued", 9.0))
    found = rules.stock_warnings(left, CONFIG, TODAY)
    assert kinds(found) == ["stock_expiring"]
    assert found.iloc[0]["detail"]["quantity"] == 1.0
    assert found.iloc[0]["provider_ids"] == [20]


def test_holiday_dates_are_checked(tmp_path):
    from sharing.config import DEFAULT_CONFIG_PATH, WarningConfigError

    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("2022-02-01,", '"설날",'), encoding="utf-8")
    with pytest.raises(WarningConfigError) as error:
        load_warning_config(bad)
    assert error.value.field == "holiday_seasons.dates"
    assert "bad.toml" in str(error.value)
    assert CONFIG.holidays[0] == dt.date(2022, 2, 1) and len(CONFIG.holidays) == 18
