"""The shared support warnings' rules: pandas frames in, one frame of warnings out (pure).

Every rule is vectorised (sorts, group shifts and merges; no Python loop over records) so that
the whole district's 569,010 support records are checked in seconds. The frames are loaded by
``geo.support_warnings`` and the rules never see SQL; docs/support_warnings.md states each
rule with its edges. Dates are ``datetime64[ns]`` columns; ``today`` is a ``datetime.date``.

Input frames (column: meaning)
------------------------------
residents
    ``resident_id``, ``person_id`` (the smallest resident id of the person, from
    ``sharing.linkage``; the resident's own id when not linked), ``household_id``,
    ``area_id``.
records
    ``record_id``, ``resident_id``, ``provider_id``, ``minor_category``, ``category`` (the
    need domain), ``provided_on``, ``need_id`` (NaN when none).
needs
    ``need_id``, ``resident_id``, ``category``, ``status``, ``identified_on``.
crisis
    ``resident_id``, ``observed_on`` (household signals already given to each member).
tiers
    ``resident_id``, ``tier`` of the published score run (2 = high).
visits
    ``resident_id``, ``visited_on``, ``outcome``.
sponsorships
    ``sponsorship_id``, ``household_id``, ``centre_id``, ``starts_on``, ``ends_on``,
    ``successor_id``; payments: ``sponsorship_id``, ``month`` (first day).
stock
    ``centre_id``, ``centre_area_id``, ``kind``, ``minor_category``, ``item``, ``unit``,
    ``quantity``, ``expires_on``.

Length: one function per rule family plus the frame they share; kept together so the rules
and their edges read in one place (over 400 lines).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sharing.config import SEASON, WarningConfig
from visitmap.vocab import WARNING_KINDS

#: The columns of the frame every rule returns (the ``support_warnings`` table's, minus ids).
WARNING_COLUMNS = (
    "kind",
    "level",
    "resident_id",
    "household_id",
    "area_id",
    "provider_ids",
    "record_ids",
    "need_id",
    "sponsorship_id",
    "minor_category",
    "since",
    "detail",
)
#: Visit outcomes that count as meeting the resident (a face-to-face visit).
MET_OUTCOMES = ("met", "crisis_confirmed")
#: Need statuses still waiting for support.
OPEN_STATUSES = ("open", "in_progress")
#: The sign of each stock movement kind (``adjusted`` keeps its own sign).
STOCK_SIGNS = {
    "received": 1,
    "transferred_in": 1,
    "issued": -1,
    "transferred_out": -1,
    "expired": -1,
    "adjusted": 1,
}
HIGH_TIER = 2
_DAY = np.timedelta64(1, "D")


def empty_warnings() -> pd.DataFrame:
    """Return an empty warnings frame with :data:`WARNING_COLUMNS`."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in WARNING_COLUMNS})


