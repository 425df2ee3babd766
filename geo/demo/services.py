"""Providers, needs, support records and teams for the demo generator.

Support comes from public bodies (the dong community centre's 맞춤형복지팀, the 구청, the
보건소, the national health insurer) and from synthetic private organisations (marked
``(가상)``). Food support is deliberately duplicated across providers in some months, as
happens with uncoordinated 명절 (holiday) and food-bank deliveries.

Length: the providers, needs, support and teams are drawn from one shared picture of who
serves which dong; split, every part would need the others' draws.
"""

from __future__ import annotations

import datetime
from types import MappingProxyType

import numpy as np
import pandas as pd

from geo.demo.population import (
    BLSA_LIVELIHOOD_THRESHOLD,
    ELDERLY_AGE,
    SEODAEMUN_SGG_CD,
    Population,
    as_days,
)
from geo.demo.welfare import (
    CRISIS_KINDS,
    HISTORY_DAYS,
    CrisisTruth,
    Finances,
    median_income,
)

CATEGORIES = (
    "safety",
    "health",
    "daily_living",
    "family",
    "social",
    "economic",
    "education",
    "employment",
    "living_environment",
    "legal",
)
PRIVATE_PROVIDERS = {
    # slot: (provider_id, name, kind)
    "SWC1": ("P-SWC-GAJAEUL", "가재울종합사회복지관 (가상)", "social_welfare_centre"),
    "SWC2": ("P-SWC-ANSAN", "안산자락종합사회복지관 (가상)", "social_welfare_centre"),
    "SWC3": ("P-SWC-HONGJECHEON", "홍제천종합사회복지관 (가상)", "social_welfare_centre"),
    "SENIOR1": ("P-SENIOR-MUAKJAE", "무악재노인복지관 (가상)", "senior_welfare_centre"),
    "SENIOR2": ("P-SENIOR-MORAENAE", "모래내노인복지관 (가상)", "senior_welfare_centre"),
    "FOODBANK": ("P-FOODBANK", "서대문나눔푸드뱅크 (가상)", "food_bank"),
    "CHURCH": ("P-CHURCH", "새빛교회 이웃사랑부 (가상)", "religious_charity"),
    "REDCROSS": ("P-REDCROSS", "적십자봉사회 서대문지구 (가상)", "red_cross"),
    "SELF_SUFFICIENCY": (
        "P-SELF-SUFFICIENCY",
        "서대문지역자활센터 (가상)",
        "self_sufficiency_centre",
    ),
    "LEGAL": ("P-LEGAL-AID", "마을법률상담소 (가상)", "legal_aid"),
}
PUBLIC_SLOTS = ("CC", "GU", "HC", "NHIS")
SLOTS = PUBLIC_SLOTS + tuple(PRIVATE_PROVIDERS)
_FOOD = "daily_living"
# (slot, category, item, quantity, unit, amount_krw); -1 = not given.
OFFERS = pd.DataFrame(
    [
        ("CC", "economic", "긴급복지 생계지원", -1, "", 730_000),
        ("CC", _FOOD, "쌀 10kg", 1, "포", 35_000),
        ("CC", _FOOD, "식료품 꾸러미", 1, "상자", 50_000),
        ("CC", "living_environment", "난방비 지원", -1, "", 100_000),
        ("CC", "safety", "응급안전안심서비스 연계", 1, "건", -1),
        ("GU", "economic", "긴급복지 생계지원", -1, "", 730_000),
        ("GU", "economic", "공과금 지원", -1, "", 150_000),
        ("GU", "living_environment", "주거환경 개선", -1, "", 800_000),
        ("GU", "legal", "채무조정 상담 연계", 1, "건", -1),
        ("HC", "health", "방문간호", 2, "회", -1),
        ("HC", "health", "건강검진 연계", 1, "회", -1),
        ("NHIS", "health", "의료비 지원", -1, "", 300_000),
        ("SWC1", _FOOD, "밑반찬", 4, "회", 40_000),
        ("SWC1", "social", "말벗 서비스", 4, "회", -1),
        ("SWC1", "family", "가족상담", 3, "회", -1),
        ("SWC1", "education", "학습지원", -1, "", 100_000),
        ("SWC2", _FOOD, "밑반찬", 4, "회", 40_000),
        ("SWC2", "employment", "취업상담", 1, "회", -1),
        ("SWC2", "education", "교재 지원", 1, "세트", 30_000),
        ("SWC3", _FOOD, "도시락 배달", 20, "식", 100_000),
        ("SWC3", "social", "안부전화", 8, "회", -1),
        ("SWC3", "family", "가족상담", 3, "회", -1),
        ("SENIOR1", _FOOD, "도시락 배달", 20, "식", 100_000),
        ("SENIOR1", "social", "나들이 프로그램", 1, "회", -1),
        ("SENIOR1", "safety", "응급안전안심서비스 장비 설치", 1, "대", -1),
        ("SENIOR2", _FOOD, "밑반찬", 4, "회", 40_000),
        ("SENIOR2", "social", "안부전화", 8, "회", -1),
        ("SENIOR2", "health", "건강 체조 교실", 4, "회", -1),
        ("FOODBANK", _FOOD, "쌀 10kg", 1, "포", 35_000),
        ("FOODBANK", _FOOD, "라면 1박스", 1, "박스", 20_000),
        ("FOODBANK", _FOOD, "식료품 꾸러미", 1, "상자", 50_000),
        ("CHURCH", _FOOD, "쌀 10kg", 1, "포", 35_000),
        ("CHURCH", _FOOD, "라면 1박스", 1, "박스", 20_000),
        ("CHURCH", "economic", "후원금", -1, "", 200_000),
        ("REDCROSS", _FOOD, "밑반찬", 4, "회", 40_000),
        ("REDCROSS", _FOOD, "라면 1박스", 1, "박스", 20_000),
        ("REDCROSS", "living_environment", "전기장판", 1, "개", 40_000),
        ("SELF_SUFFICIENCY", "employment", "자활근로 연계", 1, "건", -1),
        ("LEGAL", "legal", "법률상담", 1, "회", -1),
    ],
    columns=["slot", "category", "item", "quantity", "unit", "amount_krw"],
)
OFFERS["slot_index"] = [SLOTS.index(slot) for slot in OFFERS["slot"]]

