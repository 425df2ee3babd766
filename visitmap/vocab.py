"""Controlled vocabularies: codes stored in the database, with Korean and English labels.

Codes are stable identifiers (lower-case English); labels are chosen at the edge (UI, reports).

Length: every controlled vocabulary of the project sits here, each a short table, so that one
file answers "which codes exist"; splitting them by feature would scatter that answer.
"""

from __future__ import annotations

from types import MappingProxyType

# code -> (한국어, English)
FACILITY_KINDS = MappingProxyType(
    {
        "community_centre": ("주민센터", "Community service centre"),
        "senior_centre": ("경로당", "Senior centre"),
        "welfare_centre": ("복지관", "Welfare centre"),
        "health_centre": ("보건소", "Public health centre"),
        "other": ("기타", "Other"),
    }
)

RESIDENT_STATUSES = MappingProxyType(
    {
        "active": ("거주", "Active"),
        "moved": ("전출", "Moved away"),
        "deceased": ("사망", "Deceased"),
        "unreachable": ("연락두절", "Unreachable"),
    }
)

SEXES = MappingProxyType({"M": ("남", "Male"), "F": ("여", "Female")})

CRISIS_SIGNAL_KINDS = MappingProxyType(
    {
        "electricity_arrears": ("전기요금 체납", "Electricity arrears"),
        "electricity_cutoff": ("단전", "Electricity cut off"),
        "water_arrears": ("수도요금 체납", "Water arrears"),
        "water_cutoff": ("단수", "Water cut off"),
        "gas_arrears": ("가스요금 체납", "Gas arrears"),
        "gas_cutoff": ("단가스", "Gas cut off"),
        "health_insurance_arrears": ("건강보험료 체납", "Health insurance arrears"),
        "rent_arrears": ("임차료 체납", "Rent arrears"),
        "management_fee_arrears": ("관리비 체납", "Management fee arrears"),
        "telecom_arrears": ("통신비 체납", "Telecom arrears"),
    }
)

VISIT_OUTCOMES = MappingProxyType(
    {
        "met": ("면담", "Met"),
        "not_home": ("부재", "Not home"),
        "refused": ("거부", "Refused"),
        "unreachable": ("이사·주소불명·연락불가", "Moved, wrong address or unreachable"),
        "crisis_confirmed": ("위기 확인", "Crisis confirmed"),
    }
)

NEED_STATUSES = MappingProxyType(
    {
        "open": ("미해결", "Open"),
        "in_progress": ("지원중", "In progress"),
        "met": ("해결", "Met"),
        "closed": ("종결", "Closed"),
    }
)

# The ten case-management need domains used in Korean public welfare (사례관리 욕구 영역).
NEED_CATEGORIES = MappingProxyType(
    {
        "safety": ("안전", "Safety"),
        "health": ("건강", "Health"),
        "daily_living": ("일상생활유지", "Daily living"),
        "family": ("가족관계", "Family relations"),
        "social": ("사회적관계", "Social relations"),
        "economic": ("경제", "Economic"),
        "education": ("교육", "Education"),
        "employment": ("고용", "Employment"),
        "living_environment": ("생활환경", "Living environment"),
        "legal": ("법률 및 권익보장", "Legal and rights"),
    }
)

PROVIDER_SECTORS = MappingProxyType({"public": ("공공", "Public"), "private": ("민간", "Private")})

#: Why a candidate is not in a stored day plan: the codes of routing.day_problem.DropReason
#: (which words them; a test keeps the two lists equal).
ROUTE_DROP_REASONS = (
    "not_due",
    "too_far",
    "window_unreachable",
    "day_full_lowest_priority",
    "day_full_no_room",
    "not_chosen",
)


def sql_in(codes) -> str:
    """Return the codes quoted for a CHECK constraint's list, e.g. ``'a', 'b'``.

    The codes are fixed identifiers, never user input: they are not escaped.
    """
    return ", ".join(f"'{c}'" for c in codes)


#: Account roles (issue 10): what each may see is in docs/accounts.md and webmap/access.py.
ROLES = MappingProxyType(
    {
        "admin": ("관리자", "Administrator"),
        "leader": ("복지 담당 공무원", "Welfare official"),
        "visitor": ("방문 팀원", "Visit team member"),
        "agency": ("민간기관 직원", "Agency staff"),
        "analyst": ("분석가", "Analyst"),
    }
)