def _finish(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    frame = frame.assign(kind=kind, level=WARNING_KINDS[kind][0])
    for column in WARNING_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame.loc[:, list(WARNING_COLUMNS)].reset_index(drop=True)


def _ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def _days(delta: pd.Series) -> pd.Series:
    return delta / _DAY


def with_persons(records: pd.DataFrame, residents: pd.DataFrame) -> pd.DataFrame:
    """Return ``records`` with the ``person_id`` and ``area_id`` of their resident."""
    people = residents.loc[:, ["resident_id", "person_id", "area_id"]]
    return records.merge(people, on="resident_id", how="inner", validate="many_to_one")


# ------------------------------------------------------------------------------ duplicates


def _season_of(dates: pd.Series, config: WarningConfig) -> pd.Series:
    """Return the index of the holiday season each date falls in (-1 outside every season)."""
    holidays = np.array(config.holidays, dtype="datetime64[ns]")
    if len(holidays) == 0:
        return pd.Series(-1, index=dates.index)
    values = dates.to_numpy(dtype="datetime64[ns]")
    # the first holiday on or after date - after; the date is in its season if not too early
    position = np.searchsorted(holidays, values - np.timedelta64(config.season_after, "D"))
    inside = position < len(holidays)
    clipped = np.minimum(position, len(holidays) - 1)
    start = holidays[clipped] - np.timedelta64(config.season_before, "D")
    inside &= values >= start
    return pd.Series(np.where(inside, clipped, -1), index=dates.index)


def _nearest_other_provider(frame: pd.DataFrame) -> pd.Series:
    """Return the days from each record to the nearest other provider's (same person, minor).

    ``frame`` is sorted by person, minor, date, provider. Within a group the nearest earlier
    record of another provider is the last record of the previous run of one provider, and
    the nearest later one the first record of the next run.
    """
    group = frame["person_id"].ne(frame["person_id"].shift()) | frame["minor_category"].ne(
        frame["minor_category"].shift()
    )
    run = group | frame["provider_id"].ne(frame["provider_id"].shift())
    run_id = run.cumsum()
    dates = frame["provided_on"]
    runs = pd.DataFrame({"group": group.cumsum(), "on": dates}).groupby(run_id.to_numpy())
    runs = runs.agg(group=("group", "first"), first=("on", "min"), last=("on", "max"))
    previous_last = runs["last"].shift().where(runs["group"].eq(runs["group"].shift()))
    next_first = runs["first"].shift(-1).where(runs["group"].eq(runs["group"].shift(-1)))
    before = _days(dates - previous_last.reindex(run_id.to_numpy()).to_numpy())
    after = _days(next_first.reindex(run_id.to_numpy()).to_numpy() - dates)
    return pd.concat([before, after], axis=1).min(axis=1)


def _lists(keys: pd.Series, values: pd.Series) -> pd.Series:
    """Return the ``values`` of each key as a list of ints, by key (``keys`` sorted)."""
    keys, values = keys.to_numpy(), values.to_numpy().astype("int64")
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return pd.Series([a.tolist() for a in np.split(values, starts[1:])], index=keys[starts])


def _components(frame: pd.DataFrame, gap: pd.Series, kind: str) -> pd.DataFrame:
    """Group flagged records of one person and minor into warnings, chaining by ``gap`` days.

    ``frame`` is sorted by person, minor, date; a new warning starts at a new person or minor,
    or when a record is more than its ``gap`` days after the previous flagged one.
    """
    if frame.empty:
        return empty_warnings()
    new = (
        frame["person_id"].ne(frame["person_id"].shift())
        | frame["minor_category"].ne(frame["minor_category"].shift())
        | _days(frame["provided_on"] - frame["provided_on"].shift()).gt(gap)
    )
    frame = frame.assign(component=new.cumsum())
    grouped = frame.groupby("component", sort=False)
    out = grouped.agg(
        resident_id=("person_id", "first"),
        area_id=("area_id", "first"),
        minor_category=("minor_category", "first"),
        first_on=("provided_on", "min"),
        last_on=("provided_on", "max"),
    )
    by_record = frame.sort_values(["component", "record_id"], kind="stable")
    out["record_ids"] = _lists(by_record["component"], by_record["record_id"])
    pairs = frame.loc[:, ["component", "provider_id", "provided_on", "resident_id"]]
    providers = pairs.drop_duplicates(["component", "provider_id"]).sort_values(
        ["component", "provider_id"], kind="stable"
    )
    out["provider_ids"] = _lists(providers["component"], providers["provider_id"])
    rows = pairs.drop_duplicates(["component", "resident_id"]).sort_values(
        ["component", "resident_id"], kind="stable"
    )
    out["residents"] = _lists(rows["component"], rows["resident_id"])
    # the warning's condition begins with the second provider's first record
    firsts = (
        pairs.sort_values(["component", "provided_on"], kind="stable")
        .drop_duplicates(["component", "provider_id"])
        .reset_index(drop=True)
    )
    firsts = firsts[firsts.groupby("component").cumcount() == 1]
    out["since"] = firsts.set_index("component")["provided_on"].reindex(out.index).dt.date
    out = out[out["provider_ids"].map(len) >= 2]
    out["detail"] = [
        {
            "window_days": None if pd.isna(g) else float(g),
            "first_on": f.date().isoformat(),
            "last_on": la.date().isoformat(),
            "resident_ids": [int(v) for v in r],
        }
        for g, f, la, r in zip(
            frame.groupby("component", sort=False)["gap"].first().reindex(out.index),
            out["first_on"],
            out["last_on"],
            out["residents"],
            strict=True,
        )
    ]
    return _finish(out, kind)


def duplicates(
    records: pd.DataFrame, residents: pd.DataFrame, config: WarningConfig
) -> pd.DataFrame:
    """Duplicated support (red) and near-duplicates (yellow).

    A record is duplicated when the same person (linked resident rows are one person) got the
    same minor category from another provider within the category's window: ``|days| <=
    window``. Flagged records chain into one warning while each is within the window of the
    previous flagged one; a warning lists its records and providers. Holiday parcels
    (window ``"season"``) are duplicated when two providers gave one in the same holiday
    season (``before`` days before to ``after`` days after a holiday); parcels outside every
    season are not compared. A record not duplicated but within ``near_factor`` times the
    window of another provider's record is a near-duplicate.
    """
    frame = with_persons(records, residents)
    if frame.empty:
        return empty_warnings()
    windows = pd.Series(
        {m: (np.nan if w == SEASON else float(w)) for m, w in config.windows.items()}
    )
    frame = frame.assign(gap=frame["minor_category"].map(windows).astype(float))
    seasonal = frame[frame["gap"].isna()]
    frame = frame[frame["gap"].notna()].sort_values(
        ["person_id", "minor_category", "provided_on", "provider_id"], kind="stable"
    )
    frame = frame.reset_index(drop=True)
    nearest = _nearest_other_provider(frame)
    duplicated = nearest.le(frame["gap"])
    near = ~duplicated & nearest.le(frame["gap"] * config.near_factor)
    found = [
        _components(frame[duplicated], frame.loc[duplicated, "gap"], "duplicate"),
        _components(frame[near], frame.loc[near, "gap"] * config.near_factor, "near_duplicate"),
    ]
    if not seasonal.empty:
        season = _season_of(seasonal["provided_on"], config)
        seasonal = seasonal.assign(season=season)[season >= 0]
        providers = seasonal.groupby(["person_id", "minor_category", "season"])[
            "provider_id"
        ].transform("nunique")
        seasonal = seasonal[providers >= 2].sort_values(
            ["person_id", "minor_category", "season", "provided_on"], kind="stable"
        )
        # one warning per person, minor and season: chain with an infinite gap inside it
        seasonal = seasonal.assign(
            person_id=seasonal["person_id"].astype("int64") * 1000 + seasonal["season"]
        )
        warnings = _components(seasonal, pd.Series(np.inf, index=seasonal.index), "duplicate")
        warnings["resident_id"] = warnings["resident_id"] // 1000
        for detail in warnings["detail"]:
            detail["window_days"] = None
            detail["season"] = True
        found.append(warnings)
    found = [f for f in found if not f.empty]
    if not found:
        return empty_warnings()
    return pd.concat(found, ignore_index=True)


# ------------------------------------------------------------------------------ omissions


def open_needs(
    needs: pd.DataFrame,
    records: pd.DataFrame,
    residents: pd.DataFrame,
    config: WarningConfig,
    today: dt.date,
) -> pd.DataFrame:
    """Needs nobody met: ``open_need`` (red) and ``need_due_soon`` (yellow).

    A need still open (status open or in progress) is met by a support record that names it
    (``need_id``), or by any provider's support of the need's domain (``category``) to the
    same person on or after the day the need was identified. An unmet need whose age (today
    minus identified_on, in days) is over ``open_need_days`` is an open need; one whose age
    is at least ``open_need_days - warn_before`` and at most ``open_need_days`` is due soon.
    """
    limit = config.omissions["open_need_days"]
    warn_from = limit - config.omissions["warn_before"]
    frame = with_persons(needs[needs["status"].isin(OPEN_STATUSES)], residents)
    frame = frame.assign(age=_days(_ts(today) - frame["identified_on"]))
    frame = frame[frame["age"] >= warn_from]
    if frame.empty:
        return empty_warnings()
    support = with_persons(records, residents)
    named = set(support["need_id"].dropna().astype("int64"))
    frame = frame[~frame["need_id"].isin(named)]
    # domain support on or after the need: the latest such record per person and domain
    latest = support.groupby(["person_id", "category"])["provided_on"].max().rename("latest")
    frame = frame.merge(latest, left_on=["person_id", "category"], right_index=True, how="left")
    frame = frame[~(frame["latest"] >= frame["identified_on"])]
    red = frame["age"] > limit
    out = pd.DataFrame(
        {
            "resident_id": frame["person_id"].astype("int64"),
            "area_id": frame["area_id"],
            "need_id": frame["need_id"].astype("int64"),
            "since": frame["identified_on"].dt.date,
            "detail": [
                {"age_days": int(a), "limit_days": limit, "domain": c}
                for a, c in zip(frame["age"], frame["category"], strict=True)
            ],
        }
    )
    return pd.concat(
        [_finish(out[red.to_numpy()], "open_need"), _finish(out[~red.to_numpy()], "need_due_soon")],
        ignore_index=True,
    )


def unserved_crisis(
    crisis: pd.DataFrame,
    tiers: pd.DataFrame,
    records: pd.DataFrame,
    visits: pd.DataFrame,
    residents: pd.DataFrame,
    config: WarningConfig,
    today: dt.date,
) -> pd.DataFrame:
    """High-tier residents with a recent crisis signal and no support or met visit since.

    A resident of tier 2 (high) in the published run whose latest crisis signal was observed
    within ``crisis_months`` months (on or after today minus that many months, and not after
    today), with no support record (any provider, any category) and no visit with outcome
    ``met`` or ``crisis_confirmed`` on or after that signal's day. Linked rows are one person:
    support or a visit under any of the person's rows counts.
    """
    start = _ts(today) - pd.DateOffset(months=config.omissions["crisis_months"])
    signals = crisis[(crisis["observed_on"] >= start) & (crisis["observed_on"] <= _ts(today))]
    high = tiers.loc[tiers["tier"] == HIGH_TIER, ["resident_id"]]
    signals = signals.merge(high, on="resident_id")
    if signals.empty:
        return empty_warnings()
    signals = with_persons(signals, residents)
    latest = signals.groupby("person_id").agg(
        since=("observed_on", "max"), area_id=("area_id", "first"), signals=("observed_on", "size")
    )
    support = with_persons(records, residents).groupby("person_id")["provided_on"].max()
    met = visits[visits["outcome"].isin(MET_OUTCOMES)]
    seen = with_persons(met, residents).groupby("person_id")["visited_on"].max()
    latest = latest.join(support.rename("supported")).join(seen.rename("seen"))
    served = (latest["supported"] >= latest["since"]) | (latest["seen"] >= latest["since"])
    latest = latest[~served]
    out = pd.DataFrame(
        {
            "resident_id": latest.index.astype("int64"),
            "area_id": latest["area_id"].to_numpy(),
            "since": latest["since"].dt.date.to_numpy(),
            "detail": [
                {"signals": int(n), "months": config.omissions["crisis_months"]}
                for n in latest["signals"]
            ],
        }
    )
    return _finish(out, "unserved_crisis")


def sponsorship_warnings(
    sponsorships: pd.DataFrame,
    payments: pd.DataFrame,
    households: pd.DataFrame,
    config: WarningConfig,
    today: dt.date,
) -> pd.DataFrame:
    """Sponsorships ending soon without a successor (yellow) and unpaid months (red).

    Ending: ``ends_on`` from today to today plus ``sponsorship_ending_days`` (both included)
    and no successor. Unpaid: a sponsorship active today (started on or before today, ending
    on or after today) with a month from its start's month to the month before today's with
    no payment; one warning per sponsorship listing the months. ``households`` gives each
    household's ``area_id``.
    """
    now = _ts(today)
    horizon = now + pd.Timedelta(days=config.omissions["sponsorship_ending_days"])
    areas = households.loc[:, ["household_id", "area_id"]].drop_duplicates("household_id")
    frame = sponsorships.merge(areas, on="household_id", how="inner")
    ending = frame[
        (frame["ends_on"] >= now) & (frame["ends_on"] <= horizon) & frame["successor_id"].isna()
    ]
    ending_out = pd.DataFrame(
        {
            "household_id": ending["household_id"],
            "area_id": ending["area_id"],
            "sponsorship_id": ending["sponsorship_id"],
            "provider_ids": [[int(c)] for c in ending["centre_id"]],
            "since": ending["ends_on"].dt.date,
            "detail": [
                {"ends_on": e.date().isoformat(), "days_left": int(_days(e - now))}
                for e in ending["ends_on"]
            ],
        }
    )
    active = frame[(frame["starts_on"] <= now) & (frame["ends_on"] >= now)]
    this_month = now.year * 12 + now.month - 1
    first = active["starts_on"].dt.year * 12 + active["starts_on"].dt.month - 1
    count = (this_month - first).clip(lower=0).astype("int64")
    months = active.loc[active.index.repeat(count), ["sponsorship_id"]]
    index = first.loc[months.index].to_numpy() + months.groupby(level=0).cumcount().to_numpy()
    months["month"] = pd.to_datetime(
        pd.DataFrame({"year": index // 12, "month": index % 12 + 1, "day": 1})
    ).to_numpy()
    paid = payments.loc[:, ["sponsorship_id", "month"]].assign(paid=True)
    months = months.merge(paid, on=["sponsorship_id", "month"], how="left")
    missing = months[months["paid"].isna()]
    missed = missing.groupby("sponsorship_id")["month"].agg(list)
    unpaid = active.set_index("sponsorship_id").loc[missed.index]
    unpaid_out = pd.DataFrame(
        {
            "household_id": unpaid["household_id"].to_numpy(),
            "area_id": unpaid["area_id"].to_numpy(),
            "sponsorship_id": missed.index.to_numpy(),
            "provider_ids": [[int(c)] for c in unpaid["centre_id"]],
            "since": [min(m).date() for m in missed],
            "detail": [{"months": [m.date().isoformat() for m in ms]} for ms in missed],
        }
    )
    return pd.concat(
        [_finish(ending_out, "sponsorship_ending"), _finish(unpaid_out, "sponsorship_unpaid")],
        ignore_index=True,
    )


def stock_warnings(stock: pd.DataFrame, config: WarningConfig, today: dt.date) -> pd.DataFrame:
    """Stock still held that is expired (red) or expires soon (yellow).

    The stock of a lot is the signed sum of its movements per (centre, minor category, item,
    unit, expiry date). A lot with more than zero left is expired when its expiry date is
    before today, and expiring when it is from today to today plus ``stock_expiring_days``
    (both included). Lots without an expiry date never warn.
    """
    keys = ["centre_id", "minor_category", "item", "unit", "expires_on"]
    frame = stock[stock["expires_on"].notna()]
    if frame.empty:
        return empty_warnings()
    signed = frame["quantity"] * frame["kind"].map(STOCK_SIGNS).astype(float)
    lots = (
        frame.assign(left=signed)
        .groupby(keys, sort=False)
        .agg(left=("left", "sum"), area_id=("centre_area_id", "first"))
        .reset_index()
    )
    lots = lots[(lots["left"] > 1e-9) & lots["area_id"].notna()]
    now = _ts(today)
    horizon = now + pd.Timedelta(days=config.omissions["stock_expiring_days"])
    expired = lots["expires_on"] < now
    expiring = ~expired & (lots["expires_on"] <= horizon)
    out = pd.DataFrame(
        {
            "area_id": lots["area_id"].astype("int64"),
            "provider_ids": [[int(c)] for c in lots["centre_id"]],
            "minor_category": lots["minor_category"],
            "since": lots["expires_on"].dt.date,
            "detail": [
                {"item": i, "unit": u, "quantity": float(q), "expires_on": e.date().isoformat()}
                for i, u, q, e in zip(
                    lots["item"], lots["unit"], lots["left"], lots["expires_on"], strict=True
                )
            ],
        }
    )
    return pd.concat(
        [
            _finish(out[expired.to_numpy()], "stock_expired"),
            _finish(out[expiring.to_numpy()], "stock_expiring"),
        ],
        ignore_index=True,
    )


def all_warnings(frames: dict[str, pd.DataFrame], config: WarningConfig, today: dt.date):
    """Return every warning of ``frames`` (the keys of the module docstring) as one frame."""
    residents = frames["residents"]
    records = frames["records"]
    parts = [
        duplicates(records, residents, config),
        open_needs(frames["needs"], records, residents, config, today),
        unserved_crisis(
            frames["crisis"], frames["tiers"], records, frames["visits"], residents, config, today
        ),
        sponsorship_warnings(
            frames["sponsorships"], frames["payments"], frames["households"], config, today
        ),
        stock_warnings(frames["stock"], config, today),
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_warnings()
    return pd.concat(parts, ignore_index=True)
