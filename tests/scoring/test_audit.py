"""Tier audit: shares by dong and by age band, by hand and summing to 1 per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.audit import AuditError, age_bands, audit_tiers, tier_shares


def test_shares_by_hand():
    # Dong A: tiers 2, 2, 0 -> low 1/3, medium 0, high 2/3.
    # Dong B: tiers 1, 0, 0 -> low 2/3, medium 1/3, high 0.
    # Overall: low 3/6, medium 1/6, high 2/6; lift of high in A = (2/3) / (1/3) = 2.
    shares = tier_shares([2, 2, 0, 1, 0, 0], ["A", "A", "A", "B", "B", "B"], name="adm_cd2")
    assert list(shares.columns) == [
        "adm_cd2",
        "tier",
        "tier_name",
        "n",
        "n_group",
        "share",
        "overall_share",
        "lift",
    ]
    assert shares["adm_cd2"].tolist() == ["A"] * 3 + ["B"] * 3
    assert shares["tier"].tolist() == [0, 1, 2, 0, 1, 2]
    assert shares["tier_name"].tolist() == ["low", "medium", "high"] * 2
    assert shares["n"].tolist() == [1, 0, 2, 2, 1, 0]
    np.testing.assert_allclose(shares["share"], [1 / 3, 0, 2 / 3, 2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(shares["overall_share"], [1 / 2, 1 / 6, 1 / 3] * 2)
    np.testing.assert_allclose(shares["lift"], [2 / 3, 0, 2, 4 / 3, 2, 0])


def test_age_band_boundaries():
    bands = age_bands([0, 39, 39.9, 40, 64, 64.99, 65, 79, 80, 110])
    assert list(bands) == [
        "<40",
        "<40",
        "<40",
        "40-64",
        "40-64",
        "40-64",
        "65-79",
        "65-79",
        "80+",
        "80+",
    ]
    assert bands.ordered
    with pytest.raises(AuditError, match="outside"):
        age_bands([-1])
    with pytest.raises(AuditError, match="missing"):
        age_bands([np.nan])


def test_audit_shares_sum_to_one_per_group():
    rng = np.random.default_rng(0)
    n = 2000
    index = pd.Index([f"R-{i}" for i in range(n)])
    tiers = pd.Series(rng.choice([0, 1, 2], n, p=[0.8, 0.15, 0.05]), index=index)
    dongs = pd.Series(rng.choice(["1141052000", "1141055500", "1141056500"], n), index=index)
    ages = pd.Series(rng.integers(0, 100, n), index=index)
    audit = audit_tiers(tiers, adm_cd2=dongs, age_years=ages)
    for table, column in ((audit.by_dong, "adm_cd2"), (audit.by_age_band, "age_band")):
        sums = table.groupby(column, observed=True)["share"].sum()
        np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-12)
        assert table.groupby(column, observed=True)["n"].sum().sum() == n
    assert [str(b) for b in audit.by_age_band["age_band"].unique()] == [
        "<40",
        "40-64",
        "65-79",
        "80+",
    ]


def test_high_tier_concentrated_in_the_old_shows_in_the_lift():
    ages = [30, 35, 50, 55, 85, 90]
    tiers = [0, 0, 0, 0, 2, 2]
    by_band = audit_tiers(tiers, adm_cd2=["A"] * 6, age_years=ages).by_age_band
    high = by_band[by_band["tier"] == 2].set_index("age_band")
    # 80+: both high -> share 1, overall 2/6 -> lift 3. Empty bands (65-79) are left out.
    assert high.loc["80+", "share"] == 1.0
    assert high.loc["80+", "lift"] == pytest.approx(3.0)
    assert high.loc["<40", "lift"] == 0.0
    assert "65-79" not in set(by_band["age_band"].astype(str))


def test_series_are_aligned_by_index():
    tiers = pd.Series([2, 0], index=["x", "y"])
    dongs = pd.Series(["B", "A"], index=["y", "x"])
    shares = tier_shares(tiers, dongs, name="adm_cd2")
    assert shares.loc[(shares["adm_cd2"] == "A") & (shares["tier"] == 2), "n"].item() == 1


def test_rejections():
    with pytest.raises(AuditError, match="one value per tier"):
        tier_shares([0, 1], ["A"])
    with pytest.raises(AuditError, match="0 \\(low\\)"):
        tier_shares([3], ["A"])
    with pytest.raises(AuditError, match="have no adm_cd2"):
        tier_shares([0, 1], ["A", None], name="adm_cd2")
    with pytest.raises(AuditError, match="lacks 1 resident"):
        tier_shares(pd.Series([0, 1], index=["x", "y"]), pd.Series(["A", "B"], index=["x", "z"]))