LOGIN_EVENTS = MappingProxyType(
    {
        "login": ("로그인", "Signed in"),
        "failed": ("로그인 실패", "Failed sign-in"),
        "locked": ("잠김", "Locked"),
        "locked_attempt": ("잠긴 계정 로그인 시도", "Attempt on a locked account"),
        "disabled_attempt": ("비활성 계정 로그인 시도", "Attempt on a disabled account"),
        "logout": ("로그아웃", "Signed out"),
        "timeout": ("시간 초과", "Timed out"),
    }
)

#: Tier codes (as scoring computes them) -> names (as the API and the pages show them).
TIER_NAMES = MappingProxyType({0: "low", 1: "medium", 2: "high"})

#: A resident's visit state (issue 12), in the order a page lists them. Exactly one applies,
#: decided by ``scoring.cadence.visit_states``: no longer a target (moved, deceased) first,
#: then unreachable (with its retry date), then visited today (with the outcome), then
#: overdue (the due date has passed; never met or not), then first visit needed (never met,
#: due on its first-visit date), then due on a date.
VISIT_STATES = MappingProxyType(
    {
        "inactive": ("방문 대상 아님", "No longer a target"),
        "unreachable": ("연락 안 됨", "Unreachable"),
        "visited": ("오늘 방문함", "Visited today"),
        "overdue": ("기한 지남", "Overdue"),
        "first_visit": ("첫 방문 필요", "First visit needed"),
        "due": ("방문 예정", "Due"),
    }
)

#: Overdue periods read in bands past two weeks (issue 12): (first day of the band, 한국어,
#: English). Below the first band the exact number of days is shown. A band's index is its
#: rank for the planner (a higher band is more urgent within a tier).
OVERDUE_BANDS = (
    (1, "{days}일 지남", "{days} days overdue"),
    (14, "2주 이상 지남", "over 2 weeks overdue"),
    (30, "1개월 이상 지남", "over a month overdue"),
    (90, "3개월 이상 지남", "over 3 months overdue"),
    (180, "6개월 이상 지남", "over 6 months overdue"),
    (365, "1년 이상 지남", "over a year overdue"),
)


def overdue_band(days: int) -> int:
    """Return the index in :data:`OVERDUE_BANDS` of ``days`` overdue (-1 if not overdue)."""
    band = -1
    for index, (first_day, _ko, _en) in enumerate(OVERDUE_BANDS):
        if days >= first_day:
            band = index
    return band


def overdue_words(days: int) -> tuple[str, str]:
    """Return ``days`` overdue in words (한국어, English): exact below 14 days, then a band.

    ``overdue_words(3) == ("3일 지남", "3 days overdue")``,
    ``overdue_words(100) == ("3개월 이상 지남", "over 3 months overdue")``; 0 or less is
    ``("기한 전", "not overdue")``.
    """
    band = overdue_band(int(days))
    if band < 0:
        return "기한 전", "not overdue"
    _first, ko, en = OVERDUE_BANDS[band]
    if band == 0 and int(days) == 1:
        return "1일 지남", "1 day overdue"
    return ko.format(days=int(days)), en.format(days=int(days))


# ------------------------------------------------------------- shared support (issue 13)

#: The support taxonomy: 6 major categories (대분류). The shape (6 major, 30 minor) follows
#: Seodaemun's 고루나눔 resource-sharing system; its exact list is not published, so these are
#: our own, chosen from the items Korean community centres and agencies hand out
#: (docs/support_taxonomy.md gives the sources and the reasons).
SUPPORT_MAJOR = MappingProxyType(
    {
        "food": ("식품", "Food"),
        "daily_goods": ("생활용품", "Daily goods"),
        "cash": ("현금·상품권", "Cash and vouchers"),
        "health": ("의료·건강", "Health and medical"),
        "care": ("돌봄·서비스", "Care and services"),
        "education_culture": ("교육·문화", "Education and culture"),
    }
)