# Need categories by (perceived) crisis kind: probability of each category, CATEGORIES order.
_NEED_PROBABILITIES = {
    "isolation": {"social": 1.0, "safety": 0.5, "daily_living": 0.4, "health": 0.2},
    "income": {"economic": 1.0, "employment": 0.35, "legal": 0.1, "daily_living": 0.3},
    "health": {"health": 1.0, "daily_living": 0.5, "economic": 0.2},
    "utility_arrears": {"economic": 1.0, "living_environment": 0.6, "daily_living": 0.3},
}
NEED_PROBABILITIES = np.array(
    [
        [_NEED_PROBABILITIES[kind].get(category, 0.0) for category in CATEGORIES]
        for kind in CRISIS_KINDS
    ]
) + np.array([0.0, 0.0, 0.0, 0.08, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])  # family, any kind
ELDERLY_CARE_CATEGORIES = np.array(["social", "health", "daily_living", "safety"])
ELDERLY_CARE_WEIGHTS = np.array([0.35, 0.30, 0.25, 0.10])
LIVELIHOOD_PAYDAY = 20  # 생계급여 is paid on the 20th
LIVELIHOOD_MONTHS = 12
FOOD_DUPLICATION_PROBABILITY = 0.4
HOLIDAY_PARTICIPATION = 0.5
# 설날 and 추석 (the day itself), 2022-2030.
HOLIDAYS = np.array(
    [
        "2022-02-01",
        "2022-09-10",
        "2023-01-22",
        "2023-09-29",
        "2024-02-10",
        "2024-09-17",
        "2025-01-29",
        "2025-10-06",
        "2026-02-17",
        "2026-09-25",
        "2027-02-07",
        "2027-09-15",
        "2028-01-27",
        "2028-10-03",
        "2029-02-13",
        "2029-09-22",
        "2030-02-03",
        "2030-09-12",
    ],
    dtype="datetime64[D]",
)

