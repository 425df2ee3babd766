"""Shared support in the demo (issue 13): categories, planted warnings and their truth.

After :func:`geo.demo.services.draw_support` has drawn who gets what, this module

1. gives every record its minor category (:func:`visitmap.vocab.minor_category_for`), its
   funding (budget from public providers, donation from private ones), its recurring period
   and, for perishable food, an expiry date;
2. removes the accidental duplicates: a person keeps, per minor category, the records of one
   provider only (the one with most records, then the earliest);
3. PLANTS duplicates (the same minor category from 2-3 providers well inside the category's
   window, holiday parcels from two providers in one season), near-duplicates (a second
   provider a little outside the window) and one person recorded under two resident ids by
   two agencies, and lets needs and crisis signals go unanswered (open needs, unserved
   crises);
4. draws donors, donations and stock (lots expiring soon, lots expired and still held,
   transfers between centres), the "100가정 보듬기" sponsorships (some ending without a
   successor, some months unpaid) and the residents' consent to sharing;
5. writes every planted warning to the hidden ``support_truth.csv``
   (``docs/demo_data.md``, "Shared support truth").

The truth comes from these decisions, never from running the detection rules. Planted dates
keep clear of every window's edge (two days inside a duplicate window, two days outside it
for a near-duplicate, etc.) so that "within N days" read as ``<`` or ``<=`` gives the same
answer.

Length: the planting and its truth are one set of decisions over the same frames; split, each
part would need the others' choices to keep clear of them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.demo.population import Population, as_days
from geo.demo.services import HOLIDAYS, OFFERS, PUBLIC_SLOTS, SLOTS
from geo.demo.tables import sequential_ids
from sharing.config import SEASON, WarningConfig
from visitmap.vocab import minor_category_for

#: Columns of ``support_truth.csv`` in order.
TRUTH_COLUMNS = (
    "kind",
    "key",
    "resident_ids",
    "record_ids",
    "need_id",
    "sponsorship_id",
    "centre",
    "minor_category",
    "item",
    "expires_on",
    "planted_on",
)
PROGRAMME = "100가정 보듬기"
#: Share of supported residents who consented to sharing (the rest: no row, or refused).
CONSENT_SHARE, REFUSAL_SHARE = 0.6, 0.08
#: Items a centre's stock holds: (minor, item, unit, shelf life in days or 0 = none).
STOCK_ITEMS = (
    ("rice", "쌀 10kg", "포", 365),
    ("instant_food", "라면 1박스", "박스", 180),
    ("food_parcel", "식료품 꾸러미", "상자", 60),
    ("side_dishes", "밑반찬 세트", "세트", 10),
    ("hygiene", "위생용품 세트", "세트", 0),
    ("heating_goods", "전기장판", "개", 0),
)
DONOR_NAMES = (
    ("새빛교회 (가상)", "religious"),
    ("가재울상가번영회 (가상)", "organisation"),
    ("연희떡집 (가상)", "company"),
    ("홍제마트 (가상)", "company"),
    ("서대문라이온스클럽 (가상)", "organisation"),
    ("무악사 (가상)", "religious"),
    ("김나눔 (가상)", "individual"),
    ("이햇살 (가상)", "individual"),
    ("박온기 (가상)", "individual"),
    ("신촌의원 (가상)", "company"),
    ("북가좌새마을부녀회 (가상)", "organisation"),
    ("서대문구 자원봉사센터 (가상)", "public"),
)
#: Perishable items: days from giving to expiry.
SHELF_LIFE = {"side_dishes": 3, "meal_delivery": 1}
#: Items that recur, by item name.
RECURRING = {
    "생계급여": "monthly",
    "도시락 배달": "weekly",
    "밑반찬": "weekly",
    "안부전화": "weekly",
}


DONATION_COLUMNS = ["donation_id", "donor_id", "centre_id", "received_on", "minor_category",
                    "item", "quantity", "unit", "expires_on"]  # fmt: skip
MOVEMENT_COLUMNS = ["movement_id", "centre_id", "kind", "moved_on", "minor_category", "item",
                    "unit", "quantity", "expires_on", "donation_id",
                    "counterpart_centre_id"]  # fmt: skip
SPONSORSHIP_COLUMNS = ["sponsorship_id", "donor_id", "household_id", "centre_id", "programme",
                       "starts_on", "ends_on", "monthly_amount_krw", "successor_id"]  # fmt: skip


@dataclass
class SharingTables:
    """What :func:`plan_sharing` returns: the changed frames, the new tables and the truth."""

    support: pd.DataFrame
    needs: pd.DataFrame
    signals: pd.DataFrame
    record_ids: np.ndarray
    alias: tuple[int, int] | None
    donors: pd.DataFrame
    donations: pd.DataFrame
    stock: pd.DataFrame
    sponsorships: pd.DataFrame
    payments: pd.DataFrame
    consents: pd.DataFrame
    truth: pd.DataFrame


def _minor_offers() -> pd.DataFrame:
    """Return the offers with their minor category."""
    return OFFERS.assign(
        minor=[
            minor_category_for(i, c)
            for i, c in zip(OFFERS["item"], OFFERS["category"], strict=True)
        ]
    )


def _windows(config: WarningConfig, minors: np.ndarray) -> np.ndarray:
    return np.array([config.window_days(m) for m in minors], dtype=np.int64)


def _dedupe(support: pd.DataFrame) -> pd.DataFrame:
    """Keep, per person and minor category, the records of one provider (most, then first)."""
    stats = support.groupby(["resident", "minor", "slot"], sort=False).agg(
        n=("provided_on", "size"), first=("provided_on", "min")
    )
    stats = stats.reset_index().sort_values(
        ["resident", "minor", "n", "first", "slot"], ascending=[True, True, False, True, True]
    )
    keep = stats.drop_duplicates(["resident", "minor"])[["resident", "minor", "slot"]]
    return support.merge(keep, on=["resident", "minor", "slot"], how="inner")


def _isolated(support: pd.DataFrame, reach: np.ndarray) -> np.ndarray:
    """Mark records with no other record of the person's minor within ``reach`` days."""
    order = support.sort_values(["resident", "minor", "provided_on"], kind="stable").index
    frame = support.loc[order]
    days = frame["provided_on"].to_numpy().astype("datetime64[D]").astype(np.int64)
    same = (frame["resident"].to_numpy()[1:] == frame["resident"].to_numpy()[:-1]) & (
        frame["minor"].to_numpy()[1:] == frame["minor"].to_numpy()[:-1]
    )
    gap = np.diff(days)
    r = reach[order]
    far_prev = np.ones(len(frame), dtype=bool)
    far_next = np.ones(len(frame), dtype=bool)
    far_prev[1:] = ~same | (gap > r[1:])
    far_next[:-1] = ~same | (gap > r[:-1])
    out = np.zeros(len(support), dtype=bool)
    out[support.index.get_indexer(order)] = far_prev & far_next
    return out