#: The 30 minor categories (소분류): code -> (major code, 한국어, English, need domain). The need
#: domain is the case-management domain of :data:`NEED_CATEGORIES` that support of this kind
#: meets (``support_records.category``).
SUPPORT_MINOR = MappingProxyType(
    {
        # food (6)
        "rice": ("food", "쌀·곡류", "Rice and grains", "daily_living"),
        "side_dishes": ("food", "밑반찬", "Side dishes", "daily_living"),
        "instant_food": ("food", "라면·즉석식품", "Instant food", "daily_living"),
        "meal_delivery": ("food", "도시락·식사 배달", "Meal delivery", "daily_living"),
        "food_parcel": ("food", "식료품 꾸러미", "Food parcel", "daily_living"),
        "holiday_parcel": ("food", "명절 선물", "Holiday parcel", "daily_living"),
        # daily goods (5)
        "hygiene": ("daily_goods", "위생용품", "Hygiene goods", "daily_living"),
        "clothing_bedding": ("daily_goods", "의류·침구", "Clothing and bedding", "daily_living"),
        "household_goods": (
            "daily_goods",
            "가전·가구",
            "Appliances and furniture",
            "living_environment",
        ),
        "heating_goods": ("daily_goods", "난방용품", "Heating goods", "living_environment"),
        "cooling_goods": ("daily_goods", "냉방용품", "Cooling goods", "living_environment"),
        # cash and vouchers (5)
        "livelihood_cash": ("cash", "생계비", "Living costs", "economic"),
        "emergency_cash": ("cash", "긴급지원금", "Emergency aid", "economic"),
        "utility_bills": ("cash", "공과금 지원", "Utility bills", "economic"),
        "rent_support": ("cash", "주거비 지원", "Rent support", "economic"),
        "vouchers": ("cash", "상품권·바우처", "Vouchers", "economic"),
        # health (4)
        "medical_costs": ("health", "의료비", "Medical costs", "health"),
        "medicine": ("health", "의약품", "Medicine", "health"),
        "assistive_devices": ("health", "보조기구", "Assistive devices", "health"),
        "health_care": ("health", "건강관리·방문간호", "Health care and home nursing", "health"),
        # care and services (5)
        "home_care": ("care", "가사·돌봄", "Home care", "daily_living"),
        "companionship": ("care", "말벗·안부확인", "Companionship and check-ins", "social"),
        "safety_services": ("care", "안전 서비스", "Safety services", "safety"),
        "housing_repair": ("care", "주거환경 개선", "Housing repair", "living_environment"),
        "counselling_legal": ("care", "상담·법률", "Counselling and legal aid", "legal"),
        # education, culture and work (5)
        "education_costs": ("education_culture", "교육비", "Education costs", "education"),
        "learning_materials": (
            "education_culture",
            "학용품·도서",
            "Learning materials",
            "education",
        ),
        "culture_leisure": ("education_culture", "문화·여가", "Culture and leisure", "social"),
        "family_programmes": ("education_culture", "가족 프로그램", "Family programmes", "family"),
        "employment_support": (
            "education_culture",
            "일자리 연계",
            "Employment support",
            "employment",
        ),
    }
)

#: How a support record was paid for.
SUPPORT_FUNDING = MappingProxyType(
    {"donation": ("후원", "Donation"), "budget": ("예산", "Public budget")}
)

#: How often recurring support recurs (NULL on a record given once).
SUPPORT_PERIODS = MappingProxyType(
    {
        "weekly": ("매주", "Weekly"),
        "monthly": ("매월", "Monthly"),
        "quarterly": ("분기마다", "Quarterly"),
        "yearly": ("매년", "Yearly"),
    }
)

#: Kinds of donor (후원처).
DONOR_KINDS = MappingProxyType(
    {
        "individual": ("개인", "Individual"),
        "company": ("기업", "Company"),
        "organisation": ("단체", "Organisation"),
        "religious": ("종교단체", "Religious body"),
        "public": ("공공기관", "Public body"),
    }
)

#: Stock movements at a community centre. ``received`` and ``transferred_in`` add to the
#: stock; ``issued`` (to a recipient), ``transferred_out``, ``expired`` (thrown away) take
#: from it; ``adjusted`` is a signed count correction.
STOCK_MOVEMENTS = MappingProxyType(
    {
        "received": ("입고", "Received"),
        "issued": ("지급", "Issued"),
        "transferred_out": ("이관 보냄", "Transferred out"),
        "transferred_in": ("이관 받음", "Transferred in"),
        "expired": ("폐기", "Discarded"),
        "adjusted": ("재고 조정", "Adjusted"),
    }
)

#: The dashboard's (종합현황판) levels: red = a duplicate or an omission now, yellow = about to
#: lapse or a near-duplicate, blue = normal.
WARNING_LEVELS = MappingProxyType(
    {"red": ("경고", "Warning"), "yellow": ("주의", "Caution"), "blue": ("정상", "Normal")}
)