FALLBACK_BASE_FACILITY = {"1141072000": "CC-1141071000"}  # 북가좌제2동 centre has no point


def provider_table(dongs: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the region's providers and the provider id of each slot for each dong.

    Returns
    -------
    providers : pandas.DataFrame
        ``provider_id``, ``name``, ``sector``, ``kind``.
    slot_provider : numpy.ndarray
        Shape ``(n_dongs, len(SLOTS))``, provider ids.
    """
    codes = dongs["adm_cd2"].to_numpy()
    sgg = dongs["sgg_cd"].to_numpy()
    slot_provider = np.empty((len(dongs), len(SLOTS)), dtype=object)
    slot_provider[:, 0] = "P-CC-" + codes
    slot_provider[:, 1] = "P-GU-" + sgg
    slot_provider[:, 2] = "P-HC-" + sgg
    slot_provider[:, 3] = np.where(sgg == SEODAEMUN_SGG_CD, "P-NHIS-11410", "P-NHIS-SEOUL")
    for index, (provider_id, _name, _kind) in enumerate(PRIVATE_PROVIDERS.values()):
        slot_provider[:, len(PUBLIC_SLOTS) + index] = provider_id

    gus = dongs.drop_duplicates("sgg_cd")
    rows = [
        (f"P-CC-{code}", f"{name} 주민센터 맞춤형복지팀", "public", "community_centre")
        for code, name in zip(dongs["adm_cd2"], dongs["dong_nm"], strict=True)
    ]
    for code, name in zip(gus["sgg_cd"], gus["sgg_nm"], strict=True):
        rows.append((f"P-GU-{code}", f"{name}청 복지정책과", "public", "local_government"))
        rows.append((f"P-HC-{code}", f"{name}보건소 방문건강관리팀", "public", "health_centre"))
    if (sgg == SEODAEMUN_SGG_CD).any():
        rows.append(("P-NHIS-11410", "국민건강보험공단 서대문지사", "public", "health_insurance"))
    if (sgg != SEODAEMUN_SGG_CD).any():
        rows.append(("P-NHIS-SEOUL", "국민건강보험공단 서울지역본부", "public", "health_insurance"))
    for provider_id, name, kind in PRIVATE_PROVIDERS.values():
        rows.append((provider_id, name, "private", kind))
    providers = pd.DataFrame(rows, columns=["provider_id", "name", "sector", "kind"])
    return providers.sort_values("provider_id").reset_index(drop=True), slot_provider


def teams_table(dongs: pd.DataFrame, members_per_dong: np.ndarray) -> pd.DataFrame:
    """Return one 찾아가는 복지팀 per Seodaemun dong, based at that dong's community centre.

    북가좌제2동's centre has no point, so its team is based at 북가좌제1동's
    (:data:`FALLBACK_BASE_FACILITY`).

    Parameters
    ----------
    dongs
        The region's dongs (``adm_cd2``, ``dong_nm``, ``sgg_cd``).
    members_per_dong
        Team size of each dong's team, in the order of ``dongs``
        (:func:`team_sizes`).
    """
    seodaemun = (dongs["sgg_cd"] == SEODAEMUN_SGG_CD).to_numpy()
    codes = dongs["adm_cd2"].to_numpy()[seodaemun]
    sizes = np.asarray(members_per_dong)[seodaemun]
    return pd.DataFrame(
        {
            "team_id": "T-" + codes,
            "name": dongs["dong_nm"].to_numpy()[seodaemun] + " 찾아가는 복지팀",
            "base_facility_id": [FALLBACK_BASE_FACILITY.get(code, f"CC-{code}") for code in codes],
            "adm_cd2s": codes,
            "members": [
                _demo_members("T-" + code, i, int(size))
                for i, (code, size) in enumerate(zip(codes, sizes, strict=True))
            ],
        }
    )


#: Synthetic visitors: common surnames with words for given names (이음 "link", 나눔
#: "sharing", 돌봄 "care", ...), so that nobody mistakes them for real staff.
DEMO_SURNAMES = ("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한")
DEMO_GIVEN_NAMES = ("이음", "나눔", "돌봄", "다정", "온기", "보람", "새싹", "햇살", "미소")
#: Roles of a team's members in order: a team of n has the first n (at most 8).
DEMO_ROLES = ("복지담당", "방문간호사", "복지통장", "복지통장", "복지통장", "복지담당", "복지통장",
              "방문간호사")  # fmt: skip
#: Home visits a member makes on a working day, by role (the calibration of
#: docs/demo_data.md §10): a 복지담당 (welfare official: 복지플래너 or 주무관, with desk work)
#: 3, a 방문간호사 (visiting nurse) 5 and a 복지통장 (a neighbourhood head who checks in on
#: neighbours) 4.
VISITS_PER_DAY_BY_ROLE = MappingProxyType({"복지담당": 3, "방문간호사": 5, "복지통장": 4})
#: A team gets one member per this many demo residents of its dong, 3 to 8 members.
RESIDENTS_PER_MEMBER = 450
MIN_MEMBERS, MAX_MEMBERS = 3, len(DEMO_ROLES)


def team_sizes(residents_per_dong: np.ndarray) -> np.ndarray:
    """Return the size of each dong's visit team (members).

    One member per :data:`RESIDENTS_PER_MEMBER` demo residents of the dong, rounded, and
    between :data:`MIN_MEMBERS` and :data:`MAX_MEMBERS`.
    """
    wanted = np.rint(np.asarray(residents_per_dong, dtype=float) / RESIDENTS_PER_MEMBER)
    return np.clip(wanted, MIN_MEMBERS, MAX_MEMBERS).astype(np.int64)


def member_capacities(size: int) -> np.ndarray:
    """Return the visits per working day of each member of a team of ``size``, in order."""
    return np.array([VISITS_PER_DAY_BY_ROLE[role] for role in DEMO_ROLES[:size]], dtype=np.int64)


def _demo_members(team_id: str, team_index: int, count: int) -> str:
    """Return ``count`` synthetic members of a demo team as the import file's ``members`` cell.

    The entries are ``member_id:name:role`` joined by ``|``; deterministic, so re-imports
    change nothing.
    """
    entries = []
    for k in range(count):
        surname = DEMO_SURNAMES[(team_index * 5 + k * 3) % len(DEMO_SURNAMES)]
        given = DEMO_GIVEN_NAMES[(team_index * 2 + k) % len(DEMO_GIVEN_NAMES)]
        entries.append(f"{team_id}-M{k + 1}:{surname}{given}:{DEMO_ROLES[k]}")
    return "|".join(entries)


def _resolve_status(
    rng: np.random.Generator, identified_on: np.ndarray, reference: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    """Draw status and resolution date: resolved with probability ``1 - exp(-days_open/150)``.

    A resolved need is ``met`` or ``closed`` and resolved 7 + Exponential(60) days after it
    was identified, never after ``reference``; the others are ``open`` or ``in_progress``.
    """
    days_open = (reference - identified_on).astype("timedelta64[D]").astype(np.int64)
    resolved = rng.random(len(days_open)) < 1.0 - np.exp(-days_open / 150.0)
    days_to_resolve = np.minimum(7 + rng.exponential(60.0, len(days_open)), days_open)
    resolved_on = identified_on + as_days(np.floor(days_to_resolve))
    open_or_progress = np.where(rng.random(len(days_open)) < 0.4, "open", "in_progress")
    met_or_closed = np.where(rng.random(len(days_open)) < 0.7, "met", "closed")
    status = np.where(resolved, met_or_closed, open_or_progress)
    return status, np.where(resolved, resolved_on, np.datetime64("NaT"))


def draw_needs(
    rng: np.random.Generator,
    population: Population,
    crisis: CrisisTruth,
    visits: pd.DataFrame,
    as_of: datetime.date,
) -> pd.DataFrame:
    """Draw the needs identified by visits, recipient enrolment and elderly-care assessments.

    A visit that confirmed a crisis identifies needs in categories typical of the crisis kind
    as perceived (a random kind for a false confirmation; ``education`` likelier with a child
    in the household); each recipient household's head has an ``economic`` need in progress
    since enrolment; half of the lone elderly heads met on a visit are assessed for one care
    need.

    Parameters
    ----------
    visits
        The visits (:attr:`geo.demo.welfare.VisitPlan.visits`); a resident's first
        confirming (or meeting) visit dates the need.
    as_of
        Reference date: needs are resolved no later than this.

    Returns
    -------
    pandas.DataFrame
        ``resident``, ``category``, ``status``, ``identified_on``, ``resolved_on``, ``source``.
    """
    reference = np.datetime64(as_of, "D")
    confirmed = visits[visits["outcome"] == "crisis_confirmed"]
    first_confirmed = confirmed.groupby("resident", sort=True)["visited_on"].min()
    resident = first_confirmed.index.to_numpy()
    true_kind = crisis.kind_of_residents(population)[resident]
    perceived = np.where(
        true_kind == "", CRISIS_KINDS[rng.integers(0, len(CRISIS_KINDS), len(resident))], true_kind
    )
    kind_index = pd.Index(CRISIS_KINDS).get_indexer(perceived)
    has_child = (
        np.bincount(
            population.household,
            weights=population.age < 19,
            minlength=len(population.household_size),
        )
        > 0
    )
    probability = NEED_PROBABILITIES[kind_index].copy()
    probability[:, CATEGORIES.index("education")] += (
        0.15 * has_child[population.household[resident]]
    )
    chosen = rng.random(probability.shape) < probability
    need_resident, need_category = np.nonzero(chosen)
    crisis_needs = pd.DataFrame(
        {
            "resident": resident[need_resident],
            "category": np.array(CATEGORIES)[need_category],
            "identified_on": first_confirmed.to_numpy()[need_resident],
            "source": "방문상담",
        }
    )

    heads = population.household_head
    recipient_heads = heads[population.household_blsa]
    enrolment = reference - as_days(rng.integers(60, 1800, len(recipient_heads)))
    livelihood_needs = pd.DataFrame(
        {
            "resident": recipient_heads,
            "category": "economic",
            "identified_on": enrolment,
            "source": "기초생활보장 조사",
        }
    )

    met = visits[visits["outcome"] == "met"]
    first_met = met.groupby("resident", sort=True)["visited_on"].min()
    met_resident = first_met.index.to_numpy()
    lone_elderly = population.is_head[met_resident] & (population.age[met_resident] >= ELDERLY_AGE)
    lone_elderly &= population.household_size[population.household[met_resident]] == 1
    assessed = lone_elderly & (rng.random(len(met_resident)) < 0.5)
    care_category = ELDERLY_CARE_CATEGORIES[
        rng.choice(len(ELDERLY_CARE_CATEGORIES), size=int(assessed.sum()), p=ELDERLY_CARE_WEIGHTS)
    ]
    care_needs = pd.DataFrame(
        {
            "resident": met_resident[assessed],
            "category": care_category,
            "identified_on": first_met.to_numpy()[assessed],
            "source": "노인맞춤돌봄 조사",
        }
    )

    assessed_needs = pd.concat([crisis_needs, care_needs], ignore_index=True)
    status, resolved_on = _resolve_status(
        rng, assessed_needs["identified_on"].to_numpy(), reference
    )
    assessed_needs = assessed_needs.assign(status=status, resolved_on=resolved_on)
    livelihood_needs = livelihood_needs.assign(
        status="in_progress", resolved_on=np.datetime64("NaT", "D")
    )
    needs = pd.concat([assessed_needs, livelihood_needs], ignore_index=True)
    needs = needs.sort_values(["identified_on", "resident", "category"], kind="stable")
    return needs[
        ["resident", "category", "status", "identified_on", "resolved_on", "source"]
    ].reset_index(drop=True)


def _food_bundles(
    rng: np.random.Generator, providers_per_event: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw for each event that many distinct food providers, each with one of its offers.

    Returns
    -------
    event, offer : numpy.ndarray
        Event index and row of :data:`OFFERS` for every delivery.
    """
    food = OFFERS[OFFERS["category"] == _FOOD]
    food_slots = np.unique(food["slot_index"].to_numpy())
    keys = rng.random((len(providers_per_event), len(food_slots)))
    slot_order = np.argsort(keys, axis=1)
    taken = np.arange(len(food_slots))[None, :] < providers_per_event[:, None]
    event, column = np.nonzero(taken)
    slot = food_slots[slot_order[event, column]]
    offer_rows = [food.index[food["slot_index"] == value].to_numpy() for value in food_slots]
    offer_start = np.cumsum([0] + [len(rows) for rows in offer_rows])[:-1]
    offer_count = np.array([len(rows) for rows in offer_rows])
    flat_rows = np.concatenate(offer_rows)
    position = np.searchsorted(food_slots, slot)
    pick = offer_start[position] + np.floor(rng.random(len(slot)) * offer_count[position])
    return event, flat_rows[pick.astype(np.int64)]


def _random_day_in_month(
    rng: np.random.Generator, dates: np.ndarray, reference: np.datetime64
) -> np.ndarray:
    """Draw a random day in the same calendar month as each date, before ``reference``."""
    month_start = dates.astype("datetime64[M]").astype("datetime64[D]")
    next_month = (dates.astype("datetime64[M]") + 1).astype("datetime64[D]")
    last = np.minimum(next_month, reference)
    span = np.maximum((last - month_start).astype(np.int64), 1)
    return month_start + as_days(np.floor(rng.random(len(dates)) * span))


def draw_support(
    rng: np.random.Generator,
    population: Population,
    finances: Finances,
    needs: pd.DataFrame,
    median_table: pd.DataFrame,
    as_of: datetime.date,
) -> pd.DataFrame:
    """Draw support records: monthly 생계급여, need-driven support and 명절 food parcels.

    Returns
    -------
    pandas.DataFrame
        ``resident``, ``slot`` (index into :data:`SLOTS`), ``category``, ``item``,
        ``amount_krw`` and ``quantity`` (-1 when absent), ``unit``, ``provided_on``, ``need``
        (the row of ``needs`` a record meets, -1 for none).
    """
    reference = np.datetime64(as_of, "D")
    parts = []

    # 1. Monthly livelihood benefit (생계급여) from the dong community centre.
    recipient_households = np.flatnonzero(population.household_blsa)
    this_month = reference.astype("datetime64[M]")
    paydays = (this_month - np.arange(LIVELIHOOD_MONTHS + 1)).astype("datetime64[D]") + as_days(
        LIVELIHOOD_PAYDAY - 1
    )
    paydays = np.sort(paydays[paydays < reference])[-LIVELIHOOD_MONTHS:]
    household = np.repeat(recipient_households, len(paydays))
    payday = np.tile(paydays, len(recipient_households))
    pay_year = payday.astype("datetime64[Y]").astype(np.int64) + 1970
    benefit_line = np.zeros(len(household))
    for year in np.unique(pay_year):
        rows = pay_year == year
        benefit_line[rows] = BLSA_LIVELIHOOD_THRESHOLD * median_income(
            median_table, population.household_size[household[rows]], int(year)
        )
    amount = (np.floor((benefit_line - finances.income_krw[household]) / 10) * 10).astype(np.int64)
    keep = amount >= 10_000
    parts.append(
        pd.DataFrame(
            {
                "resident": population.household_head[household[keep]],
                "slot": SLOTS.index("CC"),
                "category": "economic",
                "item": "생계급여",
                "amount_krw": amount[keep],
                "quantity": -1,
                "unit": "",
                "provided_on": payday[keep],
                "need": -1,  # linked to the enrolment need in geo.demo.sharing
            }
        )
    )

    # 2. Support for assessed needs (not for open ones or the livelihood enrolment itself).
    served = needs[(needs["status"] != "open") & (needs["source"] != "기초생활보장 조사")]
    deliveries = np.minimum(1 + rng.poisson(1.2, len(served)), 5)
    need_row = np.repeat(np.arange(len(served)), deliveries)
    sequence = np.arange(len(need_row)) - np.repeat(np.cumsum(deliveries) - deliveries, deliveries)
    identified = served["identified_on"].to_numpy()[need_row]
    provided_on = identified + as_days(rng.integers(3, 26, len(need_row)) + 30 * sequence)
    resolved = served["resolved_on"].to_numpy()[need_row]
    keep = provided_on < reference
    keep &= (sequence == 0) | np.isnat(resolved) | (provided_on <= resolved)
    need_row, sequence, provided_on = need_row[keep], sequence[keep], provided_on[keep]
    category = served["category"].to_numpy()[need_row]
    resident = served["resident"].to_numpy()[need_row]
    offer = np.empty(len(need_row), dtype=np.int64)
    for name in np.unique(category):
        rows = np.flatnonzero(category == name)
        candidates = OFFERS.index[OFFERS["category"] == name].to_numpy()
        offer[rows] = candidates[rng.integers(0, len(candidates), len(rows))]
    duplicated = (category == _FOOD) & (sequence == 0)
    duplicated &= rng.random(len(need_row)) < FOOD_DUPLICATION_PROBABILITY
    single = ~duplicated
    need_index = served.index.to_numpy()[need_row]
    parts.append(
        _offer_rows(resident[single], offer[single], provided_on[single], need_index[single])
    )
    bundle_size = 2 + (rng.random(int(duplicated.sum())) < 0.4)
    event, bundle_offer = _food_bundles(rng, bundle_size)
    bundle_dates = _random_day_in_month(rng, provided_on[duplicated][event], reference)
    parts.append(
        _offer_rows(
            resident[duplicated][event], bundle_offer, bundle_dates, need_index[duplicated][event]
        )
    )

    # 3. 명절 food parcels for lone elderly and recipient heads, from 1-3 providers each.
    heads = population.household_head
    lone_elderly = (population.household_size == 1) & (population.age[heads] >= ELDERLY_AGE)
    eligible = heads[lone_elderly | population.household_blsa]
    all_holidays = HOLIDAYS
    in_window = (all_holidays > reference - as_days(HISTORY_DAYS)) & (all_holidays <= reference)
    holidays = all_holidays[in_window]
    eve = holidays - as_days(1)
    start = np.maximum(eve.astype("datetime64[M]").astype("datetime64[D]"), holidays - as_days(12))
    participant = rng.random((len(eligible), len(holidays))) < HOLIDAY_PARTICIPATION
    person, holiday = np.nonzero(participant)
    providers_per_event = 1 + rng.binomial(2, 0.4, len(person))
    event, parcel_offer = _food_bundles(rng, providers_per_event)
    first_day = start[holiday[event]]
    span = (eve[holiday[event]] - first_day).astype(np.int64) + 1
    parcel_dates = first_day + as_days(np.floor(rng.random(len(event)) * span))
    keep = parcel_dates < reference
    parcels = _offer_rows(eligible[person[event]][keep], parcel_offer[keep], parcel_dates[keep])
    parts.append(parcels.assign(item="명절 " + parcels["item"]))  # minor: holiday_parcel

    support = pd.concat(parts, ignore_index=True)
    support = support.sort_values(["provided_on", "resident", "slot", "item"], kind="stable")
    return support.reset_index(drop=True)


def _offer_rows(
    resident: np.ndarray, offer: np.ndarray, provided_on: np.ndarray, need: np.ndarray | int = -1
) -> pd.DataFrame:
    chosen = OFFERS.iloc[offer]
    return pd.DataFrame(
        {
            "resident": resident,
            "slot": chosen["slot_index"].to_numpy(),
            "category": chosen["category"].to_numpy(),
            "item": chosen["item"].to_numpy(),
            "amount_krw": chosen["amount_krw"].to_numpy(),
            "quantity": chosen["quantity"].to_numpy(),
            "unit": chosen["unit"].to_numpy(),
            "provided_on": provided_on,
            "need": need,
        }
    )