def _season_of(dates: np.ndarray, config: WarningConfig) -> np.ndarray:
    """Return the index of the holiday whose season holds each date, -1 for none."""
    days = dates.astype("datetime64[D]").astype(np.int64)
    holidays = HOLIDAYS.astype(np.int64)
    out = np.full(len(days), -1)
    for index, day in enumerate(holidays):
        inside = (days >= day - config.season_before) & (days <= day + config.season_after)
        out[inside] = index
    return out


def plan_sharing(
    rng: np.random.Generator,
    *,
    support: pd.DataFrame,
    needs: pd.DataFrame,
    signals: pd.DataFrame,
    visits: pd.DataFrame,
    population: Population,
    resident_ids: np.ndarray,
    household_ids: np.ndarray,
    slot_provider: np.ndarray,
    dongs: pd.DataFrame,
    has_rrn: np.ndarray,
    active: np.ndarray,
    in_crisis: np.ndarray,
    as_of: datetime.date,
    config: WarningConfig,
) -> SharingTables:
    """Categorise the support, plant the warnings and draw the new tables (module docstring).

    Parameters
    ----------
    support, needs, signals, visits
        From :func:`geo.demo.services.draw_support` (with ``need``, the row of ``needs`` a
        record meets or -1), :func:`geo.demo.services.draw_needs`,
        :func:`geo.demo.welfare.draw_signals` and the visit simulation.
    resident_ids, household_ids
        External ids by index.
    slot_provider
        Provider id of each slot for each dong (:func:`geo.demo.services.provider_table`).
    has_rrn, active, in_crisis
        Per resident: a registration number is on file; the resident is active; in crisis
        (the unserved crises are planted among these first).
    config
        The warnings' windows (:func:`sharing.config.load_warning_config`).

    Returns
    -------
    SharingTables
        ``record_ids`` holds the support records' external ids in the order of ``support``;
        ``alias`` the resident indices (kept, re-used) of the person under two ids.
    """
    reference = np.datetime64(as_of, "D")
    dong_of = population.household_dong[population.household]
    truth: list[dict] = []
    offers = _minor_offers()

    support = support.copy()
    unique_items = support[["item", "category"]].drop_duplicates()
    minor_of = {
        (i, c): minor_category_for(i, c)
        for i, c in zip(unique_items["item"], unique_items["category"], strict=True)
    }
    support["minor"] = [minor_of[k] for k in zip(support["item"], support["category"], strict=True)]
    # livelihood benefit meets the head's livelihood need from its enrolment on
    livelihood = needs[needs["source"] == "기초생활보장 조사"]
    need_of_head = pd.Series(livelihood.index.to_numpy(), index=livelihood["resident"].to_numpy())
    benefit = (support["item"] == "생계급여").to_numpy()
    head_need = need_of_head.reindex(support["resident"].to_numpy()).to_numpy()
    identified = needs["identified_on"].to_numpy()
    if not len(identified):  # a small block of a large demo (geo.demo.blocks) may have none
        identified = np.array(["NaT"], dtype="datetime64[ns]")
    enrolled = np.where(
        np.isnan(head_need),
        np.datetime64("NaT"),
        identified[np.nan_to_num(head_need, nan=0).astype(np.int64)],
    )
    link = benefit & ~np.isnan(head_need) & (support["provided_on"].to_numpy() >= enrolled)
    support.loc[link, "need"] = head_need[link].astype(np.int64)
    support = _dedupe(support)
    support["origin"] = "drawn"

    # ------------------------------------------------------------ duplicates, planted
    windows = _windows(config, support["minor"].to_numpy())
    seasonal = np.array([config.windows.get(m) == SEASON for m in support["minor"]], dtype=bool)
    near_reach = np.ceil(windows * config.near_factor).astype(np.int64)
    isolated = _isolated(support, 2 * near_reach + windows + 2)
    slots_of_minor = offers.groupby("minor")["slot_index"].unique()
    multi = {m for m, slots in slots_of_minor.items() if len(slots) >= 2} | {"holiday_parcel"}
    food_slots = np.unique(offers.loc[offers["category"] == "daily_living", "slot_index"])
    candidate = isolated & support["minor"].isin(multi).to_numpy()
    candidate &= support["provided_on"].to_numpy() > reference - as_days(300)
    candidate &= active[support["resident"].to_numpy()]
    pool = np.flatnonzero(candidate)
    n_dup = int(np.clip(len(support) // 250, 3, 5000))
    n_near = int(np.clip(len(support) // 500, 2, 2500))
    picked = rng.permutation(pool)[: n_dup + n_near]
    used_residents: set[int] = set()
    planted_rows = []
    group = 0
    for position, row in enumerate(picked):
        base = support.iloc[row]
        resident = int(base["resident"])
        if resident in used_residents:
            continue
        minor = base["minor"]
        near = position >= n_dup
        if near and seasonal[row]:
            continue
        if minor == "holiday_parcel":
            others = [s for s in food_slots if s != base["slot"]]
        else:
            others = [s for s in slots_of_minor.get(minor, []) if s != base["slot"]]
        if not others:
            continue
        used_residents.add(resident)
        window = int(windows[row])
        extra = 1 if near else 1 + int(rng.random() < 0.4)
        chosen = rng.permutation(others)[:extra]
        base_day = np.datetime64(base["provided_on"], "D")
        group += 1
        members = [("drawn", row)]
        for slot in chosen:
            if near:
                high = max(window + 3, int(window * config.near_factor) - 1)
                offset = int(rng.integers(window + 2, high))
            elif seasonal[row]:
                season = _season_of(np.array([base_day]), config)[0]
                holiday = HOLIDAYS[season]
                low, high = holiday - as_days(config.season_before - 2), holiday - as_days(1)
                day = low + as_days(int(rng.integers(0, max(int((high - low).astype(int)), 1))))
                offset = int((base_day - day).astype(int))
            else:
                offset = int(rng.integers(0, max(window - 1, 1)))
            day = base_day - as_days(offset)
            offer = offers[(offers["slot_index"] == slot) & (offers["minor"] == minor)]
            if minor == "holiday_parcel":
                offer = offers[
                    (offers["slot_index"] == slot) & (offers["category"] == "daily_living")
                ].head(1)
                item = "명절 " + offer["item"].iat[0]
            else:
                offer = offer.head(1)
                item = offer["item"].iat[0]
            planted_rows.append(
                {
                    "resident": resident,
                    "slot": int(slot),
                    "category": offer["category"].iat[0],
                    "item": item,
                    "amount_krw": offer["amount_krw"].iat[0],
                    "quantity": offer["quantity"].iat[0],
                    "unit": offer["unit"].iat[0],
                    "provided_on": day,
                    "need": -1,
                    "minor": minor,
                    "origin": f"g{group}",
                }
            )
            members.append(("planted", len(planted_rows) - 1))
        truth.append({"kind": "near_duplicate" if near else "duplicate", "group": f"g{group}",
                      "base": row, "resident": resident, "minor": minor})  # fmt: skip

    # ------------------------------------------------------------ one person, two ids
    alias = _pick_alias(support, population, dong_of, has_rrn, active, slot_provider)
    if alias is not None:
        kept, reused, day = alias[0], alias[1], reference - as_days(20)
        group += 1
        for resident, slot, shift in ((kept, SLOTS.index("FOODBANK"), 0),
                                      (reused, SLOTS.index("CHURCH"), 3)):  # fmt: skip
            planted_rows.append(
                {
                    "resident": resident,
                    "slot": slot,
                    "category": "daily_living",
                    "item": "라면 1박스",
                    "amount_krw": 20_000,
                    "quantity": 1,
                    "unit": "박스",
                    "provided_on": day - as_days(shift),
                    "need": -1,
                    "minor": "instant_food",
                    "origin": f"g{group}",
                }  # fmt: skip
            )
        truth.append({"kind": "duplicate", "group": f"g{group}", "base": None,
                      "resident": kept, "alias": reused, "minor": "instant_food"})  # fmt: skip

    if planted_rows:
        support = pd.concat([support, pd.DataFrame(planted_rows)], ignore_index=True)
    support = _finish_support(support, population, reference)
    record_ids = sequential_ids("SP-", len(support))
    drawn_row = support["drawn_row"].to_numpy()
    position_of_drawn = pd.Series(np.arange(len(support)), index=drawn_row)
    planted = support.index[support["origin"] != "drawn"]
    positions_of_group = (
        pd.Series(planted.to_numpy(), index=support.loc[planted, "origin"].to_numpy())
        .groupby(level=0)
        .apply(list)
        .to_dict()
    )
    given = support["provided_on"].to_numpy()
    for entry in truth:
        positions = list(positions_of_group.get(entry["group"], []))
        if entry["base"] is not None:
            positions.append(int(position_of_drawn[entry["base"]]))
        ids = sorted(record_ids[positions])
        people = {
            resident_ids[entry["resident"]],
            resident_ids[entry.get("alias", entry["resident"])],
        }
        entry.update(
            key=";".join(ids),
            resident_ids=";".join(sorted(people)),
            record_ids=";".join(ids),
            minor_category=entry["minor"],
            planted_on=str(given[positions].max())[:10],
        )

    needs, open_truth = _open_needs(needs, support, active, reference, config)
    signals, crisis_truth = _unserved(rng, signals, visits, support, population, active,
                                      in_crisis, reference,
                                      config.omissions["crisis_months"])  # fmt: skip
    for entry in open_truth:
        entry["resident_ids"] = resident_ids[entry.pop("resident")]
    for entry in crisis_truth:
        entry["resident_ids"] = resident_ids[entry.pop("resident")]

    seodaemun = np.flatnonzero((dongs["sgg_cd"] == "11410").to_numpy())
    centres = "P-CC-" + dongs["adm_cd2"].to_numpy()[seodaemun]
    donors = _donors(dongs)
    donations, stock, stock_truth = _stock(rng, centres, donors, reference, config)
    sponsorships, payments, sponsor_truth = _sponsorships(
        rng, population, household_ids, resident_ids, dong_of, seodaemun, dongs, donors,
        active, reference, config,
    )  # fmt: skip
    consents = _consents(rng, support, population, resident_ids, dongs, dong_of, reference)
    truth_frame = _truth_frame(truth, open_truth, crisis_truth, stock_truth, sponsor_truth)
    support = support.drop(columns=["origin", "drawn_row"])
    return SharingTables(
        support=support,
        needs=needs,
        signals=signals,
        record_ids=record_ids,
        alias=alias,
        donors=donors,
        donations=donations,
        stock=stock,
        sponsorships=sponsorships,
        payments=payments,
        consents=consents,
        truth=truth_frame,
    )


def _finish_support(support: pd.DataFrame, population: Population, reference) -> pd.DataFrame:
    """Add funding, period and expiry; sort as the generator always did; keep drawn rows."""
    support = support.assign(drawn_row=np.where(support["origin"] == "drawn", support.index, -1))
    public = support["slot"].isin([SLOTS.index(s) for s in PUBLIC_SLOTS]).to_numpy()
    support["funding"] = np.where(public, "budget", "donation")
    support["recurring_period"] = support["item"].map(RECURRING).fillna("")
    life = support["minor"].map(SHELF_LIFE).fillna(-1).to_numpy().astype(np.int64)
    given = support["provided_on"].to_numpy().astype("datetime64[D]")
    support["expires_on"] = np.where(
        life >= 0, given + as_days(np.maximum(life, 0)), np.datetime64("NaT")
    )
    support["provided_on"] = given
    support = support.sort_values(["provided_on", "resident", "slot", "item"], kind="stable")
    return support.reset_index(drop=True)


def _pick_alias(support, population, dong_of, has_rrn, active, slot_provider):
    """Pick the person recorded twice: a resident with an RRN and a lone resident to re-use.

    The re-used resident (same dong, living alone, no support) takes the kept one's name,
    birth year, sex and address, and loses its RRN (see ``generate``). None when the
    population is too small.
    """
    supported = np.zeros(len(active), dtype=bool)
    supported[support["resident"].to_numpy()] = True
    instant = np.zeros(len(active), dtype=bool)
    instant[support.loc[support["minor"] == "instant_food", "resident"].to_numpy()] = True
    alone = population.household_size[population.household] == 1
    kept = np.flatnonzero(has_rrn & active & alone & ~instant & (population.age >= 65))
    for candidate in kept:
        reuse = np.flatnonzero((dong_of == dong_of[candidate]) & alone & active & ~supported)
        reuse = reuse[reuse != candidate]
        if len(reuse):
            return int(candidate), int(reuse[0])
    return None


def _open_needs(needs, support, active, reference, config: WarningConfig):
    """Settle each unresolved need as met (both ways) or open (neither way) and record it.

    A need counts as met when a record names it (``need_id``) or a record of its domain
    reached the person on or after it was identified. Where only the second holds, the need
    is marked met on that record's date, so both readings agree. Unresolved needs whose age
    lies within two days of a threshold are dated three days earlier; those of residents who
    are no longer active (moved, deceased) are closed the day before the demo's date.
    """
    needs = needs.copy()
    gone = ~active[needs["resident"].to_numpy()] & needs["status"].isin(["open", "in_progress"])
    needs.loc[gone, "status"] = "closed"
    needs.loc[gone, "resolved_on"] = np.maximum(
        needs.loc[gone, "identified_on"].to_numpy().astype("datetime64[D]"),
        reference - as_days(1),
    )
    identified = needs["identified_on"].to_numpy().astype("datetime64[D]")
    red = config.omissions["open_need_days"]
    yellow = red - config.omissions["warn_before"]
    unresolved = needs["status"].isin(["open", "in_progress"]).to_numpy()
    age = (reference - identified).astype(np.int64)
    edge = unresolved & ((np.abs(age - red) <= 2) | (np.abs(age - yellow) <= 2))
    identified = np.where(edge, identified - as_days(3), identified)
    needs["identified_on"] = identified
    linked = set(support.loc[support["need"] >= 0, "need"].astype(np.int64))
    domain = support[["resident", "category", "provided_on"]].rename(
        columns={"provided_on": "given"}
    )
    frame = needs.reset_index().rename(columns={"index": "need"})
    frame = frame[unresolved]
    joined = frame.merge(domain, on=["resident", "category"], how="left")
    joined = joined[joined["given"] >= joined["identified_on"]]
    first_given = joined.groupby("need")["given"].min()
    only_domain = [n for n in first_given.index if n not in linked]
    needs.loc[only_domain, "status"] = "met"
    needs.loc[only_domain, "resolved_on"] = first_given[only_domain].to_numpy()
    truth = []
    age = (reference - needs["identified_on"].to_numpy().astype("datetime64[D]")).astype(int)
    still = needs["status"].isin(["open", "in_progress"]).to_numpy()
    for n in np.flatnonzero(still):
        if n in linked:
            continue
        kind = "open_need" if age[n] > red else "need_due_soon" if age[n] > yellow else None
        if kind:
            truth.append({"kind": kind, "key": f"N-{n + 1:07d}", "need_id": f"N-{n + 1:07d}",
                          "resident": int(needs["resident"].iat[n]),
                          "planted_on": str(needs["identified_on"].iat[n])[:10]})  # fmt: skip
    return needs, truth


def _unserved(rng, signals, visits, support, population, active, in_crisis, reference, months):
    """Give a few residents in crisis a fresh signal that nobody answers; record every such one.

    The truth lists each active resident with a signal (or a household signal) in the last
    ``months`` months and neither support nor a met visit on or after the latest: the planted
    ones and those the draws left unanswered. Whether they are high tier is for the scoring
    to say; compare within the published run's high tier.
    """
    last_support = support.groupby("resident")["provided_on"].max()
    met = visits[visits["outcome"].isin(["met", "crisis_confirmed"])]
    last_met = met.groupby("resident")["visited_on"].max()
    recent = reference - as_days(120)
    n = len(active)
    served = np.zeros(n, dtype=bool)
    served[last_support.index[last_support.to_numpy() >= recent].to_numpy()] = True
    served[last_met.index[last_met.to_numpy() >= recent].to_numpy()] = True
    adults = population.age >= 19
    pool = np.flatnonzero(active & adults & ~served & population.is_head)
    pool = rng.permutation(pool)
    pool = pool[np.argsort(~in_crisis[pool], kind="stable")]  # in crisis first
    count = int(np.clip(n // 2000, 2, 400))
    chosen = np.sort(pool[:count])
    days = reference - as_days(rng.integers(10, 60, len(chosen)))
    kinds = rng.choice(["electricity_cutoff", "gas_cutoff", "rent_arrears"], len(chosen))
    sources = {"electricity_cutoff": "한국전력공사", "gas_cutoff": "서울도시가스",
               "rent_arrears": "주거급여 조사"}  # fmt: skip
    planted = pd.DataFrame(
        {
            "resident": chosen,
            "household": -1,
            "kind": kinds,
            "observed_on": days,
            "source_agency": [sources[k] for k in kinds],
        }
    )
    signals = pd.concat([signals, planted], ignore_index=True)
    # signals within three days of the six-month edge move four days earlier, so that "in the
    # last 6 months" read as 182 or 183 days, or calendar months, agrees
    edge = _months_before(reference, months)
    observed = signals["observed_on"].to_numpy().astype("datetime64[D]")
    near_edge = np.abs((observed - edge).astype(np.int64)) <= 3
    signals["observed_on"] = np.where(near_edge, observed - as_days(4), observed)
    signals = signals.sort_values("observed_on", kind="stable").reset_index(drop=True)
    # every active resident with a signal (their own, or their household's) since the edge and
    # neither support nor a met visit on or after the latest one: the planted ones and those
    # the draws left so; the tier is the scoring's, applied by whoever compares
    person = signals["resident"].to_numpy()
    household = signals["household"].to_numpy()
    recent = signals["observed_on"].to_numpy().astype("datetime64[D]") > edge + as_days(3)
    own = pd.DataFrame({"resident": person, "day": signals["observed_on"].to_numpy()})[
        recent & (person >= 0)
    ]
    members = pd.DataFrame({"resident": np.arange(n), "household": population.household})
    shared = pd.DataFrame({"household": household, "day": signals["observed_on"].to_numpy()})[
        recent & (household >= 0)
    ].merge(members, on="household")[["resident", "day"]]
    latest = pd.concat([own, shared]).groupby("resident")["day"].max()
    latest = latest[active[latest.index.to_numpy()]]
    answered = np.zeros(len(latest), dtype=bool)
    for last in (last_support, last_met):
        after = last.reindex(latest.index)
        answered |= (after.notna() & (after >= latest)).to_numpy()
    unserved = latest[~answered]
    truth = [
        {"kind": "unserved_crisis", "key": None, "resident": int(r), "planted_on": str(d)[:10]}
        for r, d in unserved.items()
    ]
    return signals, truth


def _months_before(reference: np.datetime64, months: int) -> np.datetime64:
    """Return the same day ``months`` calendar months before ``reference``."""
    day = pd.Timestamp(reference) - pd.DateOffset(months=months)
    return np.datetime64(day.date(), "D")


def _donors(dongs: pd.DataFrame) -> pd.DataFrame:
    codes = dongs.loc[dongs["sgg_cd"] == "11410", "adm_cd2"].to_numpy()
    return pd.DataFrame(
        {
            "donor_id": [f"DR-{i + 1:03d}" for i in range(len(DONOR_NAMES))],
            "name": [n for n, _ in DONOR_NAMES],
            "kind": [k for _, k in DONOR_NAMES],
            "area": [codes[i % len(codes)] if len(codes) else "" for i in range(len(DONOR_NAMES))],
        }
    )


def _stock(rng, centres, donors, reference, config: WarningConfig):
    """Donations to each centre, issues, transfers and discards; expiring and expired lots."""
    soon = config.omissions["stock_expiring_days"]
    donations, moves, truth = [], [], []

    def lot(centre, minor, item, unit, quantity, received, expires, state):
        number = len(donations) + 1
        donation_id = f"DN-{number:06d}"
        donations.append({"donation_id": donation_id,
                          "donor_id": donors["donor_id"].iat[number % len(donors)],
                          "centre_id": centre, "received_on": received, "minor_category": minor,
                          "item": item, "quantity": quantity, "unit": unit,
                          "expires_on": expires})  # fmt: skip
        issued = int(quantity * rng.uniform(0.2, 0.6))
        if issued:
            moves.append({"centre_id": centre, "kind": "issued",
                          "moved_on": min(received + as_days(3), reference - as_days(1)),
                          "minor_category": minor, "item": item, "unit": unit,
                          "quantity": issued, "expires_on": expires,
                          "donation_id": donation_id, "counterpart_centre_id": ""})  # fmt: skip
        left = quantity - issued
        if state == "discarded":
            moves.append({"centre_id": centre, "kind": "expired",
                          "moved_on": min(expires + as_days(1), reference - as_days(1)),
                          "minor_category": minor, "item": item, "unit": unit, "quantity": left,
                          "expires_on": expires, "donation_id": donation_id,
                          "counterpart_centre_id": ""})  # fmt: skip
        if state in ("expiring", "expired"):
            truth.append({"kind": f"stock_{state}", "centre": centre, "minor_category": minor,
                          "item": item, "expires_on": str(expires)[:10],
                          "planted_on": str(received)[:10]})  # fmt: skip
        return left

    for index, centre in enumerate(centres):
        for minor, item, unit, life in STOCK_ITEMS:
            received = reference - as_days(int(rng.integers(5, 90)))
            quantity = int(rng.integers(10, 60))
            expires = received + as_days(life) if life else np.datetime64("NaT")
            if life and expires <= reference + as_days(soon + 5):
                expires = reference + as_days(soon + 20 + int(rng.integers(0, 60)))
            left = lot(centre, minor, item, unit, quantity, received, expires, "fresh")
            if life and index % 2 == 0 and len(centres) > 1 and minor in ("rice", "instant_food"):
                other = centres[(index + 1) % len(centres)]
                moved = max(1, left // 3)
                day = min(received + as_days(5), reference - as_days(1))
                for side, here, there in (("transferred_out", centre, other),
                                          ("transferred_in", other, centre)):  # fmt: skip
                    moves.append({"centre_id": here, "kind": side, "moved_on": day,
                                  "minor_category": minor, "item": item, "unit": unit,
                                  "quantity": moved, "expires_on": expires, "donation_id": "",
                                  "counterpart_centre_id": there})  # fmt: skip
        # planted: one lot expiring soon, one expired and still held, one expired and discarded
        minor, item, unit, _ = STOCK_ITEMS[index % 3]
        expires = reference + as_days(int(rng.integers(2, soon - 1)))
        lot(centre, minor, item, unit, int(rng.integers(10, 40)),
            expires - as_days(int(rng.integers(30, 90))), expires, "expiring")  # fmt: skip
        if index % 2 == 0:
            minor, item, unit, _ = STOCK_ITEMS[3]
            expires = reference - as_days(int(rng.integers(2, 20)))
            lot(centre, minor, item, unit, int(rng.integers(10, 30)),
                expires - as_days(7), expires, "expired")  # fmt: skip
        minor, item, unit, _ = STOCK_ITEMS[2]
        expires = reference - as_days(int(rng.integers(25, 40)))
        lot(centre, minor, item, unit, 15, expires - as_days(40), expires, "discarded")
    donations = pd.DataFrame(donations, columns=DONATION_COLUMNS)
    moves = pd.DataFrame(moves, columns=MOVEMENT_COLUMNS[1:])
    moves.insert(0, "movement_id", [f"SM-{i + 1:06d}" for i in range(len(moves))])
    return donations, moves, truth


def _add_months(day: np.datetime64, months: int) -> np.datetime64:
    return (day.astype("datetime64[M]") + months).astype("datetime64[D]")


def _sponsorships(rng, population, household_ids, resident_ids, dong_of, seodaemun, dongs,
                  donors, active, reference, config):  # fmt: skip
    """Draw the "100가정 보듬기" sponsorships of up to 100 households, with their payments."""
    ending = config.omissions["sponsorship_ending_days"]
    heads = population.household_head
    in_gu = np.isin(dong_of[heads], seodaemun) & active[heads]
    households = np.flatnonzero(in_gu)
    count = int(min(100, len(households) // 10))
    chosen = np.sort(rng.permutation(households)[:count])
    rows, payments, truth = [], [], []
    this_month = reference.astype("datetime64[M]").astype("datetime64[D]")
    n_ending, n_followed, n_unpaid = max(1, count // 12), max(1, count // 20), max(1, count // 12)
    for number, household in enumerate(chosen):
        head = heads[household]
        centre = "P-CC-" + dongs["adm_cd2"].iat[dong_of[head]]
        sid = f"SS-{number + 1:04d}"
        if number < n_ending + n_followed:
            ends = reference + as_days(int(rng.integers(3, ending - 4)))
        else:
            ends = reference + as_days(int(rng.integers(60, 330)))
        starts = _add_months(ends.astype("datetime64[M]").astype("datetime64[D]"), -11)
        ends = _add_months(starts, 12) - as_days(1)
        if ends > reference + as_days(ending - 4) and number < n_ending + n_followed:
            ends = reference + as_days(ending - 5)
        amount = int(rng.choice([50_000, 100_000, 150_000]))
        donor = donors["donor_id"].iat[number % len(donors)]
        row = {"sponsorship_id": sid, "donor_id": donor, "household_id": household_ids[household],
               "centre_id": centre, "programme": PROGRAMME, "starts_on": starts, "ends_on": ends,
               "monthly_amount_krw": amount, "successor_id": ""}  # fmt: skip
        rows.append(row)
        if number < n_ending:
            truth.append({"kind": "sponsorship_ending", "key": sid, "sponsorship_id": sid,
                          "centre": centre, "resident_ids": resident_ids[head],
                          "planted_on": str(ends)[:10]})  # fmt: skip
        elif number < n_ending + n_followed:
            follow = f"SS-{number + 1:04d}-2"
            row["successor_id"] = follow
            rows.append({**row, "sponsorship_id": follow, "starts_on": ends + as_days(1),
                         "ends_on": _add_months(ends + as_days(1), 12) - as_days(1),
                         "successor_id": ""})  # fmt: skip
        months = np.arange(starts.astype("datetime64[M]"), reference.astype("datetime64[M]") + 1)
        months = months.astype("datetime64[D]")
        paid_day = months + as_days(4)
        due = paid_day <= reference - as_days(1)
        months = months[due]
        skip = set()
        unpaid = n_ending + n_followed <= number < n_ending + n_followed + n_unpaid
        past = months[months < this_month - as_days(40)]
        if unpaid and len(past):
            skip.add(past[int(rng.integers(0, len(past)))])
            truth.append({"kind": "sponsorship_unpaid", "key": sid, "sponsorship_id": sid,
                          "centre": centre, "resident_ids": resident_ids[head],
                          "planted_on": str(min(skip))[:10]})  # fmt: skip
        for month in months:
            if month in skip:
                continue
            payments.append({"sponsorship_id": sid, "month": str(month)[:7],
                             "amount_krw": amount, "received_on": month + as_days(4)})  # fmt: skip
    return (
        pd.DataFrame(rows, columns=SPONSORSHIP_COLUMNS),
        pd.DataFrame(payments, columns=["sponsorship_id", "month", "amount_krw", "received_on"]),
        truth,
    )


def _consents(rng, support, population, resident_ids, dongs, dong_of, reference):
    """About 60% of supported residents consented to sharing; a few refused."""
    supported = np.unique(support["resident"].to_numpy())
    draw = rng.random(len(supported))
    consented = draw < CONSENT_SHARE
    refused = (draw >= CONSENT_SHARE) & (draw < CONSENT_SHARE + REFUSAL_SHARE)
    who = supported[consented | refused]
    days = reference - as_days(rng.integers(1, 365, len(who)))
    names = dongs["dong_nm"].to_numpy()[dong_of[who]]
    return pd.DataFrame(
        {
            "resident_id": resident_ids[who],
            "consented": np.where(consented[consented | refused], "true", "false"),
            "decided_on": days,
            "recorded_by": np.char.add(names.astype(str), " 주민센터 맞춤형복지팀"),
            "source": "동의서",
        }
    )


def _truth_frame(*parts) -> pd.DataFrame:
    rows = []
    for part in parts:
        for entry in part:
            row = {column: entry.get(column) for column in TRUTH_COLUMNS}
            if row["kind"] == "unserved_crisis":
                row["key"] = entry["resident_ids"]
            if row["kind"] and row["kind"].startswith("stock_"):
                row["key"] = "|".join(
                    [entry["centre"], entry["minor_category"], entry["item"], entry["expires_on"]]
                )
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(TRUTH_COLUMNS)).fillna("")
    return frame.sort_values(["kind", "key"], kind="stable").reset_index(drop=True)