#: Warning kinds -> (level, 한국어, English). The level is fixed by the kind.
WARNING_KINDS = MappingProxyType(
    {
        "duplicate": ("red", "중복 지원", "Duplicated support"),
        "near_duplicate": ("yellow", "중복 의심", "Possible duplicate"),
        "open_need": ("red", "미충족 욕구", "Unmet need"),
        "need_due_soon": ("yellow", "욕구 기한 임박", "Need about to lapse"),
        "unserved_crisis": ("red", "위기 미지원", "Crisis without support"),
        "sponsorship_ending": ("yellow", "후원 종료 예정", "Sponsorship ending"),
        "sponsorship_unpaid": ("red", "후원금 미납", "Sponsorship payment missed"),
        "stock_expiring": ("yellow", "유통기한 임박", "Stock expiring"),
        "stock_expired": ("red", "유통기한 지남", "Stock expired"),
    }
)

#: Issue 14 (복지사각지대): why a resident is on the blind-spot list -> (한국어, English).
#: ``eligible_unreached``: likely eligible for a programme of the eligibility catalogue and not
#: receiving it; ``hotspot``: high tier inside a significant hot spot; ``far_from_help``: high or
#: medium tier farther than a 15-minute walk from every community centre and welfare facility;
#: ``no_contact``: no met visit, no support and no handled signal for 12 months.
BLIND_SPOT_REASONS = MappingProxyType(
    {
        "eligible_unreached": ("수급 가능성 있으나 미수급", "Likely eligible, not receiving"),
        "hotspot": ("위기 밀집 지역", "In a risk hot spot"),
        "far_from_help": ("복지시설 도보 15분 밖", "Beyond a 15-minute walk from help"),
        "no_contact": ("12개월간 접촉 없음", "Nobody in touch for 12 months"),
    }
)

#: The units hot spots are computed on: H3 cells of resolution 9 and dongs (행정동).
HOTSPOT_UNITS = MappingProxyType(
    {"h3_9": ("H3 격자(해상도 9)", "H3 cell (resolution 9)"), "dong": ("행정동", "Dong")}
)

#: A unit's class after the false-discovery-rate correction.
HOTSPOT_CLUSTERS = MappingProxyType(
    {
        "hot": ("위험 밀집(핫스팟)", "Hot spot"),
        "cold": ("위험 희소(콜드스팟)", "Cold spot"),
        "none": ("유의하지 않음", "Not significant"),
    }
)

#: For support recorded without a minor category (files from before issue 13): the first
#: keyword found in the item names it; else the need domain's default below. Migration 0015
#: applied the same rule to the records already stored.
SUPPORT_ITEM_KEYWORDS = (
    ("명절", "holiday_parcel"),
    ("쌀", "rice"),
    ("라면", "instant_food"),
    ("밑반찬", "side_dishes"),
    ("도시락", "meal_delivery"),
    ("꾸러미", "food_parcel"),
    ("전기장판", "heating_goods"),
    ("난방", "heating_goods"),
    ("공과금", "utility_bills"),
    ("긴급", "emergency_cash"),
    ("생계", "livelihood_cash"),
    ("후원금", "livelihood_cash"),
    ("의료비", "medical_costs"),
    ("방문간호", "health_care"),
    ("건강", "health_care"),
    ("주거환경", "housing_repair"),
    ("응급안전", "safety_services"),
    ("말벗", "companionship"),
    ("안부", "companionship"),
    ("나들이", "culture_leisure"),
    ("가족", "family_programmes"),
    ("학습", "education_costs"),
    ("교재", "learning_materials"),
    ("취업", "employment_support"),
    ("자활", "employment_support"),
    ("법률", "counselling_legal"),
    ("채무", "counselling_legal"),
)
DEFAULT_MINOR_BY_DOMAIN = MappingProxyType(
    {
        "safety": "safety_services",
        "health": "health_care",
        "daily_living": "home_care",
        "family": "family_programmes",
        "social": "companionship",
        "economic": "livelihood_cash",
        "education": "education_costs",
        "employment": "employment_support",
        "living_environment": "housing_repair",
        "legal": "counselling_legal",
    }
)


def minor_category_for(item: str, domain: str) -> str:
    """Return the minor category of support recorded only with an item and a need domain."""
    for keyword, minor in SUPPORT_ITEM_KEYWORDS:
        if keyword in item:
            return minor
    return DEFAULT_MINOR_BY_DOMAIN[domain]
