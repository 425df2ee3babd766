"""Controlled vocabularies: codes stored in the database, with Korean and English labels.

Codes are stable identifiers (lower-case English); labels are chosen at the edge (UI, reports).
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
